// The post's examples as data: an examples.json beside the images it names, loaded strictly.
// Serving the images and drawing the gallery are the web app's job; this only reads and checks the description.
import Foundation
import Models

/// One prediction the post's demo showed, as it was displayed (whole percent).
public struct ReportedPrediction: Sendable, Codable, Equatable {
    public let index: Int
    public let name: String
    public let probability: Double
}

/// One example of a blind spot: an image, what it shows, and what the post's Inception v3 answered.
public struct Example: Sendable, Codable, Equatable {
    public let id: Int
    public let file: String
    public let category: String
    public let title: String
    public let finding: String
    /// Every ImageNet class that would count as right.
    public let expected: [ExampleClass]
    /// What the post's demo answered (Inception v3), best first.
    public let reportedTop3: [ReportedPrediction]

    enum CodingKeys: String, CodingKey {
        case id, file, category, title, finding, expected
        case reportedTop3 = "inception_v3_top3"
    }
}

/// A category of examples, in the order the description lists them.
public struct ExampleCategory: Sendable, Equatable {
    public let slug: String
    public let title: String
    public let finding: String
    public let examples: [Example]
}

public enum ExampleGalleryError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .invalid(let path, let reason): return "\(path) is not a valid examples description: \(reason)"
        }
    }
}

/// The examples of one folder. An absent folder or description gives an empty gallery that remembers where
/// images were looked for, so the page can say where to put them.
public struct ExampleGallery: Sendable {
    public let directory: URL
    public let examples: [Example]
    /// Where the examples come from (examples.json's "source"), for attribution.
    public let source: String?

    public static let descriptionFile = "examples.json"

    private struct Description: Decodable {
        let source: String?
        let examples: [Example]
    }

    /// An empty gallery for `directory` (nothing there yet).
    public init(emptyAt directory: URL) {
        self.init(directory: directory, examples: [], source: nil)
    }

    private init(directory: URL, examples: [Example], source: String?) {
        self.directory = directory
        self.examples = examples
        self.source = source
    }

    /// Reads `directory/examples.json`; a missing file gives an empty gallery, a malformed one is an error.
    /// Every expected and reported class is checked against `labels`, ids must be unique and file names plain.
    public init(directory: URL, labels: ImageNetLabels) throws {
        let file = directory.appendingPathComponent(Self.descriptionFile)
        guard FileManager.default.fileExists(atPath: file.path) else {
            self.init(emptyAt: directory)
            return
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw ExampleGalleryError.unreadable(path: file.path, reason: error.localizedDescription)
        }
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: data) } catch {
            throw ExampleGalleryError.invalid(path: file.path, reason: String(describing: error))
        }
        var seen = Set<Int>()
        for example in description.examples {
            func fail(_ reason: String) -> ExampleGalleryError { .invalid(path: file.path, reason: "example \(example.id): \(reason)") }
            guard seen.insert(example.id).inserted else { throw fail("duplicate id") }
            guard example.id > 0 else { throw fail("ids start at 1") }
            guard !example.file.isEmpty, !example.file.contains("/"), !example.file.hasPrefix(".") else {
                throw fail("file '\(example.file)' must be a plain file name inside the folder")
            }
            guard !example.expected.isEmpty else { throw fail("no expected class") }
            for known in example.expected.map({ ($0.index, $0.name) }) + example.reportedTop3.map({ ($0.index, $0.name) }) {
                guard known.0 >= 0, known.0 < labels.count, labels[known.0].name == known.1 else {
                    throw fail("class \(known.0) '\(known.1)' is not that ImageNet class")
                }
            }
        }
        self.init(directory: directory, examples: description.examples, source: description.source)
    }

    public func example(id: Int) -> Example? {
        examples.first { $0.id == id }
    }

    /// The image file of `example`, if it is in the folder.
    public func imageFile(of example: Example) -> URL? {
        let url = directory.appendingPathComponent(example.file)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Examples grouped by category, categories in order of first appearance.
    public var categories: [ExampleCategory] {
        var order: [String] = []
        var members: [String: [Example]] = [:]
        for example in examples {
            if members[example.category] == nil { order.append(example.category) }
            members[example.category, default: []].append(example)
        }
        return order.map { slug in
            let group = members[slug]!
            return ExampleCategory(slug: slug, title: group[0].title, finding: group[0].finding, examples: group)
        }
    }
}
