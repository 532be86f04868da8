// The 1000 ImageNet-1k classes in the models' output order, from the project's own copy of the class list
// (index, WordNet id, name). Looks classes up by index, WordNet id or exact name.
import Foundation

public struct ImageNetLabels: Sendable {
    public struct Entry: Sendable, Equatable {
        public let index: Int
        public let wordNetID: String
        public let name: String
    }

    public let entries: [Entry]
    private let byWordNetID: [String: Int]
    private let byName: [String: Int]

    public enum LoadError: Error, CustomStringConvertible {
        case missingResource
        case malformedLine(Int, String)

        public var description: String {
            switch self {
            case .missingResource: return "the ImageNet class list is missing from the Models bundle"
            case .malformedLine(let number, let line): return "imagenet-classes.tsv line \(number) is not 'index<TAB>wnid<TAB>name': \(line)"
            }
        }
    }

    /// The list shipped with Blindspot.
    public static func bundled() throws -> ImageNetLabels {
        guard let url = Bundle.module.url(forResource: "imagenet-classes", withExtension: "tsv") else { throw LoadError.missingResource }
        return try ImageNetLabels(tsv: String(contentsOf: url, encoding: .utf8))
    }

    /// Parses `index<TAB>wnid<TAB>name` lines after a header line; indices must run 0, 1, 2, … in order.
    public init(tsv: String) throws {
        var entries: [Entry] = []
        for (number, line) in tsv.split(separator: "\n", omittingEmptySubsequences: true).enumerated().dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3, let index = Int(fields[0]), index == entries.count else {
                throw LoadError.malformedLine(number + 1, String(line))
            }
            entries.append(Entry(index: index, wordNetID: String(fields[1]), name: String(fields[2])))
        }
        self.entries = entries
        byWordNetID = Dictionary(entries.map { ($0.wordNetID, $0.index) }, uniquingKeysWith: { first, _ in first })
        byName = Dictionary(entries.map { ($0.name.lowercased(), $0.index) }, uniquingKeysWith: { first, _ in first })
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
