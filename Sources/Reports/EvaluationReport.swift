// An evaluation's results as an HTML section or page, Markdown and a CSV of every record: accuracy with bootstrap
// intervals, top-1 under each transformation beside the clean one, robustness cards (RobustnessCardReport), worst
// classes, frequent confusions, disagreements. The numbers are EvaluationResults'; this only lays them out.
import Analysis
import Foundation
import Imaging
import Models
import Transforms

public enum EvaluationReport {
    /// How many of the worst classes, confusions and disagreements are listed.
    static let listedClasses = 10
    static let listedConfusions = 10
    static let listedDisagreements = 20

    /// The results as one `<section>`: an `<h2>` naming the dataset, then `<h3>` parts.
    /// `pictures` (thumbnails by record file, see `picturedFiles`) show the most confident mistakes and the confusions.
    public static func fragment(_ results: EvaluationResults, pictures: [String: ReportPicture] = [:]) -> String {
        ReportBlock.html([.container(tag: "section", className: "eval-report", blocks: blocks(results, headingLevel: 2, pictures: pictures))])
    }

    /// A complete page, readable offline and in print (`blindspot eval --out results.html`).
    public static func document(_ results: EvaluationResults, pictures: [String: ReportPicture] = [:], date: Date = Date()) -> String {
        let stamp = ISO8601DateFormatter().string(from: date)
        return HTMLText.page(title: "Evaluation of \(results.dataset)", head: "<link rel=\"icon\" href=\"data:,\">\n<style>\n\(ReportStyle.css)\n</style>", body: """
        <h1>Evaluation report</h1>
        <p class="hint">Made by Blindspot on \(HTMLText.escape(stamp)).</p>
        \(fragment(results, pictures: pictures))
        """, bodyClass: "report")
    }

    /// The same tables in GitHub Markdown; the title is a heading of `headingLevel` (1 for a file of its own).
    public static func markdown(_ results: EvaluationResults, headingLevel: Int = 1) -> String {
        ReportBlock.markdown(blocks(results, headingLevel: headingLevel))
    }

    /// One row per record (clean records have the transform `clean`), RFC 4180: CRLF line ends, fields with a comma,
    /// quote or line break quoted, quotes doubled. `labels` name the classes (default: the list shipped with Blindspot,
    /// which every results file was made with).
    public static func csv(_ results: EvaluationResults, labels: ImageNetLabels? = nil) -> String {
        let labels = labels ?? bundledLabels
        func name(_ index: Int) -> String { labels.map { $0[index].name } ?? "" }
        var lines = ["file,truth,true_label,model,transform,top1,top1_label,top1_probability,correct_top1,correct_top5"]
        for record in results.records {
            let fields = [
                record.file, String(record.truth), name(record.truth), record.model, record.transform ?? "clean",
                record.top5.first.map { String($0) } ?? "", record.top5.first.map(name) ?? "",
                record.probabilities.first.map { String(format: "%.6f", $0) } ?? "",
                String(record.isTop1), String(record.isTop5),
            ]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Loaded once; nil only if the Models bundle lost its class list (which no results could have been made without).
    static let bundledLabels = try? ImageNetLabels.bundled()

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - The parts

    /// The parts, titled by a heading of `level` (with `id` as its anchor) and subtitled one level below.
    static func blocks(_ results: EvaluationResults, headingLevel level: Int, id: String? = nil,
                       pictures: [String: ReportPicture] = [:]) -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(level: level, text: "Evaluation of \(results.dataset)", id: id),
                                     .paragraph(overview(results), className: "eval-meta")]
        if !results.unlabelled.isEmpty {
            let count = results.unlabelled.count
            blocks.append(.paragraph("\(count) file\(count == 1 ? " was" : "s were") left out because their class could not be read"
                + (count > 5 ? " (the first 5):" : ":"), className: "hint"))
            blocks.append(.list(results.unlabelled.prefix(5).map { "\($0.file): \($0.reason)" }))
        }
        blocks.append(.heading(level: level + 1, text: "Accuracy"))
        blocks.append(.table(accuracyTable(results)))
        if let plan = results.robustness {
            blocks += RobustnessCardReport.blocks(results, plan: plan, headingLevel: level + 1)
        }
        if !groups(results).isEmpty {
            blocks.append(.heading(level: level + 1, text: "Robustness"))
            blocks.append(.paragraph("Top-1 accuracy on every image after one transformation, with its change relative to the clean "
                + "top-1 in brackets (−50% means half the clean accuracy is lost), as ImageNet-C reports corruption errors.", className: "hint"))
            blocks.append(.table(robustnessTable(results)))
            blocks.append(.charts(groups(results).map { group, transforms in
                (chart(results, group: group, transforms: transforms), "\(group): top-1 by level (the first point is clean)")
            }))
        }
        blocks.append(.heading(level: level + 1, text: "Worst classes"))
        blocks += results.models.map { ReportBlock.table(worstClassesTable($0)) }
        blocks.append(.heading(level: level + 1, text: "Most frequent confusions"))
        for model in results.models {
            blocks.append(model.confusions.isEmpty
                ? .paragraph("\(model.model) gets every clean image right: no confusions.")
                : .table(confusionTable(model)))
            let confused = model.confusions.prefix(listedConfusions).compactMap { confusion in
                confusion.examples.first.flatMap { pictures[$0] }.map { picture in
                    (picture, "\(confusion.trueLabel) → \(confusion.predictedLabel) (\(confusion.count) image\(confusion.count == 1 ? "" : "s"))",
                     "eval-thumbnail")
                }
            }
            if !confused.isEmpty { blocks.append(.figures(confused)) }
        }
        if !pictures.isEmpty {
            blocks.append(.heading(level: level + 1, text: "Most confident mistakes"))
            for model in results.models {
                let shown = mistakes(of: model.model, in: results).compactMap { record in
                    pictures[record.file].map { picture in
                        (picture, "\(model.model): \(label(record.top5[0], in: results)) \(Percent.text(record.probabilities[0])), "
                            + "truly \(label(record.truth, in: results)) — \(record.file)", "eval-thumbnail")
                    }
                }
                blocks.append(shown.isEmpty ? .paragraph("\(model.model) makes no mistakes on clean images.") : .figures(shown))
            }
        }
        if results.models.count > 1 {
            blocks.append(.heading(level: level + 1, text: "Where the models disagree"))
            blocks.append(results.disagreements.isEmpty
                ? .paragraph("Every clean image is either right for all models or wrong for all.")
                : .table(disagreementTable(results)))
        }
        return blocks
    }

    /// How many of a model's most confident clean mistakes are pictured.
    static let listedMistakes = 8

    /// The clean images `model` gets wrong, the most confident wrong answer first (ties by file).
    static func mistakes(of model: String, in results: EvaluationResults) -> [EvaluationRecord] {
        let wrong = results.records.filter { $0.model == model && $0.transform == nil && !$0.isTop1 && !$0.probabilities.isEmpty }
        return Array(wrong.sorted { ($0.probabilities[0], $1.file) > ($1.probabilities[0], $0.file) }.prefix(listedMistakes))
    }

    /// The files the HTML pictures when given their thumbnails: each model's most confident mistakes and the first
    /// example of each listed confusion, each once, in order.
    public static func picturedFiles(_ results: EvaluationResults) -> [String] {
        var files: [String] = []
        for model in results.models {
            files += model.confusions.prefix(listedConfusions).compactMap(\.examples.first)
            files += mistakes(of: model.model, in: results).map(\.file)
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }
    }

    /// A class's name from the list shipped with Blindspot, or its index.
    static func label(_ index: Int, in results: EvaluationResults) -> String {
        bundledLabels.flatMap { (0..<$0.count).contains(index) ? $0[index].name : nil } ?? "class \(index)"
    }

    static func overview(_ results: EvaluationResults) -> String {
        let models = results.models.map(\.model).joined(separator: ", ")
        let listed = groups(results)
        let count = listed.map(\.transforms.count).reduce(0, +)
        let card = results.robustness == nil ? "" : "; ImageNet-C's robustness card (19 corruptions × 5 severities)"
        let transforms = listed.isEmpty ? (card.isEmpty ? "; clean images only" : card)
            : "; clean and under \(count) transformation\(count == 1 ? "" : "s") ("
                + listed.map { "\($0.group.lowercased()) \($0.transforms.map(\.levelLabel).joined(separator: ", "))" }.joined(separator: "; ") + ")" + card
        let subset = results.subset.map { "; outputs masked to \($0.title)'s 200 classes" } ?? ""
        return "\(results.images) labelled images, \(results.models.count) model\(results.models.count == 1 ? "" : "s") (\(models))\(transforms)\(subset)."
    }

    static func accuracyTable(_ results: EvaluationResults) -> ReportTable {
        ReportTable(
            caption: "Accuracy on the clean images, with 95% bootstrap intervals",
            columns: ["Model", "Images", "Top-1", "Top-5", "Weights (SHA-256)"],
            rows: results.models.map { model in
                ReportTable.Row(header: .init(model.model), cells: [
                    .init(String(model.images)),
                    .init(Percent.text(model.top1), note: interval(model.top1CI)),
                    .init(Percent.text(model.top5), note: interval(model.top5CI)),
                    .init(model.weightsDigest.map { String($0.prefix(16)) + "…" } ?? "unknown"),
                ])
            },
            numericColumns: [1, 2, 3])
    }

    static func robustnessTable(_ results: EvaluationResults) -> ReportTable {
        var rows = [ReportTable.Row(header: .init("Clean"), cells: results.models.map { .init(Percent.text($0.top1)) })]
        for (group, transforms) in groups(results) {
            rows.append(.group(group))
            for transform in transforms {
                rows.append(ReportTable.Row(header: .init(transform.levelLabel), cells: results.models.map { model in
                    guard let accuracy = accuracy(of: model, under: transform) else { return .init("—") }
                    return .init(Percent.text(accuracy.top1), note: change(accuracy.relativeDrop))
                }))
            }
            if transforms.count > 1 {
                rows.append(ReportTable.Row(header: .init("mean of \(transforms.count) levels"), cells: results.models.map { model in
                    let measured = transforms.compactMap { accuracy(of: model, under: $0) }
                    guard !measured.isEmpty else { return .init("—") }
                    let count = Double(measured.count)
                    return .init(Percent.text(measured.map(\.top1).reduce(0, +) / count),
                                 note: change(measured.map(\.relativeDrop).reduce(0, +) / count), style: "mean")
                }))
            }
        }
        return ReportTable(caption: "Top-1 under each transformation (change relative to clean)",
                           columns: ["Transformation"] + results.models.map(\.model), rows: rows,
                           numericColumns: Set(results.models.indices.map { $0 + 1 }), className: "robustness")
    }

    static func chart(_ results: EvaluationResults, group: String, transforms: [EvaluationTransform]) -> LineChart {
        LineChart(title: "\(group): top-1 by level", xLabels: ["clean"] + transforms.map(\.levelLabel), yLabel: "top-1",
                  series: results.models.map { model in
                      LineChart.Series(name: model.model, values: [model.top1] + transforms.map { accuracy(of: model, under: $0)?.top1 },
                                       marked: Array(repeating: false, count: transforms.count + 1))
                  })
    }

    static func worstClassesTable(_ model: EvaluationResults.ModelResults) -> ReportTable {
        ReportTable(
            caption: "\(model.model): the \(min(listedClasses, model.perClass.count)) classes with the lowest recall (top-1)",
            columns: ["Class", "Images", "Right", "Recall"],
            rows: model.perClass.prefix(listedClasses).map { recall in
                ReportTable.Row(header: .init(recall.label, note: "class \(recall.index)"), cells: [
                    .init(String(recall.images)), .init(String(recall.correct)), .init(Percent.text(recall.recall)),
                ])
            },
            numericColumns: [1, 2, 3])
    }

    static func confusionTable(_ model: EvaluationResults.ModelResults) -> ReportTable {
        ReportTable(
            caption: "\(model.model): the most frequent wrong answers on clean images",
            columns: ["True class", "Answered", "Images", "For example"],
            rows: model.confusions.prefix(listedConfusions).map { confusion in
                ReportTable.Row(header: .init(confusion.trueLabel), cells: [
                    .init(confusion.predictedLabel), .init(String(confusion.count)), .init(confusion.examples.joined(separator: ", ")),
                ])
            },
            numericColumns: [2])
    }

    static func disagreementTable(_ results: EvaluationResults) -> ReportTable {
        let shown = results.disagreements.prefix(listedDisagreements)
        return ReportTable(
            caption: "Clean images some models get right and others wrong"
                + (results.disagreements.count > shown.count ? " (the first \(shown.count) of \(results.disagreements.count))" : " (\(shown.count))"),
            columns: ["File", "True class", "Right", "Wrong (answer)"],
            rows: shown.map { disagreement in
                ReportTable.Row(header: .init(disagreement.file), cells: [
                    .init(disagreement.trueLabel), .init(disagreement.right.joined(separator: ", "), style: "ok"),
                    .init(disagreement.wrong.map { "\($0.model): \($0.predictedLabel)" }.joined(separator: "; "), style: "flip"),
                ])
            })
    }

    // MARK: - Helpers

    /// The transformations the robustness table lists (all but a card's, which the card shows), grouped by family or
    /// corruption in first-appearance order, levels mildest first.
    static func groups(_ results: EvaluationResults) -> [(group: String, transforms: [EvaluationTransform])] {
        let listed = results.transforms.filter { results.robustness == nil || !$0.isCorruption }
        var order: [String] = []
        for transform in listed where !order.contains(transform.group) { order.append(transform.group) }
        return order.map { group in (group, listed.filter { $0.group == group }.sorted { $0.rank < $1.rank }) }
    }

    /// "mCE 76.7% · relative mCE 105.0% · ECE 3.1%", or with a reference model "reference-normalised mean CE 98.2% ·
    /// relative 97.0% · ECE 3.1% (not mCE)".
    public static func robustnessHeadline(_ card: RobustnessCard) -> String {
        func value(_ number: Double?) -> String { number.map(Percent.text) ?? "undefined" }
        return card.isReferenceNormalised
            ? "reference-normalised mean CE \(value(card.meanCE)) · relative \(value(card.relativeMeanCE)) · ECE \(Percent.text(card.ece)) (not mCE)"
            : "mCE \(value(card.meanCE)) · relative mCE \(value(card.relativeMeanCE)) · ECE \(Percent.text(card.ece))"
    }

    static func accuracy(of model: EvaluationResults.ModelResults, under transform: EvaluationTransform) -> EvaluationResults.TransformAccuracy? {
        model.transforms.first { $0.transform == transform.key }
    }

    /// "95% CI 50.0–100.0%".
    static func interval(_ bounds: [Double]) -> String? {
        guard bounds.count == 2 else { return nil }
        return "95% CI \(String(format: "%.1f", bounds[0] * 100))–\(Percent.text(bounds[1]))"
    }

    /// A relative drop as a signed change: a drop of 0.25 is "−25.0%", a gain "+…".
    static func change(_ relativeDrop: Double) -> String {
        relativeDrop > 0 ? "−" + Percent.text(relativeDrop) : relativeDrop < 0 ? "+" + Percent.text(-relativeDrop) : "±0.0%"
    }
}
