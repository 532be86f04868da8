// ImageNet-C's robustness card of each model as report blocks: the headline (mCE or reference-normalised mean CE),
// a heatmap table of error by corruption × severity with CE beside it, CE bars and the reliability diagram (SVG).
// The numbers are RobustnessCard's; this only lays them out.
import Analysis
import Foundation
import Imaging
import Models
import Transforms

enum RobustnessCardReport {
    /// The card section: what was done, then one card per model.
    static func blocks(_ results: EvaluationResults, plan: RobustnessPlan, headingLevel level: Int) -> [ReportBlock] {
        var blocks: [ReportBlock] = [
            .heading(level: level, text: "Robustness card (ImageNet-C)"),
            .paragraph(ImageNetCProtocol.sentence + " Frost: " + plan.frost + "."
                + (results.subset.map { " Outputs masked to \($0.title)'s 200 classes (\($0.source))." } ?? ""), className: "hint"),
            .paragraph(plan.referenceModel == nil
                ? "CE divides a corruption's error summed over severities 1-5 by AlexNet's, and mCE averages it over the 15 common corruptions; "
                    + "relative CE subtracts each model's clean error first. Normaliser: \(AlexNetErrors.source)."
                : "This folder is not ImageNet's validation set, so AlexNet's published errors do not apply: CE divides by the errors of "
                    + "\(plan.referenceModel ?? "") on the same images (reference-normalised; not mCE, and not comparable with published mCE).",
                className: "hint"),
        ]
        for model in results.models {
            guard let card = model.robustness else { continue }
            blocks.append(.container(tag: "article", className: "robustness-card", blocks: modelBlocks(model.model, card: card, headingLevel: level + 1)))
        }
        return blocks
    }

    static func modelBlocks(_ model: String, card: RobustnessCard, headingLevel level: Int) -> [ReportBlock] {
        var blocks: [ReportBlock] = [
            .heading(level: level, text: model),
            .paragraph(EvaluationReport.robustnessHeadline(card), className: "headline"),
            .paragraph("Normalised by \(card.normaliser). Top-1 error on the clean 224 crop: "
                + (card.cleanError.map(Percent.text) ?? "not measured") + ".", className: "hint"),
        ]
        if !card.undefined.isEmpty {
            // One line per reason, naming the corruptions it applies to.
            var reasons: [String] = [], named: [String: [String]] = [:]
            for corruption in Corruption.allCases {
                guard let reason = card.undefined[corruption.rawValue] else { continue }
                if named[reason] == nil { reasons.append(reason) }
                named[reason, default: []].append(corruption.title)
            }
            blocks.append(.list(reasons.map { "\(named[$0, default: []].joined(separator: ", ")): \($0)" }))
        }
        blocks.append(.table(heatmap(model, card: card)))
        blocks.append(.rendered(html: "<div class=\"robustness-charts\">\n"
            + figure(ceBars(model, card: card), caption: "\(model): CE per corruption (100% = the normaliser's error)")
            + figure(reliabilityDiagram(model, card: card),
                     caption: "\(model): reliability on the clean images, ECE \(Percent.text(card.ece)) (15 equal-width confidence bins)")
            + "</div>\n", markdown: "*\(model): ECE \(Percent.text(card.ece)) on the clean images (15 equal-width confidence bins)*\n"))
        return blocks
    }

    /// Error by corruption (rows, held-out ones apart) and severity (columns), each cell shaded by its error, then CE and
    /// relative CE.
    static func heatmap(_ model: String, card: RobustnessCard) -> ReportTable {
        var error: [String: Double] = [:]
        for measurement in card.corruptions { error["\(measurement.name):\(measurement.severity)"] = measurement.error }
        func percent(_ value: Double??) -> String { (value ?? nil).map(Percent.text) ?? "—" }
        func row(_ corruption: Corruption) -> ReportTable.Row {
            let cells = Corruption.severities.map { severity -> ReportTable.Cell in
                guard let value = error["\(corruption.rawValue):\(severity)"] else { return .init("—") }
                // Clamped before the conversion: an error read from an edited results file may be anything.
                let shade = value.isFinite ? Int(min(9, max(0, (value * 10).rounded(.down)))) : 0
                return .init(Percent.text(value), style: "heat-\(shade)")
            }
            return ReportTable.Row(header: .init(corruption.title), cells: cells + [
                .init(percent(card.ce[corruption.rawValue]), style: "mean"), .init(percent(card.relativeCE[corruption.rawValue])),
            ])
        }
        let measured = Set(card.corruptions.map(\.name))
        var rows = Corruption.common.filter { measured.contains($0.rawValue) }.map(row)
        let heldOut = Corruption.heldOut.filter { measured.contains($0.rawValue) }
        if !heldOut.isEmpty {
            rows.append(.group("Held out (not in the mean)"))
            rows += heldOut.map(row)
        }
        let mean = card.isReferenceNormalised ? "reference-normalised mean" : "mCE / relative mCE"
        rows.append(ReportTable.Row(header: .init(mean), cells: Array(repeating: .init(""), count: 5) + [
            .init(card.meanCE.map(Percent.text) ?? "—", style: "mean"), .init(card.relativeMeanCE.map(Percent.text) ?? "—", style: "mean"),
        ]))
        return ReportTable(caption: "\(model): top-1 error by corruption and severity (darker is worse), CE and relative CE",
                           columns: ["Corruption", "1", "2", "3", "4", "5", "CE", "Relative CE"], rows: rows,
                           numericColumns: Set(1...7), className: "robustness-heatmap")
    }

    static func figure(_ svg: String, caption: String) -> String {
        "<figure class=\"report-chart\">\n\(svg)\n<figcaption>\(HTMLText.escape(caption))</figcaption></figure>\n"
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Horizontal bars of CE per corruption, a line at 100%; undefined CEs are named, not drawn.
    static func ceBars(_ model: String, card: RobustnessCard, width: Int = 480) -> String {
        let corruptions = Corruption.allCases.filter { card.ce[$0.rawValue] != nil }
        let values = corruptions.map { (card.ce[$0.rawValue] ?? nil).flatMap { $0.isFinite ? $0 : nil } }
        let scale = max(1.5, (values.compactMap { $0 }.max() ?? 1) * 1.1)
        let (left, right, rowHeight, top) = (130.0, 56.0, 16.0, 8.0)
        let plot = Double(width) - left - right
        let height = Int(top * 2 + rowHeight * Double(corruptions.count) + 16)
        func x(_ value: Double) -> Double { left + plot * min(value, scale) / scale }
        var parts = ["<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" "
            + "aria-label=\"\(HTMLText.escape("\(model): CE per corruption"))\">"]
        for (row, (corruption, value)) in zip(corruptions, values).enumerated() {
            let y = top + Double(row) * rowHeight
            let held = Corruption.heldOut.contains(corruption)
            parts.append("<text x=\"\(number(left - 6))\" y=\"\(number(y + 11))\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">"
                + "\(HTMLText.escape(corruption.title + (held ? " *" : "")))</text>")
            guard let value else {
                parts.append("<text x=\"\(number(left + 4))\" y=\"\(number(y + 11))\" font-size=\"11\" fill=\"currentColor\">undefined</text>")
                continue
            }
            parts.append("<rect x=\"\(number(left))\" y=\"\(number(y + 2))\" width=\"\(number(x(value) - left))\" height=\"\(number(rowHeight - 4))\" "
                + "fill=\"\(held ? "#9ca3af" : LineChart.palette[0])\"><title>\(HTMLText.escape("\(corruption.title): CE \(Percent.text(value))"))</title></rect>")
            parts.append("<text x=\"\(number(x(value) + 4))\" y=\"\(number(y + 11))\" font-size=\"11\" fill=\"currentColor\">\(Percent.whole(value))</text>")
        }
        let bottom = top + rowHeight * Double(corruptions.count)
        parts.append("<line x1=\"\(number(x(1)))\" x2=\"\(number(x(1)))\" y1=\"\(number(top))\" y2=\"\(number(bottom))\" stroke=\"currentColor\" stroke-dasharray=\"3 3\"/>")
        parts.append("<text x=\"\(number(x(1)))\" y=\"\(number(bottom + 12))\" text-anchor=\"middle\" font-size=\"11\" fill=\"currentColor\">100%</text>")
        if corruptions.contains(where: Corruption.heldOut.contains) {
            parts.append("<text x=\"\(number(left))\" y=\"\(number(bottom + 12))\" font-size=\"10\" fill=\"currentColor\">* held out</text>")
        }
        return (parts + ["</svg>"]).joined(separator: "\n")
    }

    /// Accuracy per confidence bin as bars over the diagonal (perfect calibration); empty bins have no bar.
    static func reliabilityDiagram(_ model: String, card: RobustnessCard, side: Int = 260) -> String {
        let (margin, plot) = (34.0, Double(side) - 44.0)
        func x(_ value: Double) -> Double { margin + plot * value }
        func y(_ value: Double) -> Double { 8 + plot * (1 - max(0, min(1, value))) }
        var parts = ["<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\" role=\"img\" "
            + "aria-label=\"\(HTMLText.escape("\(model): reliability diagram"))\">"]
        for bin in card.reliability {
            guard let accuracy = bin.accuracy, let confidence = bin.confidence else { continue }
            let tip = "confidence \(number(bin.lower * 100))–\(number(bin.upper * 100))%: \(bin.count) image\(bin.count == 1 ? "" : "s"), "
                + "mean confidence \(Percent.text(confidence)), accuracy \(Percent.text(accuracy))"
            parts.append("<rect x=\"\(number(x(bin.lower)))\" y=\"\(number(y(accuracy)))\" width=\"\(number(plot * (bin.upper - bin.lower)))\" "
                + "height=\"\(number(y(0) - y(accuracy)))\" fill=\"\(LineChart.palette[0])\" fill-opacity=\"0.75\" stroke=\"currentColor\" stroke-opacity=\"0.4\">"
                + "<title>\(HTMLText.escape(tip))</title></rect>")
        }
        parts.append("<line x1=\"\(number(x(0)))\" y1=\"\(number(y(0)))\" x2=\"\(number(x(1)))\" y2=\"\(number(y(1)))\" stroke=\"\(LineChart.palette[1])\" stroke-dasharray=\"4 3\"/>")
        parts.append("<rect x=\"\(number(x(0)))\" y=\"\(number(y(1)))\" width=\"\(number(plot))\" height=\"\(number(plot))\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.4\"/>")
        for tick in [0.0, 0.5, 1.0] {
            parts.append("<text x=\"\(number(x(0) - 4))\" y=\"\(number(y(tick) + 4))\" text-anchor=\"end\" font-size=\"10\" fill=\"currentColor\">\(Int(tick * 100))%</text>")
            parts.append("<text x=\"\(number(x(tick)))\" y=\"\(number(y(0) + 12))\" text-anchor=\"middle\" font-size=\"10\" fill=\"currentColor\">\(Int(tick * 100))%</text>")
        }
        parts.append("<text x=\"\(number(x(0.5)))\" y=\"\(number(Double(side) - 2))\" text-anchor=\"middle\" font-size=\"10\" fill=\"currentColor\">confidence (top-1 probability)</text>")
        parts.append("<text x=\"10\" y=\"\(number(y(0.5)))\" transform=\"rotate(-90 10 \(number(y(0.5))))\" text-anchor=\"middle\" font-size=\"10\" fill=\"currentColor\">accuracy</text>")
        return (parts + ["</svg>"]).joined(separator: "\n")
    }
}
