// A probe's result as HTML: a summary table (the mildest level that breaks each model, per family), then per
// family a chart of the expected class's probability against severity and the variants as the model saw them,
// coloured by outcome. The same fragment serves the web page, `blindspot probe --html` and the blind-spot report.
import Analysis
import Foundation
import Imaging
import Inference
import Transforms

public enum ProbeReport {
    /// The results as an HTML fragment (one `<section>`), with the variants' thumbnails when they have them.
    public static func fragment(_ result: ProbeResult) -> String {
        var html = "<section class=\"probe-report\" data-variants=\"\(result.variants.count)\">\n"
        html += "<p class=\"probe-meta\">\(HTMLText.escape(meta(result)))</p>\n"
        html += result.models.map { "<p class=\"probe-verdict\">\(HTMLText.escape(result.sentence(for: $0))).</p>\n" }.joined()
        html += summaryTable(result)
        for family in result.families {
            html += "<section class=\"probe-family\" id=\"probe-\(family.family.rawValue)\">\n"
            html += "<h3>\(HTMLText.escape(family.title))</h3>\n<p class=\"hint\">\(HTMLText.escape(family.summary))</p>\n"
            if let reason = family.notApplicable {
                html += "<p class=\"probe-na\">Not applicable to this image: \(HTMLText.escape(reason))</p>\n</section>\n"
                continue
            }
            // ImageNet-C's families start from the clean crop they corrupt, the others from the original.
            let start = family.family.corruption == nil ? 0 : result.cropVariant ?? 0
            let ids = [start] + result.variants.filter { $0.family == family.family }.map(\.id)
            html += "<figure class=\"probe-chart\">\n" + chart(result, family: family, ids: ids).svg() + "\n"
            html += "<figcaption>\(HTMLText.escape(chartCaption(result))) A cross marks a level where the prediction flipped.</figcaption>\n</figure>\n"
            html += "<ol class=\"probe-grid\" aria-label=\"\(HTMLText.escape(family.title)): variants\">\n"
            for id in ids {
                html += cell(result, id: id, title: label(result, id: id))
            }
            html += "</ol>\n</section>\n"
        }
        return html + "</section>\n"
    }

    /// A complete page for one probe, readable offline and in print.
    public static func document(_ result: ProbeResult, imageName: String, date: Date = Date()) -> String {
        let title = "Probe of \(imageName)"
        let stamp = ISO8601DateFormatter().string(from: date)
        return HTMLText.page(title: title, head: "<style>\n\(ReportStyle.css)\n</style>", body: """
        <h1>\(HTMLText.escape(title))</h1>
        <p class="hint">Made by Blindspot on \(HTMLText.escape(stamp)). Each variant is the image after one transformation, shown as the first model sees it (cropped and resized).</p>
        \(fragment(result))
        """, bodyClass: "report")
    }

    static func meta(_ result: ProbeResult) -> String {
        let expected = result.expected.isEmpty
            ? "no expected class given: a variant flips when a model's first choice differs from its first choice on the original"
            : "expected: " + result.expected.map(\.name).joined(separator: " or ")
        let size = result.workingWidth == result.width ? "\(result.width)×\(result.height)"
            : "\(result.width)×\(result.height), transformed at \(result.workingWidth)×\(result.workingHeight)"
        let timing = result.models.map { "\($0.model) \(Int($0.inferenceMilliseconds.rounded())) ms" }.joined(separator: ", ")
        return "\(result.variants.count) variants of a \(size) image; \(expected). Seed \(result.seed). "
            + "Transforms \(Int(result.transformMilliseconds.rounded())) ms; inference \(timing)."
    }

    static func chartCaption(_ result: ProbeResult) -> String {
        result.expected.isEmpty ? "Probability of each model's first choice on the original, by level."
            : "Probability of the expected class, by level."
    }

    /// The summary table's caption, here and in the blind-spot report's Markdown.
    static let summaryCaption = "Per model, the mildest level that flips a right answer, or, where the original is already a miss, "
        + "that brings the expected class back (variants that changed it / variants)"

    /// The original row's cell: the first choice and its probability, "(a miss)" when it is not an expected class.
    public static func originalText(_ outcome: ProbeResult.Outcome) -> String {
        "\(outcome.top[0].label) \(Percent.text(outcome.top[0].probability))" + (outcome.flipped ? " (a miss)" : "")
    }

    /// One cell of the summary table: "flips at 15° (3/5)", "holds (0/5)", "brings it back at 165° (2/23)", "stays wrong (0/2)".
    static func cellText(_ summary: ProbeResult.FamilyOutcome, originalHit: Bool) -> String {
        "\(summary.verdict(originalHit: originalHit)) (\(summary.changed(originalHit: originalHit))/\(summary.variants))"
    }

    /// The summary table; `linkingFamilies` links each family to its section of `fragment` (off where there is none).
    static func summaryTable(_ result: ProbeResult, linkingFamilies: Bool = true) -> String {
        var html = "<table class=\"probe-summary\">\n<caption>\(HTMLText.escape(summaryCaption))</caption>\n"
        html += "<thead><tr><th scope=\"col\">Transformation</th>"
        html += result.models.map { "<th scope=\"col\">\(HTMLText.escape($0.model))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        html += "<tr><th scope=\"row\">Original</th>" + result.models.map { model in
            let outcome = model.outcomes[0]
            return "<td class=\"\(outcome.flipped ? "flip" : "ok")\">\(HTMLText.escape(originalText(outcome)))</td>"
        }.joined() + "</tr>\n"
        if let crop = result.cropVariant {
            html += "<tr><th scope=\"row\">ImageNet-C crop, clean</th>" + result.models.map { model in
                let outcome = model.outcomes[crop]
                return "<td class=\"\(outcome.flipped ? "flip" : "ok")\">\(HTMLText.escape(originalText(outcome)))</td>"
            }.joined() + "</tr>\n"
        }
        for family in result.families {
            let title = HTMLText.escape(family.title)
            html += "<tr><th scope=\"row\">\(linkingFamilies ? "<a href=\"#probe-\(family.family.rawValue)\">\(title)</a>" : title)</th>"
            for model in result.models {
                guard family.notApplicable == nil, let summary = model.families.first(where: { $0.family == family.family }) else {
                    html += "<td class=\"na\">not applicable</td>"
                    continue
                }
                let wrong = summary.endsWrong(originalHit: model.originalHit)
                html += "<td class=\"\(wrong ? "flip" : "ok")\">\(HTMLText.escape(cellText(summary, originalHit: model.originalHit)))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    /// A variant's name in a grid or on a chart's axis: "original", "clean crop" or its level.
    static func label(_ result: ProbeResult, id: Int) -> String {
        id == 0 ? "original" : id == result.cropVariant ? "clean crop" : result.variants[id].level?.label ?? ""
    }

    static func chart(_ result: ProbeResult, family: ProbeResult.Family, ids: [Int]) -> LineChart {
        let labels = ids.map { label(result, id: $0) }
        let series = result.models.map { model in
            LineChart.Series(name: model.model, values: ids.map { model.outcomes[$0].expected?.probability },
                             marked: ids.map { model.outcomes[$0].flipped })
        }
        return LineChart(title: "\(family.title): probability by level", xLabels: labels, yLabel: "probability", series: series)
    }

    static func cell(_ result: ProbeResult, id: Int, title: String) -> String {
        let flips = result.models.count { $0.outcomes[id].flipped }
        let state = flips == 0 ? "ok" : flips == result.models.count ? "flip" : "mixed"
        var html = "<li class=\"variant \(state)\">"
        if let thumbnail = result.variants[id].thumbnail, thumbnail.hasPrefix("data:image/jpeg;base64,") {
            html += "<img src=\"\(HTMLText.escape(thumbnail))\" alt=\"\(HTMLText.escape(title))\" width=\"112\" height=\"112\" loading=\"lazy\">"
        }
        html += "<span class=\"level\">\(HTMLText.escape(title))</span>"
        for model in result.models {
            let outcome = model.outcomes[id]
            let top = outcome.top[0]
            let prefix = result.models.count > 1 ? "\(model.model): " : ""
            html += "<span class=\"answer\(outcome.flipped ? " flipped" : "")\">\(HTMLText.escape(prefix + top.label)) \(Percent.text(top.probability))</span>"
        }
        return html + "</li>\n"
    }
}
