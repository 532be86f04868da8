// Words for a slice found in the embeddings, which has no rule to read: its members' dominant classes and group, the
// answer it most often gets wrong, and the attribute on which its members stand furthest from the folder's.
import Foundation
import Imaging

enum SliceDescription {
    /// E.g. "38 images, mostly Shetland sheepdog (8) and collie (6), all in WordNet group 'dog'; wrongly called
    /// 'ballpoint' 5 times; sharpness lower than 91% of the folder".
    static func embedding(members: [Int], input: DiscoveryInput, answers: DiscoveryModelAnswers, wrong: [Bool], folder: [Int]) -> String {
        var parts = ["\(members.count) images"]
        var classes: [Int: Int] = [:]
        for index in members { classes[input.images[index].truth, default: 0] += 1 }
        let top = classes.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(2)
        parts[0] += ", mostly " + top.map { "\(input.classNames[$0.key]) (\($0.value))" }.joined(separator: " and ")
        if let group = commonGroup(members.map { input.images[$0].groups }) {
            parts[0] += ", \(group.share == members.count ? "all" : Percent.whole(Double(group.share) / Double(members.count))) in WordNet group '\(group.name)'"
        }
        var mistakes: [Int: Int] = [:]
        for index in members where wrong[index] { mistakes[answers.answers[index].predicted, default: 0] += 1 }
        if let mistake = mistakes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }), mistake.value >= 2 {
            parts.append("wrongly called '\(input.classNames[mistake.key])' \(mistake.value) times")
        }
        if let deviation = strongestDeviation(members: members, folder: folder, input: input) { parts.append(deviation) }
        return parts.joined(separator: "; ")
    }

    /// The most specific group (first in each image's list) that at least 60% of `groups` share, and how many share it.
    static func commonGroup(_ groups: [[String]]) -> (name: String, share: Int)? {
        var counts: [String: Int] = [:]
        var depth: [String: Int] = [:]
        for list in groups {
            for (position, group) in list.enumerated() {
                counts[group, default: 0] += 1
                depth[group] = max(depth[group] ?? 0, list.count - position)
            }
        }
        let threshold = Int((0.6 * Double(groups.count)).rounded(.up))
        // Deepest (most specific) first; broad ancestors such as 'entity' are shared by everything and say nothing.
        return counts.filter { $0.value >= threshold }.max { (depth[$0.key] ?? 0, $0.value) < (depth[$1.key] ?? 0, $1.value) }
            .flatMap { (depth[$0.key] ?? 0) >= 6 ? ($0.key, $0.value) : nil }
    }

    /// "brightness lower than 85% of the folder": the first of `deviations`, in words.
    static func strongestDeviation(members: [Int], folder: [Int], input: DiscoveryInput) -> String? {
        guard let best = deviations(members: members, folder: folder, input: input).first else { return nil }
        let words = SlicePredicate.words(best.name)
        return best.percentile < 0.5
            ? "\(words) lower than \(Percent.whole(1 - best.percentile)) of the folder"
            : "\(words) higher than \(Percent.whole(best.percentile)) of the folder"
    }

    /// The numeric attributes whose median over `members` sits below the folder's 20th percentile or above its 80th,
    /// most extreme first, with that percentile (the share of the folder below the members' median).
    static func deviations(members: [Int], folder: [Int], input: DiscoveryInput) -> [(name: String, percentile: Double)] {
        let names = Set(folder.flatMap { input.images[$0].numeric.keys }).sorted()
        var found: [(name: String, percentile: Double)] = []
        for name in names {
            let all = folder.compactMap { input.images[$0].numeric[name] }
            let mine = members.compactMap { input.images[$0].numeric[name] }.sorted()
            guard !all.isEmpty, !mine.isEmpty else { continue }
            let median = mine[mine.count / 2]
            let percentile = Double(all.count { $0 < median }) / Double(all.count)
            if percentile < 0.2 || percentile > 0.8 { found.append((name, percentile)) }
        }
        // Stable for equal extremes: the names' order.
        return found.enumerated().sorted { (abs($0.element.percentile - 0.5), -$0.offset) > (abs($1.element.percentile - 0.5), -$1.offset) }.map(\.element)
    }
}
