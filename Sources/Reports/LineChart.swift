// A small SVG line chart (no script, no external library): categorical x, a 0–1 y axis drawn as percentages,
// one line per series with markers, crossed markers where a point is marked (a flipped prediction).
import Foundation
import Imaging

public struct LineChart: Sendable {
    public struct Series: Sendable {
        public let name: String
        /// One per x label; nil leaves a gap.
        public let values: [Double?]
        /// Points drawn as a cross instead of a dot.
        public let marked: [Bool]

        public init(name: String, values: [Double?], marked: [Bool]) {
            precondition(values.count == marked.count, "one mark per value")
            self.name = name
            self.values = values
            self.marked = marked
        }
    }

    public let title: String
    public let xLabels: [String]
    public let yLabel: String
    public let series: [Series]

    public init(title: String, xLabels: [String], yLabel: String, series: [Series]) {
        precondition(series.allSatisfy { $0.values.count == xLabels.count }, "one value per x label in every series")
        self.title = title
        self.xLabels = xLabels
        self.yLabel = yLabel
        self.series = series
    }

    /// Distinct colours that read on white and on dark backgrounds, in series order.
    public static let palette = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2"]

    public func svg(width: Int = 640, height: Int = 220) -> String {
        let (left, right, top, bottom) = (44.0, 12.0, 12.0, 40.0 + (series.count > 1 ? 18.0 : 0))
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        func x(_ index: Int) -> Double {
            xLabels.count == 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(xLabels.count - 1)
        }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - max(0, min(1, value))) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        var parts: [String] = []
        parts.append("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\">")
        parts.append("<title>\(HTMLText.escape(title))</title>")
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            parts.append("<line class=\"grid\" x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(y(tick)))\" y2=\"\(number(y(tick)))\" stroke=\"currentColor\" stroke-opacity=\"0.15\"/>")
            parts.append("<text x=\"\(number(left - 6))\" y=\"\(number(y(tick) + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">\(Int(tick * 100))%</text>")
        }
        let every = max(1, Int((Double(xLabels.count) / (plotWidth / 44)).rounded(.up)))
        for (index, label) in xLabels.enumerated() where index % every == 0 {
            parts.append("<text x=\"\(number(x(index)))\" y=\"\(number(top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"11\" fill=\"currentColor\">\(HTMLText.escape(label))</text>")
        }
        parts.append("<text x=\"12\" y=\"\(number(top + plotHeight / 2))\" transform=\"rotate(-90 12 \(number(top + plotHeight / 2)))\" text-anchor=\"middle\" font-size=\"11\" fill=\"currentColor\">\(HTMLText.escape(yLabel))</text>")
        for (position, line) in series.enumerated() {
            let colour = Self.palette[position % Self.palette.count]
            var path = ""
            var pen = false
            for (index, value) in line.values.enumerated() {
                guard let value else { pen = false; continue }
                path += "\(pen ? "L" : "M")\(number(x(index))),\(number(y(value))) "
                pen = true
            }
            parts.append("<path d=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"><title>\(HTMLText.escape(line.name))</title></path>")
            for (index, value) in line.values.enumerated() {
                guard let value else { continue }
                let (cx, cy) = (x(index), y(value))
                let tip = "<title>\(HTMLText.escape("\(line.name), \(xLabels[index]): \(Percent.text(value))"))</title>"
                if line.marked[index] {
                    parts.append("<path class=\"flip-mark\" d=\"M\(number(cx - 4)),\(number(cy - 4)) L\(number(cx + 4)),\(number(cy + 4)) M\(number(cx - 4)),\(number(cy + 4)) L\(number(cx + 4)),\(number(cy - 4))\" stroke=\"\(colour)\" stroke-width=\"2.5\">\(tip)</path>")
                } else {
                    parts.append("<circle cx=\"\(number(cx))\" cy=\"\(number(cy))\" r=\"3\" fill=\"\(colour)\">\(tip)</circle>")
                }
            }
        }
        if series.count > 1 {
            var cursor = left
            for (position, line) in series.enumerated() {
                let colour = Self.palette[position % Self.palette.count]
                let baseline = Double(height) - 6
                parts.append("<rect x=\"\(number(cursor))\" y=\"\(number(baseline - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>")
                parts.append("<text x=\"\(number(cursor + 14))\" y=\"\(number(baseline))\" font-size=\"11\" fill=\"currentColor\">\(HTMLText.escape(line.name))</text>")
                cursor += 24 + Double(line.name.count) * 6.5
            }
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
