// The attribute search: SliceLine's score (Sagadeeva & Boehm, SIGMOD 2021) over binned attributes and WordNet class
// groups, conjunctions of at most two predicates, on the discovery half. Bins are quintiles fitted on that half.
import Foundation

/// One condition on an image; a slice's rule is a conjunction of them.
public enum SlicePredicate: Sendable, Codable, Hashable {
    /// `lower < value ≤ upper` (an open end is nil): the attribute between its `from` and `to` quantiles on the
    /// discovery half (0.2 and 0.4: the second fifth).
    case range(attribute: String, from: Double, to: Double, lower: Double?, upper: Double?)
    case category(attribute: String, value: String)
    /// The labelled class belongs to this WordNet group.
    case group(name: String)

    public func holds(for image: DiscoveryImage) -> Bool {
        switch self {
        case let .range(attribute, _, _, lower, upper):
            guard let value = image.numeric[attribute] else { return false }
            return (lower.map { value > $0 } ?? true) && (upper.map { value <= $0 } ?? true)
        case let .category(attribute, value):
            return image.categories[attribute] == value
        case let .group(name):
            return image.groups.contains(name)
        }
    }

    /// What the predicate ranges over: two predicates of one conjunction never share it.
    var dimension: String {
        switch self {
        case let .range(attribute, _, _, _, _), let .category(attribute, _): attribute
        case .group: "class group"
        }
    }

    /// "brightness in the lowest 20% (≤ 0.312)", "dominant hue: blue", "class in WordNet group 'dog'".
    public var text: String {
        switch self {
        case let .range(attribute, from, to, lower, upper):
            func percent(_ fraction: Double) -> Int { Int((fraction * 100).rounded()) }
            let place = from == 0 ? "the lowest \(percent(to))%" : to == 1 ? "the highest \(percent(1 - from))%"
                : "the \(percent(from))th–\(percent(to))th percentiles"
            let bounds = switch (lower, upper) {
            case let (nil, upper?): "≤ \(Self.number(upper))"
            case let (lower?, nil): "> \(Self.number(lower))"
            case let (lower?, upper?): "\(Self.number(lower))–\(Self.number(upper))"
            case (nil, nil): "any"
            }
            return "\(Self.words(attribute)) in \(place) (\(bounds))"
        case let .category(attribute, value):
            return "\(Self.words(attribute)): \(value)"
        case let .group(name):
            return "class in WordNet group '\(name)'"
        }
    }

    /// "dominantHue" → "dominant hue".
    static func words(_ name: String) -> String {
        name.reduce(into: "") { text, character in
            if character.isUppercase { text += " " + character.lowercased() } else { text.append(character) }
        }
    }

    static func number(_ value: Double) -> String {
        abs(value) >= 100 ? String(Int(value.rounded())) : String(format: abs(value) >= 10 ? "%.1f" : "%.3g", value)
    }
}

/// A candidate found on the discovery half, with its SliceLine score.
struct SliceCandidate {
    let rule: [SlicePredicate]
    /// Membership over the discovery half, by position.
    let members: [Bool]
    let size: Int
    let errorRate: Double
    let score: Double
}

struct SliceSearch {
    /// SliceLine's weight of the error term against the size term.
    static let alpha = 0.95
    /// Class groups holding more than this share of the half say nothing about where the model fails.
    static let broadestGroup = 0.5

    let minimumSize: Int

    /// The predicates worth trying on `images`: each numeric attribute's fifths (edges at its 20th … 80th percentiles
    /// on `images`, tied edges merged) and its lowest and highest two fifths, each category value, each class group
    /// holding at most half the images; only those with at least `minimumSize` members.
    func predicates(_ images: [DiscoveryImage]) -> [SlicePredicate] {
        var predicates: [SlicePredicate] = []
        let numericNames = Set(images.flatMap(\.numeric.keys)).sorted()
        for name in numericNames {
            let values = images.compactMap { $0.numeric[name] }.sorted()
            guard values.count >= minimumSize else { continue }
            var edges: [(fraction: Double, value: Double)] = []
            for fraction in [0.2, 0.4, 0.6, 0.8] {
                let edge = values[min(values.count - 1, Int((fraction * Double(values.count)).rounded(.down)))]
                if edges.last.map({ edge > $0.value }) ?? true { edges.append((fraction, edge)) }
            }
            let bounds: [(fraction: Double, value: Double?)] = [(0, nil)] + edges.map { ($0.fraction, $0.value) } + [(1, nil)]
            var ranges = (0..<(bounds.count - 1)).map { (bounds[$0], bounds[$0 + 1]) }
            if bounds.count >= 4 {
                ranges += [(bounds[0], bounds[2]), (bounds[bounds.count - 3], bounds[bounds.count - 1])]
            }
            for (low, high) in ranges {
                predicates.append(.range(attribute: name, from: low.fraction, to: high.fraction, lower: low.value, upper: high.value))
            }
        }
        for name in Set(images.flatMap(\.categories.keys)).sorted() {
            for value in Set(images.compactMap { $0.categories[name] }).sorted() {
                predicates.append(.category(attribute: name, value: value))
            }
        }
        var groupSizes: [String: Int] = [:]
        for image in images { for group in Set(image.groups) { groupSizes[group, default: 0] += 1 } }
        for (group, size) in groupSizes.sorted(by: { $0.key < $1.key }) where Double(size) <= Self.broadestGroup * Double(images.count) {
            predicates.append(.group(name: group))
        }
        return predicates.filter { predicate in images.count { predicate.holds(for: $0) } >= minimumSize }
    }

    /// SliceLine's score: α (e_S / e − 1) − (1 − α) (n / |S| − 1), positive when the slice's error outweighs its size.
    static func score(errorRate: Double, size: Int, overallErrorRate: Double, count: Int) -> Double {
        guard overallErrorRate > 0, size > 0 else { return -.infinity }
        return alpha * (errorRate / overallErrorRate - 1) - (1 - alpha) * (Double(count) / Double(size) - 1)
    }

    /// Every single predicate and every pair over two dimensions with at least `minimumSize` members and a positive
    /// score, best first; at most `limit`. Left out: near-duplicates (Jaccard similarity ≥ 0.8 with a better one), and a
    /// slice that only carries a smaller one (it holds 90% of the smaller one's members, and its other members fail no
    /// more than 1.25 times as often as the half), since the smaller one says where the failures are; and a slice that
    /// refines nothing (70% of it lies in a larger one it fails at most 1.1 times as often as).
    func candidates(_ images: [DiscoveryImage], errors: [Bool], limit: Int) -> [SliceCandidate] {
        let count = images.count
        let overall = Double(errors.count { $0 }) / Double(max(count, 1))
        let predicates = predicates(images)
        let memberships = predicates.map { predicate in images.map { predicate.holds(for: $0) } }
        func candidate(_ rule: [SlicePredicate], _ members: [Bool]) -> SliceCandidate? {
            let size = members.count { $0 }
            guard size >= minimumSize else { return nil }
            let wrong = zip(members, errors).count { $0 && $1 }
            let rate = Double(wrong) / Double(size)
            let score = Self.score(errorRate: rate, size: size, overallErrorRate: overall, count: count)
            return score > 0 ? SliceCandidate(rule: rule, members: members, size: size, errorRate: rate, score: score) : nil
        }
        var found: [SliceCandidate] = []
        for (index, predicate) in predicates.enumerated() {
            if let single = candidate([predicate], memberships[index]) { found.append(single) }
            for other in (index + 1)..<predicates.count where predicates[other].dimension != predicate.dimension {
                let both = zip(memberships[index], memberships[other]).map { $0 && $1 }
                if let pair = candidate([predicate, predicates[other]], both) { found.append(pair) }
            }
        }
        found.sort { $0.score > $1.score || ($0.score == $1.score && $0.rule.count < $1.rule.count) }
        let leading = Array(found.prefix(Self.consideredForCarrying))
        let carriers = Set(leading.indices.filter { outer in
            leading.indices.contains { inner in
                inner != outer && Self.carries(leading[outer], leading[inner], errors: errors, overall: overall)
            }
        })
        let refinesNothing = Set(leading.indices.filter { inner in
            leading.indices.contains { outer in
                outer != inner && !carriers.contains(outer) && Self.refinesNothing(leading[inner], of: leading[outer])
            }
        })
        var kept: [SliceCandidate] = []
        for (index, slice) in found.enumerated() where kept.count < limit && !carriers.contains(index) && !refinesNothing.contains(index) {
            if kept.allSatisfy({ Self.jaccard($0.members, slice.members) < 0.8 }) { kept.append(slice) }
        }
        return kept
    }

    /// True when 70% of `inner` lies in the larger `outer` and `inner` fails at most 1.1 times as often.
    static func refinesNothing(_ inner: SliceCandidate, of outer: SliceCandidate) -> Bool {
        guard outer.size > inner.size else { return false }
        let shared = zip(outer.members, inner.members).count { $0 && $1 }
        return Double(shared) >= 0.7 * Double(inner.size) && inner.errorRate <= 1.1 * outer.errorRate
    }

    /// How many of the best candidates are compared with each other for carrying and refining.
    static let consideredForCarrying = 300

    /// True when `outer` is larger than `inner`, holds at least 90% of it, and the rest of `outer` fails no more than
    /// 1.25 times as often as the half.
    static func carries(_ outer: SliceCandidate, _ inner: SliceCandidate, errors: [Bool], overall: Double) -> Bool {
        guard outer.size > inner.size else { return false }
        let shared = zip(outer.members, inner.members).count { $0 && $1 }
        guard Double(shared) >= 0.9 * Double(inner.size) else { return false }
        var (rest, wrong) = (0, 0)
        for index in errors.indices where outer.members[index] && !inner.members[index] {
            rest += 1
            if errors[index] { wrong += 1 }
        }
        return rest == 0 || Double(wrong) / Double(rest) <= 1.25 * overall
    }

    static func jaccard(_ left: [Bool], _ right: [Bool]) -> Double {
        let both = zip(left, right).count { $0 && $1 }
        let either = zip(left, right).count { $0 || $1 }
        return either == 0 ? 0 : Double(both) / Double(either)
    }
}
