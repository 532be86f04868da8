// Discovery's results as a self-contained HTML page or GitHub Markdown: per model a table of its slices, a map of its
// features, one card per slice (numbers, eight thumbnails, confusions, intervention) and the suspect labels.
import Analysis
import Foundation
import Imaging

public enum DiscoveryReport {
    /// Thumbnails shown per slice.
    public static let picturesPerSlice = 8
    /// Suspect labels listed per model.
    public static let listedSuspects = 24

    /// The files whose thumbnails the report shows: each slice's first members and the listed suspect labels.
    public static func picturedFiles(_ results: DiscoveryResults) -> [String] {
        var files: [String] = []
        for model in results.models {
            for slice in model.slices { files += slice.members.prefix(picturesPerSlice) }
            files += model.suspectLabels.prefix(listedSuspects).map(\.file)
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }
    }

    /// A complete page, readable offline (pictures inline) and in print.
    public static func document(_ results: DiscoveryResults, pictures: [String: ReportPicture], date: Date = Date()) -> String {
        let stamp = ISO8601DateFormatter().string(from: date)
        return HTMLText.page(title: "Blind spots discovered in \(results.dataset)", head: "<link rel=\"icon\" href=\"data:,\">\n<style>\n\(ReportStyle.css)\n</style>", body: """
        <h1>Blind spots discovered</h1>
        <p class="hint">Made by Blindspot on \(HTMLText.escape(stamp)).</p>
        \(ReportBlock.html(blocks(results, headingLevel: 2, pictures: pictures)))
        """, bodyClass: "report")
    }

    /// The same in GitHub Markdown; pictures are files in `images/` beside it.
    public static func markdown(_ results: DiscoveryResults, pictures: [String: ReportPicture]) -> String {
        "# Blind spots discovered\n\n" + ReportBlock.markdown(blocks(results, headingLevel: 2, pictures: pictures))
    }

    static let percent = Percent.whole

    /// "[0.42, 2.5]" for an interval of two bounds, each written by `format`; nothing for anything else.
    public static func interval(_ bounds: [Double], _ format: (Double) -> String) -> String {
        bounds.count == 2 ? "[\(format(bounds[0])), \(format(bounds[1]))]" : ""
    }

    /// A lift with two decimals ("2.48"), "∞" for an unbounded one.
    public static func ratio(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "∞" }

    /// The page's blocks; `idPrefix` starts every anchor id, so that several results can share one report.
    static func blocks(_ results: DiscoveryResults, headingLevel: Int, pictures: [String: ReportPicture], idPrefix: String = "") -> [ReportBlock] {
        var blocks: [ReportBlock] = [
            .paragraph("\(results.images) images of \(results.dataset). Slices were searched on a seeded, class-stratified \(percent(1 - results.holdout)) "
                + "of the images (seed \(results.seed)) and checked on the other \(percent(results.holdout)); a slice is confirmed when its error lift's "
                + "lower bound on the held-out images exceeds 1 (95% family-wise). Slices hold at least \(results.minimumSize) images on the half they were found on."),
        ]
        for model in results.models {
            let confirmed = model.slices.filter(\.confirmed).count
            blocks.append(.heading(level: headingLevel, text: model.model, id: "\(idPrefix)model-\(model.model)"))
            blocks.append(.paragraph("\(percent(model.errorRate)) of the images are misclassified (\(percent(model.heldOutErrorRate)) of the held-out half); "
                + "\(confirmed) of \(model.slices.count) slices are confirmed; "
                + (model.suspectLabels.count == 1 ? "1 image looks mislabelled and is left out." : "\(model.suspectLabels.count) images look mislabelled and are left out.")))
            if !model.slices.isEmpty { blocks.append(.table(summary(model))) }
            if let map = map(model, records: results.records) { blocks.append(map) }
            for slice in model.slices {
                blocks.append(card(slice, model: model.model, headingLevel: headingLevel + 1, pictures: pictures, id: "\(idPrefix)\(model.model)-\(slice.id)"))
            }
            if !model.suspectLabels.isEmpty { blocks += suspects(model, headingLevel: headingLevel + 1, pictures: pictures, id: "\(idPrefix)\(model.model)-suspects") }
        }
        return blocks
    }

    static func summary(_ model: ModelDiscovery) -> ReportTable {
        ReportTable(caption: "\(model.model): slices, confirmed first, by held-out lift × size",
                    columns: ["slice", "status", "description", "held-out images", "error", "lift"],
                    rows: model.slices.map { slice in
                        ReportTable.Row(header: .init(slice.id), cells: [
                            .init(slice.confirmed ? "confirmed" : "not confirmed", style: slice.confirmed ? "flip" : nil),
                            .init(slice.description),
                            .init(String(slice.heldOut.size)),
                            .init(percent(slice.heldOut.errorRate), note: interval(slice.heldOut.errorRateCI, percent)),
                            .init(ratio(slice.heldOut.lift), note: interval(slice.heldOut.liftCI, ratio)),
                        ])
                    }, numericColumns: [3, 4, 5])
    }

    /// The model's features on their first two principal components, errors and the first slices marked.
    static func map(_ model: ModelDiscovery, records: [DiscoveryRecord]) -> ReportBlock? {
        guard let points = model.map, points.count == records.count, model.answers.count == records.count, !records.isEmpty else { return nil }
        let positions = Dictionary(records.enumerated().map { ($1.file, $0) }, uniquingKeysWith: { first, _ in first })
        let map = EmbeddingMap(points: points, wrong: zip(records, model.answers).map { $0.label != $1.predicted },
                               groups: model.slices.map { EmbeddingMap.Group(id: $0.id, members: $0.members.compactMap { positions[$0] }, confirmed: $0.confirmed) })
        let title = "\(model.model): every image on the first two principal components of its features"
        let sampled = map.stride > 1 ? " Every \(map.stride)th image is drawn." : ""
        let caption = "\(title). Grey: right; red: wrong. Rings: the members of slices \(map.groups.map(\.id).joined(separator: ", ")) "
            + "(dashed when not confirmed).\(sampled) Images far from the rest sit on the edge."
        return .rendered(html: "<figure class=\"report-chart discovery-map\">\(map.svg(title: title))<figcaption>\(HTMLText.escape(caption))</figcaption></figure>",
                         markdown: "_The map of \(model.model)'s features is in the HTML page._\n\n")
    }

    static func card(_ slice: Slice, model: String, headingLevel: Int, pictures: [String: ReportPicture], id: String) -> ReportBlock {
        var blocks: [ReportBlock] = [
            .heading(level: headingLevel, text: "\(slice.id): \(slice.description)", id: id),
            .paragraph(numbers(slice)),
        ]
        if let intervention = slice.intervention {
            blocks.append(.paragraph("Intervention: \(intervention.finding).", className: intervention.causes ? "finding" : "hint"))
        }
        if !slice.transfer.isEmpty {
            blocks.append(.paragraph("Every model on its held-out images: " + slice.transfer.map {
                "\($0.model) \(percent($0.heldOutErrorRate)) wrong (lift \(ratio($0.lift)))"
            }.joined(separator: "; ") + "."))
        }
        if !slice.confusions.isEmpty {
            blocks.append(.list(slice.confusions.map { "\($0.expected) → \($0.predicted): \($0.count)" }))
        }
        let figures = slice.members.prefix(picturesPerSlice).compactMap { file in pictures[file].map { ($0, file, "discovery-thumbnail") } }
        if !figures.isEmpty { blocks.append(.figures(figures)) }
        return .container(tag: "article", className: "discovery-slice", blocks: blocks)
    }

    /// "Confirmed attribute slice of 40 images. Held out: 18 images, 61% wrong [39%, 83%], lift 2.48 [1.50, 3.40]. …"
    static func numbers(_ slice: Slice) -> String {
        "\(slice.confirmed ? "Confirmed" : "Not confirmed") \(slice.kind == .attribute ? "attribute" : "embedding") slice of \(slice.members.count) images. "
            + "Held out: \(slice.heldOut.size) images, \(percent(slice.heldOut.errorRate)) wrong \(interval(slice.heldOut.errorRateCI, percent)), "
            + "lift \(ratio(slice.heldOut.lift)) \(interval(slice.heldOut.liftCI, ratio)). Where it was found: \(slice.discovery.size) images, "
            + "\(percent(slice.discovery.errorRate)) wrong, lift \(ratio(slice.discovery.lift))."
    }

    /// What a catalog category made from `slice` of `model` says: the card's numbers, the intervention's finding, the
    /// most frequent confusion, and where it comes from (`source`, the results file's name).
    public static func finding(_ slice: Slice, model: String, results: DiscoveryResults, source: String) -> String {
        var sentences = [numbers(slice)]
        if let intervention = slice.intervention { sentences.append("Intervention: \(intervention.finding).") }
        if let confusion = slice.confusions.first {
            sentences.append("Most often \(confusion.expected) → \(confusion.predicted) (\(confusion.count) image\(confusion.count == 1 ? "" : "s")).")
        }
        sentences.append("Slice \(slice.id) of \(model) in \(source), discovered in \(results.dataset) with seed \(results.seed).")
        return sentences.joined(separator: " ")
    }

    static func suspects(_ model: ModelDiscovery, headingLevel: Int, pictures: [String: ReportPicture], id: String) -> [ReportBlock] {
        let listed = model.suspectLabels.prefix(listedSuspects)
        var blocks: [ReportBlock] = [
            .heading(level: headingLevel, text: "Suspect labels (\(model.suspectLabels.count))", id: id),
            .paragraph("The model is at least as sure of another class as it is on average of that class's own images, and every other model agrees: "
                + "judge whether the label or the model is wrong."),
            .table(ReportTable(caption: "\(model.model): images whose labels look wrong", columns: ["file", "label", "model says", "confidence"],
                               rows: listed.map { .init(header: .init($0.file), cells: [.init($0.label), .init($0.predicted), .init(percent($0.confidence))]) },
                               numericColumns: [3])),
        ]
        let figures = listed.compactMap { suspect in
            pictures[suspect.file].map { ($0, "labelled \(suspect.label); model: \(suspect.predicted)", "discovery-thumbnail") }
        }
        if !figures.isEmpty { blocks.append(.figures(figures)) }
        return blocks
    }
}
