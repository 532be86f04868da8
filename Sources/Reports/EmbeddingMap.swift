// A scatter plot of one model's features on their first two principal components, as SVG (no script): right answers
// as grey dots, wrong ones as red dots, the members of the first slices ringed in their colour (dashed when not
// confirmed) with the slice's id.
import Foundation

public struct EmbeddingMap: Sendable {
    public struct Group: Sendable {
        public let id: String
        /// Positions into `points`.
        public let members: [Int]
        public let confirmed: Bool

        public init(id: String, members: [Int], confirmed: Bool) {
            self.id = id
            self.members = members
            self.confirmed = confirmed
        }
    }

    /// Points drawn at most; a larger map shows an evenly spaced subset (every k-th point) and says so.
    public static let mostPoints = 4000
    /// Slices ringed at most, each in one of these colours (neither the grey of right answers nor the red of wrong ones).
    public static let mostGroups = 6
    static let groupColours = ["#059669", "#d97706", "#7c3aed", "#0891b2", "#2563eb", "#db2777"]

    public let points: [[Float]]
    public let wrong: [Bool]
    public let groups: [Group]

    /// `wrong` must have one entry per point; points without two coordinates are left out.
    public init(points: [[Float]], wrong: [Bool], groups: [Group]) {
        self.points = points
        self.wrong = wrong
        self.groups = Array(groups.prefix(Self.mostGroups))
    }

    /// Every `stride`-th point is drawn.
    public var stride: Int { max(1, (points.count + Self.mostPoints - 1) / Self.mostPoints) }

    public func svg(width: Int = 640, height: Int = 440, title: String) -> String {
        let margin = 24.0
        let drawn = Swift.stride(from: 0, to: points.count, by: stride).filter { points[$0].count >= 2 && wrong.indices.contains($0) }
        // The view spans the 5th to the 95th percentile on each axis widened by a quarter on each side, so a few
        // outliers do not crush the rest into a corner; points beyond it sit on the edge.
        func range(_ axis: Int) -> (Double, Double) {
            let values = drawn.map { Double(points[$0][axis]) }.sorted()
            guard let first = values.first, let last = values.last else { return (0, 1) }
            let low = values[Int(Double(values.count - 1) * 0.05)], high = values[Int(Double(values.count - 1) * 0.95)]
            guard high > low else { return (first - 1, last + 1) }
            let margin = (high - low) / 4
            return (max(low - margin, first), min(high + margin, last))
        }
        let (xRange, yRange) = (range(0), range(1))
        func place(_ index: Int) -> (Double, Double) {
            let x = (Double(points[index][0]) - xRange.0) / (xRange.1 - xRange.0)
            let y = (Double(points[index][1]) - yRange.0) / (yRange.1 - yRange.0)
            return (margin + min(max(x, 0), 1) * (Double(width) - 2 * margin), Double(height) - margin - min(max(y, 0), 1) * (Double(height) - 2 * margin))
        }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var shapes: [String] = []
        for wrongPass in [false, true] {
            let colour = wrongPass ? "#dc2626" : "#9ca3af"
            let dots = drawn.filter { wrong[$0] == wrongPass }.map { index -> String in
                let (x, y) = place(index)
                return "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"\(wrongPass ? "2.6" : "2")\"/>"
            }
            shapes.append("<g class=\"\(wrongPass ? "map-wrong" : "map-right")\" fill=\"\(colour)\" fill-opacity=\"\(wrongPass ? "0.85" : "0.55")\">\(dots.joined())</g>")
        }
        var legend: [(String, String)] = [("#9ca3af", "right"), ("#dc2626", "wrong")]
        let drawnSet = Set(drawn)
        for (position, group) in groups.enumerated() {
            let colour = Self.groupColours[position % Self.groupColours.count]
            let members = group.members.filter { drawnSet.contains($0) }
            guard !members.isEmpty else { continue }
            let rings = members.map { index -> String in
                let (x, y) = place(index)
                return "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"4.5\"/>"
            }
            let placed = members.map(place)
            let (xs, ys) = (placed.map(\.0).sorted(), placed.map(\.1).sorted())
            let (labelX, labelY) = (xs[xs.count / 2], ys[ys.count / 2])
            shapes.append("<g class=\"map-slice\" data-slice=\"\(HTMLText.escape(group.id))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.4\""
                + "\(group.confirmed ? "" : " stroke-dasharray=\"2 2\"")>\(rings.joined())</g>")
            shapes.append("<text x=\"\(number(labelX + 6))\" y=\"\(number(labelY - 6))\" fill=\"\(colour)\" font-size=\"13\" font-weight=\"bold\""
                + " paint-order=\"stroke\" stroke=\"white\" stroke-width=\"3\">\(HTMLText.escape(group.id))</text>")
            legend.append((colour, group.id))
        }
        let legendItems = legend.enumerated().map { position, entry in
            let x = margin + Double(position) * 76
            return "<circle cx=\"\(number(x))\" cy=\"\(height)\" r=\"4\" fill=\"\(entry.0)\"/>"
                + "<text x=\"\(number(x + 8))\" y=\"\(height + 4)\" font-size=\"11\" fill=\"currentColor\">\(HTMLText.escape(entry.1))</text>"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height + 12)" role="img" aria-label="\(HTMLText.escape(title))">\
        <title>\(HTMLText.escape(title))</title>\
        <rect x="\(margin / 2)" y="\(margin / 2)" width="\(Double(width) - margin)" height="\(Double(height) - margin)" fill="none" stroke="currentColor" stroke-opacity="0.25"/>\
        \(shapes.joined())\(legendItems.joined())</svg>
        """
    }
}
