// The demo page's HTML: image in (pick, drop, paste, camera), edit, classify, compare, probe, explain, flag, and the
// post's examples. Behaviour is /static/app.js's, data in the JSON block #page-data (no inline script). Markup joined
// from a `map` is declared `String`, so that GRDB's SQL `joined` (visible through Catalog) is never inferred.
import Catalog
import Curation
import Foundation
import Imaging
import Models
import Transforms

struct DemoPage {
    let models: [ModelSummary]
    let gallery: ExampleGallery
    let selectedExample: Example?
    let labels: ImageNetLabels
    let limits: UploadLimits
    /// The catalog's categories, for the flag dialog.
    let categories: [Category]

    /// The image types the classify endpoint accepts, as the file picker's `accept` and the limits line name them.
    static let acceptedTypes = ["image/png", "image/jpeg", "image/webp", "image/gif"]

    func render() -> String {
        let title = selectedExample.map { "\($0.title), example \($0.id) · Blindspot" }
            ?? "Blindspot · What image classifiers don't see"
        let body = [
            intro,
            selectedExample.map(exampleBanner) ?? "",
            "<div class=\"workspace\">",
            imagePanel,
            resultPanel,
            "</div>",
            compareSection,
            explainSection,
            probeSection,
            flagDialog,
            Self.classDatalist(labels),
            examplesSection,
            pageData,
        ].filter { !$0.isEmpty }.joined(separator: "\n")
        return HTML.document(title: title, body: body, scripts: ["app.js"])
    }

    // MARK: - Data for the script

    private var availableModels: [ModelSummary] { models.filter(\.available) }

    /// The model selected at first.
    private var defaultModel: ModelSummary? { models.answeringByDefault }

    /// What app.js needs that the markup does not say: the models to compare, the selected example, the body limit.
    private struct PageData: Encodable {
        struct Model: Encodable {
            let name: String
        }

        struct SelectedExample: Encodable {
            let file: String
            let imagePath: String
            let imageAvailable: Bool
            let expected: [ExampleClass]
        }

        let models: [Model]
        let example: SelectedExample?
        let maximumBodyBytes: Int
        /// The server's pixel limit, and the longest side the page sends: bigger images are scaled down first.
        let maximumMegapixels: Double
        let maximumSide: Int
    }

    /// The page's data as JSON inside a non-executed script element; `<` is escaped so no text can end the element.
    private var pageData: String {
        let data = PageData(
            models: availableModels.map { PageData.Model(name: $0.name) },
            example: selectedExample.map { example in
                PageData.SelectedExample(file: example.file, imagePath: Self.imagePath(of: example),
                                         imageAvailable: gallery.imageFile(of: example) != nil, expected: example.expected)
            },
            maximumBodyBytes: limits.maximumBodyBytes, maximumMegapixels: limits.maximumMegapixels,
            maximumSide: UploadLimits.sentLongestSide)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain values cannot fail; an empty object keeps the page working without examples.
        let json = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "<script type=\"application/json\" id=\"page-data\">\(json.replacingOccurrences(of: "<", with: "\\u003c"))</script>"
    }

    private static func pagePath(of example: Example) -> String { "/examples/\(example.id)" }
    private static func imagePath(of example: Example) -> String { "/examples/\(example.id)/image" }

    // MARK: - Sections

    private var intro: String {
        """
        <section class="intro" aria-labelledby="page-title">
        <h1 id="page-title">What does the classifier see?</h1>
        <p class="lede">Give an ImageNet classifier an image and see its five best guesses, how sure it is, \
        and where it goes wrong. A recreation of the demo from the 2021 post \
        <cite>What Inception Net Doesn’t See</cite>.</p>
        </section>
        """
    }

    private func exampleBanner(_ example: Example) -> String {
        let accepted: String = example.expected.map { HTML.escape($0.name) }.joined(separator: ", ")
        let missing = gallery.imageFile(of: example) == nil
            ? "<p class=\"notice\">The image of this example (\(HTML.escape(example.file))) is missing. \(whereToPutImages)</p>"
            : ""
        return """
        <section class="example-banner" aria-labelledby="example-title">
        <p class="eyebrow">Example \(example.id) from the post</p>
        <h2 id="example-title">\(HTML.escape(example.title))</h2>
        <p class="finding">\(HTML.escape(example.finding))</p>
        <p class="accepted">Counts as right: \(accepted)</p>
        \(missing)
        \(HTML.shareBox(label: "Link to this example", path: Self.pagePath(of: example)))
        </section>
        """
    }

    private var imagePanel: String {
        let types = Self.acceptedTypes.joined(separator: ",")
        return """
        <section class="panel image-panel" aria-labelledby="image-title">
        <h2 id="image-title"><span class="step" aria-hidden="true">1</span> Image</h2>
        <div id="drop-zone" class="drop-zone">
        <p class="drop-lead">Drop an image here, paste one from the clipboard, or</p>
        <div class="drop-actions">
        <input type="file" id="file-input" class="visually-hidden" accept="\(HTML.escape(types))">
        <label for="file-input" class="button primary file-button">Choose a file</label>
        <button type="button" id="camera-open" class="button secondary">Use the camera</button>
        </div>
        <p id="limits" class="limits">\(HTML.escape(limitsText))</p>
        </div>
        <div id="camera" class="camera" hidden>
        <video id="camera-video" playsinline muted aria-label="Camera preview"></video>
        <div class="toolbar">
        <button type="button" id="camera-snap" class="button primary">Take snapshot</button>
        <button type="button" id="camera-close" class="button secondary">Close camera</button>
        </div>
        </div>
        <div id="editor" class="editor" hidden>
        <div class="stage-wrap">
        <div id="stage" class="stage">
        <canvas id="canvas" tabindex="0" role="img" aria-label="The image to classify" aria-describedby="crop-hint"></canvas>
        <div id="crop-box" class="crop-box" hidden></div>
        </div>
        </div>
        <p id="image-info" class="image-info"></p>
        <div class="toolbar edit-tools" role="toolbar" aria-label="Edit the image">
        <button type="button" id="rotate-left" class="tool">Rotate left</button>
        <button type="button" id="rotate-right" class="tool">Rotate right</button>
        <button type="button" id="flip-horizontal" class="tool">Flip horizontally</button>
        <button type="button" id="flip-vertical" class="tool">Flip vertically</button>
        <button type="button" id="crop-apply" class="tool" disabled>Crop to selection</button>
        <button type="button" id="crop-square" class="tool">Crop to centre square</button>
        <button type="button" id="undo" class="tool" disabled>Undo</button>
        <button type="button" id="reset" class="tool" disabled>Reset</button>
        </div>
        <p id="crop-hint" class="hint">To crop, drag a rectangle on the image, or focus the image and use the arrow keys \
        (Shift + arrows resizes, Enter crops, Escape cancels).</p>
        </div>
        </section>
        """
    }

    /// "PNG, JPEG, WebP or GIF · the server takes up to 20 MB and 50 megapixels; bigger photos are made smaller here first".
    private var limitsText: String {
        "PNG, JPEG, WebP or GIF · the server takes up to \(Self.formatBytes(limits.maximumBodyBytes)) and "
            + "\(Self.formatNumber(limits.maximumMegapixels)) megapixels; bigger photos are made smaller here first"
    }

    private var modelSelector: String {
        let options: String
        if availableModels.isEmpty {
            options = "<option value=\"\">No model available</option>"
        } else {
            options = availableModels.map { model in
                let selected = model.name == defaultModel?.name ? " selected" : ""
                let suffix = model.isDefault ? " (default)" : ""
                return "<option value=\"\(HTML.escape(model.name))\"\(selected)>\(HTML.escape(model.name))\(suffix) · \(model.inputSize) px</option>"
            }.joined(separator: "\n")
        }
        let unavailable = models.filter { !$0.available }
        let unavailableNote = unavailable.isEmpty ? "" : """
            <p class="hint" id="other-models">Other models Blindspot knows, not loaded here: \(unavailable.map { HTML.escape($0.name) }.joined(separator: ", ")).</p>
            """
        let noModelNote = availableModels.isEmpty
            ? "<p class=\"notice\">No model is available on this server, so images cannot be classified yet.</p>"
            : ""
        return """
        <div class="field">
        <label for="model-select">Model</label>
        <select id="model-select" name="model"\(availableModels.isEmpty ? " disabled" : "")>
        \(options)
        </select>
        \(postModelNote)
        \(unavailableNote)
        \(noModelNote)
        </div>
        """
    }

    /// The model of the post, whose answers the examples show.
    static let postModel = "inception_v3"

    /// Says plainly when the post's model is known but not offered here, and how to add it.
    private var postModelNote: String {
        guard let post = models.first(where: { $0.name == Self.postModel }), !post.available else { return "" }
        let why = post.source == "not present"
            ? "its weights are not installed on this server. To add them: <code>blindspot models fetch \(Self.postModel)</code> "
                + "(then restart the server), or start it with <code>--weights \(Self.postModel)=FILE</code>."
            : "this server was not started with it; add it to <code>--models</code>."
        return """
            <p class="notice" id="post-model-note">Inception v3 (<code>\(Self.postModel)</code>), the model of the post, \
            is not available here: \(why) The post’s answers are shown beside the examples for comparison.</p>
            """
    }

    private var resultPanel: String {
        """
        <section class="panel result-panel" aria-labelledby="result-title">
        <h2 id="result-title"><span class="step" aria-hidden="true">2</span> Classify</h2>
        \(modelSelector)
        <div class="field expected-field">
        <label for="expected-class">Expected class <span class="optional">(optional)</span></label>
        <input id="expected-class" type="text" list="imagenet-classes" autocomplete="off" spellcheck="false" \
        aria-describedby="expected-class-hint">
        <div id="expected-suggestions" class="suggestions" role="group" aria-label="Did you mean" hidden></div>
        <p id="expected-class-hint" class="hint">What the image really shows (several separated by commas): Submit shows \
        its rank, Explain and Flag can use it, and Probe counts a copy as flipped when its first choice is none of them.</p>
        </div>
        <div class="actions">
        <button type="button" id="clear" class="button secondary">Clear</button>
        <button type="button" id="submit" class="button primary" disabled>Submit</button>
        <button type="button" id="flag" class="button secondary" disabled aria-haspopup="dialog">Flag</button>
        <button type="button" id="compare" class="button secondary" disabled>Compare all models</button>
        </div>
        <div id="error" class="error" role="alert"></div>
        <p id="flag-confirmation" class="confirmation" role="status"></p>
        <div id="result" class="result" aria-live="polite">
        <p class="placeholder">Choose an image, then press Submit to see what the model sees.</p>
        </div>
        \(selectedExample.map(reportedPanel) ?? "")
        \(analysisControls)
        </section>
        """
    }

    /// Probe and Explain, with what they take: the expected class (app.js fills in the example's), the explanation's
    /// method, every model at once (when there are several), and the families to probe: Blindspot's, all chosen, and
    /// ImageNet-C's corruptions, none chosen.
    private var analysisControls: String {
        let families = ProbeFamily.standard
        func checkboxes(_ families: [ProbeFamily], name: String, checked: Bool) -> String {
            families.map { family in
                """
                <label class="check"><input type="checkbox" name="\(name)" value="\(HTML.escape(family.rawValue))" \
                data-variants="\(family.levels.count)"\(common(family) ? " data-common" : "")\(checked ? " checked" : "")> \(HTML.escape(family.name))</label>
                """
            }.joined(separator: "\n")
        }
        /// One of the 15 corruptions mCE averages over.
        func common(_ family: ProbeFamily) -> Bool { family.corruption.map(Corruption.common.contains) ?? false }
        let variants = 1 + families.map(\.levels.count).reduce(0, +)
        let everyModel = availableModels.count < 2 ? "" : """
            <div class="check-field">
            <label class="check"><input type="checkbox" id="analysis-all-models"> Every model, side by side</label>
            </div>
            """
        return """
        <div class="analysis" role="group" aria-labelledby="analysis-title">
        <h3 id="analysis-title">Look closer</h3>
        <p class="hint"><strong>Probe</strong> classifies \(variants) copies of the image (turned, blurred, recoloured, \
        cropped…) and shows where the answer flips. <strong>Explain</strong> greys out one part of the image at a time \
        and maps how much the answer depends on each.</p>
        <div class="analysis-options">
        <div class="field">
        <label for="explain-class">Explain</label>
        <select id="explain-class">
        <option value="answer" selected>the answer</option>
        <option value="expected" disabled>the expected class</option>
        </select>
        </div>
        <div class="field">
        <label for="explain-method">Explain by greying out</label>
        <select id="explain-method">
        <option value="patches" selected>Squares (patches)</option>
        <option value="superpixels">Regions of similar colour (superpixels)</option>
        </select>
        </div>
        \(everyModel)
        </div>
        <details class="families">
        <summary>Transformations to probe: <span id="families-count">all \(families.count)</span></summary>
        <fieldset>
        <legend class="visually-hidden">Transformations to probe</legend>
        <div class="family-checks">
        \(checkboxes(families, name: "family", checked: true))
        </div>
        <div class="toolbar">
        <button type="button" id="families-all" class="tool">Select all</button>
        <button type="button" id="families-none" class="tool">Select none</button>
        </div>
        </fieldset>
        <fieldset>
        <legend>ImageNet-C's corruptions, as published: 5 severities each, on the image's 224 × 224 ImageNet-C crop</legend>
        <div class="family-checks">
        \(checkboxes(Corruption.allCases.map(ProbeFamily.corruption), name: "corruption", checked: false))
        </div>
        <div class="toolbar">
        <button type="button" id="corruptions-common" class="tool">The 15 of mCE</button>
        <button type="button" id="corruptions-none" class="tool">None</button>
        </div>
        </fieldset>
        </details>
        <div class="actions">
        <button type="button" id="probe" class="button secondary" disabled aria-controls="probe-section">Probe</button>
        <button type="button" id="explain" class="button secondary" disabled aria-controls="explain-section">Explain</button>
        </div>
        </div>
        """
    }

    /// What the post's Inception v3 answered for the selected example, beside the live result.
    private func reportedPanel(_ example: Example) -> String {
        let rows: String = example.reportedTop3.map { prediction in
            let percent = "\(Self.formatNumber(prediction.probability * 100))%"
            return """
            <li><span class="name">\(HTML.escape(prediction.name))</span><span class="pct">\(percent)</span>\
            <span class="bar-track"><span class="bar" data-probability="\(prediction.probability)"></span></span></li>
            """
        }.joined(separator: "\n")
        return """
        <aside id="reported" class="reported" aria-labelledby="reported-title">
        <h3 id="reported-title">What the post’s Inception v3 answered</h3>
        <ol class="predictions reported-top3">
        \(rows)
        </ol>
        </aside>
        """
    }

    private var compareSection: String {
        """
        <section id="compare-section" class="compare-section" aria-labelledby="compare-title" hidden>
        <h2 id="compare-title">Every model on this image</h2>
        <div id="compare-grid" class="compare-grid" aria-live="polite"></div>
        </section>
        """
    }

    /// Where Explain shows its heatmaps, one per model; app.js fills it in and moves the focus to its heading.
    private var explainSection: String {
        """
        <section id="explain-section" class="panel analysis-section" aria-labelledby="explain-title" hidden>
        <h2 id="explain-title" tabindex="-1">Explanation</h2>
        <p class="hint">Each part of the image, as the model sees it, was greyed out in turn; under each heatmap, what \
        its colours mean.</p>
        <p id="explain-status" class="analysis-status" role="status"></p>
        <div id="explain-error" class="error" role="alert"></div>
        <div id="explain-output" class="analysis-output"></div>
        </section>
        """
    }

    /// Where Probe shows the server's report (an HTML fragment styled by /static/report.css); app.js fills it in and
    /// moves the focus to its heading.
    private var probeSection: String {
        """
        <section id="probe-section" class="panel analysis-section" aria-labelledby="probe-title" hidden>
        <h2 id="probe-title" tabindex="-1">Probe results</h2>
        <p id="probe-status" class="analysis-status" role="status"></p>
        <div id="probe-error" class="error" role="alert"></div>
        <div id="probe-output" class="analysis-output"></div>
        </section>
        """
    }

    /// The ImageNet class names as the suggestions of a text input (`list="imagenet-classes"`), each name once.
    static func classDatalist(_ labels: ImageNetLabels) -> String {
        var seen = Set<String>()
        let names = (0..<labels.count).map { labels[$0].name }.filter { seen.insert($0).inserted }
        let options: String = names.map { "<option value=\"\(HTML.escape($0))\"></option>" }.joined()
        return "<datalist id=\"imagenet-classes\">\(options)</datalist>"
    }

    private var flagDialog: String {
        let categoryOptions: String = categories.map {
            "<option value=\"\(HTML.escape($0.slug))\">\(HTML.escape($0.title))</option>"
        }.joined(separator: "\n")
        return """
        <dialog id="flag-dialog" class="flag-dialog" aria-labelledby="flag-title">
        <form id="flag-form" novalidate>
        <h2 id="flag-title">Flag a blind spot</h2>
        <p class="hint">Say what the image really shows. The image as it is shown, with your edits, is sent with the report; \
        it is listed in the <a href="/blindspots">catalog</a> once a moderator approves it.</p>
        <div class="field">
        <label for="flag-class">Correct class</label>
        <input id="flag-class" name="expected" type="text" list="imagenet-classes" required autocomplete="off" \
        spellcheck="false" aria-describedby="flag-class-hint">
        <div id="flag-suggestions" class="suggestions" role="group" aria-label="Did you mean" hidden></div>
        <p id="flag-class-hint" class="hint">One of the \(labels.count) ImageNet classes; start typing for suggestions.</p>
        </div>
        <div class="field-row">
        <div class="field">
        <label for="flag-category">Category <span class="optional">(optional)</span></label>
        <select id="flag-category" name="category">
        <option value="">None</option>
        \(categoryOptions)
        </select>
        </div>
        <div class="field">
        <label for="flag-new-category">or a new category</label>
        <input id="flag-new-category" name="newCategory" type="text" maxlength="\(CatalogLimits.categoryTitleLength)" \
        autocomplete="off">
        </div>
        </div>
        <div class="field">
        <label for="flag-note">Note <span class="optional">(optional)</span></label>
        <textarea id="flag-note" name="note" maxlength="\(CatalogLimits.noteLength)" rows="4"></textarea>
        </div>
        <div class="field">
        <label for="flag-reporter">Your name <span class="optional">(optional, shown with the report)</span></label>
        <input id="flag-reporter" name="reporter" type="text" maxlength="\(CatalogLimits.reporterLength)" autocomplete="nickname">
        </div>
        <div id="flag-error" class="error" role="alert"></div>
        <div class="actions">
        <button type="submit" id="flag-submit" class="button primary">Submit flag</button>
        <button type="button" id="flag-cancel" class="button secondary">Cancel</button>
        </div>
        </form>
        </dialog>
        """
    }

    private var examplesSection: String {
        let categories: String = gallery.categories.map(categoryCard).joined(separator: "\n")
        let source: String = gallery.source.map { "<p class=\"source\">Source: \(HTML.escape($0)).</p>" } ?? ""
        return """
        <section id="examples" class="examples" aria-labelledby="examples-title">
        <h2 id="examples-title">Blind spots from the post</h2>
        <p class="lede">The images the post <cite>What Inception Net Doesn’t See</cite> found Inception v3 getting wrong. \
        Pick one to see how the models here do.</p>
        \(galleryNotice)
        \(categories.isEmpty ? "" : "<div class=\"categories\">\n\(categories)\n</div>")
        \(source)
        </section>
        """
    }

    /// Says so when some or all of the example images are not there.
    private var galleryNotice: String {
        if gallery.examples.isEmpty {
            return "<p class=\"notice\">No examples here yet. \(whereToPutImages)</p>"
        }
        let missing = gallery.examples.filter { gallery.imageFile(of: $0) == nil }
        guard !missing.isEmpty else { return "" }
        return "<p class=\"notice\">\(missing.count) of \(gallery.examples.count) example images are missing. \(whereToPutImages)</p>"
    }

    /// Where the example images go, and how to choose another folder.
    private var whereToPutImages: String {
        "Put the images, with the \(ExampleGallery.descriptionFile) that describes them, in "
            + "<code>\(HTML.escape(gallery.directory.path))</code>; <code>blindspot serve --examples DIR</code> chooses another folder."
    }

    private func categoryCard(_ category: ExampleCategory) -> String {
        let thumbnails: String = category.examples.map { example in
            let title = HTML.escape(example.title)
            guard gallery.imageFile(of: example) != nil else {
                return "<li><div class=\"thumb thumb-missing\"><span>\(HTML.escape(example.file)) is missing</span></div>"
                    + "<span class=\"caption\">Example \(example.id)</span></li>"
            }
            let current = example.id == selectedExample?.id ? " aria-current=\"page\"" : ""
            return """
            <li><a class="thumb-link" href="\(HTML.escape(Self.pagePath(of: example)))"\(current)>\
            <img class="thumb" src="\(HTML.escape(Self.imagePath(of: example)))" alt="\(title)" loading="lazy">\
            <span class="caption">Example \(example.id)</span></a></li>
            """
        }.joined(separator: "\n")
        return """
        <article class="category" aria-labelledby="category-\(HTML.escape(category.slug))">
        <h3 id="category-\(HTML.escape(category.slug))">\(HTML.escape(category.title))</h3>
        <p class="finding">\(HTML.escape(category.finding))</p>
        <ul class="thumbs">
        \(thumbnails)
        </ul>
        </article>
        """
    }

    // MARK: - Numbers as text

    /// A byte count in the largest whole unit that reads well: "20 MB", "512 KB", "900 bytes" (units of 1024).
    static func formatBytes(_ bytes: Int) -> String {
        ByteCount.readable(bytes)
    }

    /// At most one decimal, and none when it would be zero: 40, 12.5.
    static func formatNumber(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
