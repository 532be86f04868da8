// The blind-spot report: each category with its finding and reports (image, answers now, the transformations that
// flip it, an occlusion heatmap), evaluation and discovery results and how to reproduce them, as one self-contained
// HTML file or Markdown with pictures beside it. Examining one image and the layout are here; reading and writing are the command's.
import Analysis
import Foundation
import Imaging
import Inference
import Models
import Transforms

public struct BlindSpotReport: Sendable {
    /// One approved report of the catalog, examined when the report is made.
    public struct Entry: Sendable {
        public let id: Int64
        public let expected: ExampleClass
        public let note: String
        public let reporter: String?
        /// The image, at most `thumbnailSide` on its longer side (JPEG, as the heatmap: small enough to inline many).
        public let image: ReportPicture
        /// Every model on the image (the first outcome) and on its transformations, judged against `expected`.
        public let probe: ProbeResult
        /// The expected class's occlusion heatmap for the first model, over that model's input.
        public let heatmap: ReportPicture
        public let heatmapModel: String
        /// What the heatmap shows, on its absolute scale (OcclusionMap.caption).
        public let heatmapCaption: String
    }

    /// A category of the catalog with its approved reports.
    public struct Section: Sendable {
        public let title: String
        public let finding: String
        public let entries: [Entry]

        public init(title: String, finding: String, entries: [Entry]) {
            self.title = title
            self.finding = finding
            self.entries = entries
        }
    }

    /// The results of one `blindspot eval` run and the file they were read from.
    public struct Evaluation: Sendable {
        public let source: String
        public let results: EvaluationResults

        public init(source: String, results: EvaluationResults) {
            self.source = source
            self.results = results
        }
    }

    /// The results of one `blindspot discover` run, the file they were read from, and the thumbnails of the files
    /// `DiscoveryReport.picturedFiles` names (empty when the images were not found).
    public struct Discovery: Sendable {
        public let source: String
        public let results: DiscoveryResults
        public let pictures: [String: ReportPicture]

        public init(source: String, results: DiscoveryResults, pictures: [String: ReportPicture]) {
            self.source = source
            self.results = results
            self.pictures = pictures
        }
    }

    /// A model that answered, and what it takes to get exactly its answers back.
    public struct ModelRecord: Sendable {
        public let name: String
        /// The weights file's name; nil when only a digest is known (from evaluation results), or nothing (discovery's).
        public let weightsFile: String?
        public let weightsDigest: String?
        public let preprocessing: Preprocessing?

        public init(name: String, weightsFile: String?, weightsDigest: String?, preprocessing: Preprocessing?) {
            self.name = name
            self.weightsFile = weightsFile
            self.weightsDigest = weightsDigest
            self.preprocessing = preprocessing
        }
    }

    public struct Provenance: Sendable {
        public let version: String
        public let date: Date
        /// As typed, with any password removed.
        public let commandLine: String
        public let models: [ModelRecord]
        /// The probe every report went through (nil without the catalog).
        public let probe: ProbePlan?

        public init(version: String, date: Date, commandLine: String, models: [ModelRecord], probe: ProbePlan?) {
            self.version = version
            self.date = date
            self.commandLine = commandLine
            self.models = models
            self.probe = probe
        }
    }

    /// The catalog's categories with approved reports; nil when the report leaves the catalog out.
    public var catalog: [Section]?
    public var evaluations: [Evaluation]
    public var discoveries: [Discovery]
    public var provenance: Provenance

    public static let thumbnailSide = 224
    /// The families a report's image is probed with unless asked otherwise: the post's failures in a few seconds.
    public static let defaultProbeFamilies: [ProbeFamily] = [.rotate, .flip, .grayscale, .blur, .noise, .cartoon, .crop, .zoomOut].map(ProbeFamily.transform)

    public init(catalog: [Section]?, evaluations: [Evaluation], discoveries: [Discovery] = [], provenance: Provenance) {
        self.catalog = catalog
        self.evaluations = evaluations
        self.discoveries = discoveries
        self.provenance = provenance
    }

    /// Examines one report's image: every classifier's answer and its transformations (`plan`, judged against the
    /// expected class), and the expected class's occlusion heatmap for the first classifier (default patches).
    public static func examine(id: Int64, image: RGBImage, expected: ExampleClass, note: String, reporter: String?,
                               classifiers: [Classifier], plan: ProbePlan) throws -> Entry {
        var plan = plan
        plan.expected = [expected.index]
        let probe = try Probe.run(image, plan: plan, classifiers: classifiers)
        let (map, input) = try classifiers[0].occlusion(of: image, classIndex: expected.index)
        let thumbnail = image.shrunk(toLongerSide: thumbnailSide, filter: .bicubic)
        let heatmap = try map.overlay(on: input)
        return Entry(
            id: id, expected: expected, note: note, reporter: reporter,
            image: ReportPicture(fileName: "report-\(id).jpg", mediaType: "image/jpeg", data: try thumbnail.jpegData(quality: 85),
                                 width: thumbnail.width, height: thumbnail.height, alt: "The image of report \(id)"),
            probe: probe,
            heatmap: ReportPicture(fileName: "report-\(id)-heatmap.jpg", mediaType: "image/jpeg", data: try heatmap.jpegData(quality: 85),
                                   width: heatmap.width, height: heatmap.height,
                                   alt: "Occlusion heatmap of \(expected.name) for \(classifiers[0].model.name)"),
            heatmapModel: classifiers[0].model.name, heatmapCaption: map.caption)
    }

    // MARK: - Rendering

    /// The whole report as one HTML file: pictures inline, no script, no outside resource.
    public func html() -> String {
        HTMLText.page(title: Self.title, head: "<link rel=\"icon\" href=\"data:,\">\n<style>\n\(ReportStyle.css)\n</style>",
                      body: ReportBlock.html(blocks()), bodyClass: "report")
    }

    /// The same report in GitHub Markdown; pictures are `images/NAME` (`pictures`), charts are left out.
    public func markdown() -> String {
        ReportBlock.markdown(blocks())
    }

    /// Every picture the Markdown refers to, to be written to `images/`.
    public var pictures: [ReportPicture] {
        (catalog ?? []).flatMap(\.entries).flatMap { [$0.image, $0.heatmap] }
            + discoveries.flatMap { $0.pictures.values.sorted { $0.fileName < $1.fileName } }
    }

    static let title = "Blind spots of ImageNet classifiers"

    func blocks() -> [ReportBlock] {
        let stamp = ISO8601DateFormatter().string(from: provenance.date)
        let sections = catalog ?? []
        var summary = "Made by Blindspot \(provenance.version) on \(stamp)."
        if catalog != nil {
            let reports = sections.map(\.entries.count).reduce(0, +)
            summary += " The catalog: \(reports) approved report\(reports == 1 ? "" : "s") in \(sections.count) categor\(sections.count == 1 ? "y" : "ies")"
                + (examiningModels.isEmpty ? "." : ", examined now by \(examiningModels.joined(separator: ", ")).")
        }
        if !evaluations.isEmpty {
            summary += " \(evaluations.count) evaluation\(evaluations.count == 1 ? "" : "s"): \(evaluations.map(\.source).joined(separator: ", "))."
        }
        if !discoveries.isEmpty {
            summary += " \(discoveries.count) discovery run\(discoveries.count == 1 ? "" : "s"): \(discoveries.map(\.source).joined(separator: ", "))."
        }
        var blocks: [ReportBlock] = [.heading(level: 1, text: Self.title), .paragraph(summary, className: "report-intro")]
        var contents: [(text: String, id: String)] = []
        if catalog != nil { contents.append((text: "Overview", id: "overview")) }
        contents += sections.enumerated().map { (text: "\($1.title) (\($1.entries.count))", id: "category-\($0 + 1)") }
        contents += evaluations.enumerated().map { (text: "Evaluation of \($1.results.dataset)", id: "evaluation-\($0 + 1)") }
        contents += discoveries.enumerated().map { (text: "Blind spots discovered in \($1.results.dataset)", id: "discovery-\($0 + 1)") }
        contents.append((text: "Reproducibility", id: "reproducibility"))
        blocks.append(.contents(contents))

        if catalog != nil {
            blocks.append(.heading(level: 2, text: "Overview", id: "overview"))
            if sections.isEmpty {
                blocks.append(.paragraph("The catalog has no approved reports yet."))
            } else {
                blocks.append(.paragraph("Every model classified each image when this report was made (the verdicts stored in the catalog "
                    + "were not used). A blind spot holds for a model when the expected class is not its first choice."))
                blocks.append(.table(overviewTable(sections)))
            }
        }
        for (index, section) in sections.enumerated() {
            var parts: [ReportBlock] = [.heading(level: 2, text: section.title, id: "category-\(index + 1)")]
            if !section.finding.isEmpty { parts.append(.paragraph(section.finding, className: "category-finding")) }
            parts += section.entries.map { ReportBlock.container(tag: "article", className: "report-entry", blocks: entryBlocks($0)) }
            blocks.append(.container(tag: "section", className: "catalog-category", blocks: parts))
        }
        for (index, evaluation) in evaluations.enumerated() {
            var parts = EvaluationReport.blocks(evaluation.results, headingLevel: 2, id: "evaluation-\(index + 1)")
            parts.insert(.paragraph("From \(evaluation.source).", className: "hint"), at: 1)
            blocks.append(.container(tag: "section", className: "eval-report", blocks: parts))
        }
        for (index, discovery) in discoveries.enumerated() {
            var parts: [ReportBlock] = [.heading(level: 2, text: "Blind spots discovered in \(discovery.results.dataset)", id: "discovery-\(index + 1)"),
                                        .paragraph("From \(discovery.source).", className: "hint")]
            if discovery.pictures.isEmpty && !DiscoveryReport.picturedFiles(discovery.results).isEmpty {
                parts.append(.paragraph("No thumbnails: the images were not found where the results say (\(discovery.results.dataset)).", className: "hint"))
            }
            parts += DiscoveryReport.blocks(discovery.results, headingLevel: 3, pictures: discovery.pictures, idPrefix: "discovery-\(index + 1)-")
            blocks.append(.container(tag: "section", className: "discovery-report", blocks: parts))
        }
        blocks.append(.container(tag: "section", className: "reproducibility", blocks: reproducibilityBlocks()))
        return blocks
    }

    /// The models that examined the catalog, in their order.
    var examiningModels: [String] {
        catalog?.first { !$0.entries.isEmpty }?.entries[0].probe.models.map(\.model) ?? []
    }

    func overviewTable(_ sections: [Section]) -> ReportTable {
        let models = examiningModels
        return ReportTable(
            caption: "Reports whose blind spot still holds, per category and model",
            columns: ["Category", "Reports"] + models,
            rows: sections.map { section in
                ReportTable.Row(header: .init(section.title), cells: [ReportTable.Cell(String(section.entries.count))] + models.indices.map { position in
                    let fooled = section.entries.count { $0.probe.models[position].outcomes[0].expected.map { $0.rank > 1 } ?? true }
                    return ReportTable.Cell("holds for \(fooled) of \(section.entries.count)", style: fooled == 0 ? "ok" : "flip")
                })
            },
            numericColumns: [1])
    }

    func entryBlocks(_ entry: Entry) -> [ReportBlock] {
        var blocks: [ReportBlock] = [
            .heading(level: 3, text: "Report \(entry.id): \(entry.expected.name)"),
            .figures([
                (entry.image, "The image, expected to be a \(entry.expected.name) (class \(entry.expected.index)).", "entry-image"),
                (entry.heatmap, "Where \(entry.heatmapModel) looks for \(entry.expected.name), greying out one patch at a time. "
                    + entry.heatmapCaption, "entry-heatmap"),
            ]),
        ]
        if !entry.note.isEmpty { blocks.append(.paragraph(entry.note, className: "entry-note")) }
        if let reporter = entry.reporter { blocks.append(.paragraph("Reported by \(reporter).", className: "hint")) }
        blocks.append(.table(answersTable(entry.probe)))
        blocks.append(.rendered(html: ProbeReport.summaryTable(entry.probe, linkingFamilies: false), markdown: probeTable(entry.probe).markdown()))
        blocks += restorations(entry.probe).map { ReportBlock.paragraph($0, className: "hint") }
        return blocks
    }

    func answersTable(_ probe: ProbeResult) -> ReportTable {
        ReportTable(
            caption: "What each model answers",
            columns: ["Model", "First three answers", "Expected class"],
            rows: probe.models.map { model in
                let original = model.outcomes[0]
                let rank = original.expected?.rank ?? 0
                return ReportTable.Row(header: .init(model.model), cells: [
                    .init(original.top.map { "\($0.label) \(Percent.text($0.probability))" }.joined(separator: ", ")),
                    .init(rank == 1 ? "first: answered right" : "rank \(rank): blind spot holds",
                          note: original.expected.map { Percent.text($0.probability) }, style: rank == 1 ? "ok" : "flip"),
                ])
            })
    }

    /// ProbeReport's summary table, as data for Markdown.
    func probeTable(_ probe: ProbeResult) -> ReportTable {
        var rows = [ReportTable.Row(header: .init("Original"), cells: probe.models.map { model in
            let outcome = model.outcomes[0]
            return .init(ProbeReport.originalText(outcome))
        })]
        for family in probe.families {
            rows.append(ReportTable.Row(header: .init(family.title), cells: probe.models.map { model in
                guard family.notApplicable == nil, let summary = model.families.first(where: { $0.family == family.family }) else {
                    return .init("not applicable")
                }
                return .init(ProbeReport.cellText(summary, originalHit: model.originalHit))
            }))
        }
        return ReportTable(caption: ProbeReport.summaryCaption,
                           columns: ["Transformation"] + probe.models.map(\.model), rows: rows)
    }

    /// For each model that misses the original, the probe's sentence: which transformations bring the expected class back.
    func restorations(_ probe: ProbeResult) -> [String] {
        probe.models.filter { !$0.originalHit }.map { probe.sentence(for: $0) + "." }
    }

    func reproducibilityBlocks() -> [ReportBlock] {
        var blocks: [ReportBlock] = [
            .heading(level: 2, text: "Reproducibility", id: "reproducibility"),
            .table(ReportTable(
                caption: "The models: weights (SHA-256 of the file) and preprocessing",
                columns: ["Model", "Input", "Preprocessing", "Weights", "SHA-256"],
                rows: provenance.models.map { model in
                    ReportTable.Row(header: .init(model.name), cells: [
                        .init(model.preprocessing.map { "\($0.outputWidth)×\($0.outputHeight)" } ?? "unknown"),
                        .init(model.preprocessing.map(Self.describe) ?? "unknown"),
                        .init(model.weightsFile ?? (model.weightsDigest == nil ? "not recorded" : "as in the evaluation results")),
                        .init(model.weightsDigest ?? "unknown", style: "digest"),
                    ])
                },
                className: "models")),
        ]
        var facts = [
            "Blindspot \(provenance.version), report made on \(ISO8601DateFormatter().string(from: provenance.date)).",
            "Command: \(provenance.commandLine)",
        ]
        if let plan = provenance.probe {
            facts.append("Probe: families \(plan.families.map(\.rawValue).joined(separator: ", ")), seed \(plan.seed), transformations applied to a copy "
                + "whose shorter side is at most \(plan.workingShorterSide) px; a variant flips when a model's first choice is not the expected class.")
            facts.append("Heatmaps: occlusion of the expected class by a mid-grey patch a fifth of the input side, about 10 × 10 positions "
                + "(the defaults of blindspot explain), on the first model's input.")
            facts.append("Answers: every model classified every image when this report was made (the catalog's stored verdicts were not used).")
        }
        blocks.append(.list(facts))
        return blocks
    }

    /// "shorter side to 342 (bilinear), centre crop 299, (p/255 − 0.5)/0.5", as the README's table says it.
    static func describe(_ preprocessing: Preprocessing) -> String {
        let geometry = switch preprocessing.geometry {
        case let .resizeShorterSideThenCenterCrop(resize, crop, filter): "shorter side to \(resize) (\(filter.rawValue)), centre crop \(crop)"
        case let .centerCropFractionThenResize(numerator, denominator, size, filter):
            "centre crop \(numerator)/\(denominator) of the shorter side, \(filter.rawValue) to \(size)"
        case let .exactSize(width, height): "exactly \(width)×\(height), no resizing"
        }
        func channels(_ values: SIMD3<Float>) -> String {
            let texts = (0..<3).map { String(format: "%g", Double(values[$0])) }
            return Set(texts).count == 1 ? texts[0] : "(" + texts.joined(separator: ", ") + ")"
        }
        let normalization = switch preprocessing.normalization {
        case let .unitScaleThenStandardize(mean, deviation): "(p/255 − \(channels(mean)))/\(channels(deviation))"
        case let .standardize(mean, deviation): "(p − \(channels(mean)))/\(channels(deviation))"
        }
        return geometry + ", " + normalization
    }
}
