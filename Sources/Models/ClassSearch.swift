// Near misses for class names: "husky" is no ImageNet class, but WordNet calls class 248 (Eskimo dog) a husky and
// class 250 is the Siberian husky. Every class is matched on its name and its WordNet synonyms, and ranked by how the
// best of them matches the text: equal, the same words, a prefix, a word's prefix, a substring, then a few typos.
import Foundation

/// One class a text may have meant, and the name or synonym that matched it.
public struct ClassMatch: Sendable, Equatable, Codable {
    public let index: Int
    public let wordNetID: String
    /// The class's name as the class list spells it.
    public let label: String
    /// The name or WordNet synonym that matched (equal to `label` when the name did).
    public let matched: String

    public init(index: Int, wordNetID: String, label: String, matched: String) {
        (self.index, self.wordNetID, self.label, self.matched) = (index, wordNetID, label, matched)
    }
}

extension ImageNetLabels {
    /// The longest text matched: class names are at most 40 characters, and longer input says nothing more.
    static let maximumQueryLength = 64

    /// Up to `limit` classes `text` may mean, the best first; empty when nothing is close.
    public func suggestions(for text: String, limit: Int = 5) -> [ClassMatch] {
        let query = Self.normalized(text)
        guard !query.isEmpty, query.count <= Self.maximumQueryLength, limit > 0 else { return [] }
        let queryWords = query.split(separator: " ").map(String.init)
        var ranked: [(score: Int, match: ClassMatch)] = []
        for entry in entries {
            var best: (score: Int, term: String)? = nil
            for (position, term) in ([entry.name] + entry.synonyms).enumerated() {
                // The class's own name wins a tie with a synonym.
                let score = Self.score(Self.normalized(term), query: query, queryWords: queryWords) * 2 + (position == 0 ? 1 : 0)
                if score > 1, score > best?.score ?? 0 { best = (score, term) }
            }
            if let best {
                ranked.append((best.score, ClassMatch(index: entry.index, wordNetID: entry.wordNetID, label: entry.name, matched: best.term)))
            }
        }
        ranked.sort { ($0.score, -$0.match.label.count, -$0.match.index) > ($1.score, -$1.match.label.count, -$1.match.index) }
        // Typos are offered only when no class contains the text: "husky" should not bring "hanky".
        let floor = (ranked.first?.score ?? 0) >= 2 * Self.substringScore ? 2 * Self.substringScore : 0
        return ranked.prefix(while: { $0.score >= floor }).prefix(limit).map(\.match)
    }

    /// What to tell someone whose `text` names no class: the near misses, then how to name a class exactly.
    public func unknownClassMessage(_ text: String) -> String {
        let shown = text.count > Self.maximumQueryLength ? String(text.prefix(Self.maximumQueryLength)) + "…" : text
        let matches = suggestions(for: text, limit: 3).map { match in
            match.matched == match.label ? "'\(match.label)'" : "'\(match.label)' (also called \(match.matched))"
        }
        var sentences = ["'\(shown)' is not one of the 1000 ImageNet classes."]
        if let last = matches.last {
            sentences.append("Did you mean " + (matches.count == 1 ? last : matches.dropLast().joined(separator: ", ") + " or " + last) + "?")
        }
        sentences.append("Give an index 0-999, a WordNet id or an exact class name.")
        return sentences.joined(separator: " ")
    }

    /// Lower case without accents, "_" and "-" as spaces, single spaces, no ends.
    static func normalized(_ text: String) -> String {
        String(text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).map { $0 == "_" || $0 == "-" ? " " : $0 })
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static let substringScore = 50

    /// How well `term` matches `query` (both normalised): 0 for not at all, up to 100 for equal.
    static func score(_ term: String, query: String, queryWords: [String]) -> Int {
        if term == query { return 100 }
        let termWords = term.split(separator: " ").map(String.init)
        if queryWords.allSatisfy(termWords.contains) { return 90 - min(termWords.count - queryWords.count, 9) }
        if term.hasPrefix(query) { return 70 }
        guard query.count >= 3 else { return 0 }
        if termWords.contains(where: { $0.hasPrefix(query) }) { return 60 }
        if term.contains(query) { return substringScore }
        let allowed = query.count <= 5 ? 1 : query.count <= 10 ? 2 : 3
        let whole = EditDistance.between(query, term, limit: allowed)
        if whole <= allowed { return 40 - 5 * whole }
        let word = termWords.map { EditDistance.between(query, $0, limit: allowed) }.min() ?? allowed + 1
        return word <= allowed ? 30 - 5 * word : 0
    }
}

/// How far apart two words are: near misses for class names here, mistyped subcommands in the command line.
public enum EditDistance {
    /// The fewest insertions, deletions and substitutions that turn `a` into `b` (Levenshtein), or `limit + 1` as soon as
    /// it must exceed `limit`.
    public static func between(_ a: String, _ b: String, limit: Int = Int.max - 1) -> Int {
        let a = Array(a), b = Array(b)
        if abs(a.count - b.count) > limit { return limit + 1 }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            if current.min() ?? 0 > limit { return limit + 1 }
            previous = current
        }
        return previous[b.count]
    }
}
