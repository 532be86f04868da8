// The 1000 ImageNet-1k classes in the models' output order, from the project's own copy of the class list
// (index, WordNet id, name) and the WordNet 3.0 table derived from it (synonyms and ancestors of each class; made by
// scripts/wordnet_table.py). Looks classes up strictly by index, WordNet id or exact name, and ranks near misses.
import Foundation

public struct ImageNetLabels: Sendable {
    public struct Entry: Sendable, Equatable {
        public let index: Int
        public let wordNetID: String
        public let name: String
        /// WordNet's lemmas for the class's synset ("Eskimo dog", "husky"); empty when the list came without the table.
        public let synonyms: [String]
        /// Every hypernym up to "entity", nearest first ("sled dog", "working dog", "dog", …).
        public let ancestors: [String]

        public init(index: Int, wordNetID: String, name: String, synonyms: [String] = [], ancestors: [String] = []) {
            (self.index, self.wordNetID, self.name, self.synonyms, self.ancestors) = (index, wordNetID, name, synonyms, ancestors)
        }
    }

    public let entries: [Entry]
    private let byWordNetID: [String: Int]
    private let byName: [String: Int]

    public enum LoadError: Error, CustomStringConvertible {
        case missingResource(String)
        case malformedLine(String, Int, String)
        case wordNetMismatch(Int)

        public var description: String {
            switch self {
            case .missingResource(let name): return "\(name) is missing from the Models bundle"
            case .malformedLine(let file, let number, let line): return "\(file) line \(number) is malformed: \(line)"
            case .wordNetMismatch(let count): return "imagenet-wordnet.tsv does not follow the class list (\(count) rows, or a row's index or WordNet id differs)"
            }
        }
    }

    /// The list shipped with Blindspot, with its WordNet table.
    public static func bundled() throws -> ImageNetLabels {
        func text(_ name: String) throws -> String {
            guard let url = Bundle.module.url(forResource: name, withExtension: "tsv") else { throw LoadError.missingResource(name + ".tsv") }
            return try String(contentsOf: url, encoding: .utf8)
        }
        return try ImageNetLabels(tsv: text("imagenet-classes"), wordNet: text("imagenet-wordnet"))
    }

    /// Parses `index<TAB>wnid<TAB>name` lines after a header line; indices must run 0, 1, 2, … in order. `wordNet`, when
    /// given, has `index<TAB>wnid<TAB>synonyms<TAB>ancestors` rows (lists separated by " | ") for the same classes in order.
    public init(tsv: String, wordNet: String? = nil) throws {
        let rows = try Self.rows(tsv, file: "imagenet-classes.tsv", fields: 3)
        let wordNetRows = try wordNet.map { try Self.rows($0, file: "imagenet-wordnet.tsv", fields: 4) }
        if let wordNetRows, wordNetRows.count != rows.count { throw LoadError.wordNetMismatch(wordNetRows.count) }
        var entries: [Entry] = []
        for (position, fields) in rows.enumerated() {
            guard let index = Int(fields[0]), index == entries.count else {
                throw LoadError.malformedLine("imagenet-classes.tsv", position + 2, fields.joined(separator: "\t"))
            }
            var synonyms: [String] = [], ancestors: [String] = []
            if let row = wordNetRows?[position] {
                guard row[0] == fields[0], row[1] == fields[1] else { throw LoadError.wordNetMismatch(wordNetRows?.count ?? 0) }
                synonyms = Self.list(row[2])
                ancestors = Self.list(row[3])
            }
            entries.append(Entry(index: index, wordNetID: fields[1], name: fields[2], synonyms: synonyms, ancestors: ancestors))
        }
        self.entries = entries
        byWordNetID = Dictionary(entries.map { ($0.wordNetID, $0.index) }, uniquingKeysWith: { first, _ in first })
        byName = Dictionary(entries.map { ($0.name.lowercased(), $0.index) }, uniquingKeysWith: { first, _ in first })
    }

    /// The rows after the header, each split at tabs into exactly `fields` fields.
    private static func rows(_ text: String, file: String, fields count: Int) throws -> [[String]] {
        try text.split(separator: "\n", omittingEmptySubsequences: true).enumerated().dropFirst().map { number, line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == count else { throw LoadError.malformedLine(file, number + 1, String(line)) }
            return fields
        }
    }

    private static func list(_ field: String) -> [String] {
        field.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public var count: Int { entries.count }

    /// How many classes ImageNet-1k has: the outputs of every model Blindspot runs.
    public static let classCount = 1000

    public subscript(index: Int) -> Entry { entries[index] }

    public func index(ofWordNetID wordNetID: String) -> Int? { byWordNetID[wordNetID] }

    /// The class whose name is exactly `name`, ignoring case.
    public func index(ofName name: String) -> Int? { byName[name.lowercased()] }

    /// A class given as an index ("409"), a WordNet id ("n02708093") or an exact name ("analog clock").
    public func resolve(_ text: String) -> Int? {
        // Only the canonical spelling of an index ("7", not "007" or "+7"), as the API document's pattern says.
        if let index = Int(text), String(index) == text, entries.indices.contains(index) { return index }
        return index(ofWordNetID: text) ?? index(ofName: text)
    }
}

/// One class by index and name: what an example, a probe or a report expects.
public struct ExampleClass: Sendable, Codable, Equatable {
    public let index: Int
    public let name: String

    public init(index: Int, name: String) {
        self.index = index
        self.name = name
    }
}
