// A slice that `blindspot discover` found, filed in the catalog: its first members as pending reports, each expected
// to be its label, in one category titled after the slice. Reading the results and writing the finding are the caller's.
import Analysis
import Catalog
import Foundation
import Imaging

/// Why no slice could be taken from discovery results, in words fit to print.
public enum SliceChoiceError: Error, Equatable, CustomStringConvertible {
    case noModel
    case unknownModel(String, known: [String])
    case unknownSlice(String, model: String, known: [String])

    public var description: String {
        switch self {
        case .noModel: "the results hold no model"
        case let .unknownModel(name, known): "the results have no model '\(name)'; they have \(known.joined(separator: ", "))"
        case let .unknownSlice(id, model, known):
            "\(model) has no slice '\(id)' in the results; " + (known.isEmpty ? "it has none" : "its slices are \(known.joined(separator: ", "))")
        }
    }
}

/// One slice of discovery results, chosen by its id among one model's slices.
public struct DiscoveredSlice: Sendable {
    public let results: DiscoveryResults
    public let model: ModelDiscovery
    public let slice: Slice
    /// The results file's name, for notes.
    public let source: String

    /// The slice `id` of the model named `name` (default: the results' first model).
    public init(_ results: DiscoveryResults, model name: String?, slice id: String, source: String) throws(SliceChoiceError) {
        let model: ModelDiscovery
        if let name {
            guard let named = results.models.first(where: { $0.model == name }) else { throw .unknownModel(name, known: results.models.map(\.model)) }
            model = named
        } else {
            guard let first = results.models.first else { throw .noModel }
            model = first
        }
        guard let slice = model.slices.first(where: { $0.id == id }) else { throw .unknownSlice(id, model: model.model, known: model.slices.map(\.id)) }
        self.results = results
        self.model = model
        self.slice = slice
        self.source = source
    }

    /// "Discovered: <the slice's description>", cut to the catalog's limit on titles.
    public var categoryTitle: String {
        let description = slice.description.trimmingCharacters(in: .whitespacesAndNewlines)
        return Self.cut("Discovered: " + (description.isEmpty ? "slice \(slice.id)" : description), to: CatalogLimits.categoryTitleLength)
    }

    /// The note of the report filed for `file`.
    public func note(for file: String) -> String {
        Self.cut("\(file) is one of the \(slice.members.count) images of slice \(slice.id) of \(model.model) in \(source): \(slice.description)",
                 to: CatalogLimits.noteLength)
    }

    /// `text` when it holds at most `limit` Unicode scalars (the catalog counts those), else its start and "…".
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        let start = String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit - 1)))
        return start.trimmingCharacters(in: .whitespacesAndNewlines) + "…"
    }
}

/// What importing a slice did.
public struct SliceFiling: Sendable {
    public struct Filed: Sendable {
        public let file: String
        public let report: FiledReport
        /// True when the same image was already reported with the same class: a confirmation was added to it.
        public let merged: Bool
    }

    public struct Skipped: Sendable, Equatable {
        public let file: String
        public let reason: String
    }

    /// The slice's category; nil when no member could be filed.
    public var category: Category?
    /// True when this import made the category (else one of the same title was reused).
    public var madeCategory = false
    public var filed: [Filed] = []
    public var skipped: [Skipped] = []
}

extension CatalogService {
    /// Files up to `limit` of the slice's members, in their order, read from `dataset` (the folder discovery read), as
    /// pending reports expected to be their labels (as LabelledDataset labels a file), judged by the ready models, in
    /// the category titled `slice.categoryTitle`: the existing one of that title, else a new one saying `finding`. A
    /// member that is gone, has no label or is not an image is skipped, and the next one taken.
    public func importSlice(_ slice: DiscoveredSlice, from dataset: URL, limit: Int, finding: String, reporter: String) async throws -> SliceFiling {
        var filing = SliceFiling()
        for file in slice.slice.members where filing.filed.count < limit {
            let bytes: Data
            switch Self.contents(of: dataset.appendingPathComponent(file)) {
            case .success(let data): bytes = data
            case .failure(let problem):
                filing.skipped.append(.init(file: file, reason: "\(problem.reason) in \(dataset.path)"))
                continue
            }
            guard let expected = LabelledDataset.classIndex(of: file, labels: labels) else {
                filing.skipped.append(.init(file: file, reason: "its label cannot be told from its path (CLASS/NAME, or WNID_NAME)"))
                continue
            }
            let category: Category
            if let known = filing.category {
                category = known
            } else {
                (category, filing.madeCategory) = try await sliceCategory(title: slice.categoryTitle, finding: finding)
                filing.category = category
            }
            do {
                let (report, merged) = try await report(image: bytes, expected: expected, note: slice.note(for: file),
                                                        category: .existing(slug: category.slug), reporter: reporter)
                filing.filed.append(.init(file: file, report: report, merged: merged))
            } catch let error as ImageError {
                filing.skipped.append(.init(file: file, reason: "\(error)"))
            }
        }
        return filing
    }

    /// The category titled `title`, or a new one saying `finding`, its slug the title's (numbered when another
    /// category has it); true when it is new.
    private func sliceCategory(title: String, finding: String) async throws -> (Category, Bool) {
        let categories = try await store.categories()
        if let existing = categories.first(where: { $0.title == title }) { return (existing, false) }
        guard let base = Category.slug(for: title) else { throw CatalogError.invalid("a category title needs letters or digits") }
        let taken = Set(categories.map(\.slug))
        var slug = base
        var number = 1
        while taken.contains(slug) {
            number += 1
            // Slugs hold at most 64 characters; slug(for:) also folds a dash the cut leaves before the suffix.
            slug = Category.slug(for: base.prefix(64 - "-\(number)".count) + "-\(number)") ?? base
        }
        let category = Category(slug: slug, title: title, finding: finding)
        try await store.ensureCategory(category)
        return (category, true)
    }

    /// Why a member's file cannot be read.
    struct UnreadableFile: Error {
        let reason: String
    }

    /// The bytes of the regular file at `url` (links followed); anything else (gone, a folder, a FIFO that would
    /// block) says why not.
    static func contents(of url: URL) -> Result<Data, UnreadableFile> {
        let path = url.resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            return .failure(UnreadableFile(reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no longer exists"))
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return .failure(UnreadableFile(reason: "is not a regular file")) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(UnreadableFile(reason: "cannot be read")) }
        return .success(data)
    }
}
