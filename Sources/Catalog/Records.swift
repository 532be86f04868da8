// What the catalog of blind spots holds: reports (an image, the class it should have been given, what each
// model answered), categories, moderation states, and the queries that list them. Plain values; storage is
// CatalogStore's, images are ImageVault's.
import Foundation

public enum ReportStatus: String, Codable, Sendable, CaseIterable {
    /// New: reachable by its id, not listed publicly.
    case pending
    case approved
    case rejected
}

/// One ImageNet class.
public struct CatalogClass: Codable, Sendable, Equatable, Hashable {
    public let index: Int
    public let label: String

    public init(index: Int, label: String) {
        self.index = index
        self.label = label
    }
}

/// One class a model gave, with its probability.
public struct CatalogPrediction: Codable, Sendable, Equatable {
    public let index: Int
    public let label: String
    public let probability: Double

    public init(index: Int, label: String, probability: Double) {
        self.index = index
        self.label = label
        self.probability = probability
    }
}

/// What one model said about a report's image, and whether the blind spot held (the expected class was not its
/// first choice).
public struct ModelVerdict: Codable, Sendable, Equatable {
    public let model: String
    /// SHA-256 of the weights file that answered, so the record stays reproducible.
    public let weightsDigest: String
    /// The top 5.
    public let predictions: [CatalogPrediction]
    /// Rank of the expected class among all classes (1 = first).
    public let expectedRank: Int
    public let expectedProbability: Double
    public let checkedAt: Date

    public var holds: Bool { expectedRank > 1 }

    public init(model: String, weightsDigest: String, predictions: [CatalogPrediction], expectedRank: Int, expectedProbability: Double,
                checkedAt: Date) {
        self.model = model
        self.weightsDigest = weightsDigest
        self.predictions = predictions
        self.expectedRank = expectedRank
        self.expectedProbability = expectedProbability
        self.checkedAt = checkedAt.roundedToMilliseconds
    }
}

/// An image as the catalog keeps it: content-addressed by the SHA-256 of the bytes that were sent.
public struct StoredImage: Codable, Sendable, Equatable {
    public let sha256: String
    public let width: Int
    public let height: Int

    public init(sha256: String, width: Int, height: Int) {
        self.sha256 = sha256
        self.width = width
        self.height = height
    }
}

/// A group of blind spots: the post's eight, and any a reporter names.
public struct Category: Codable, Sendable, Equatable {
    /// Lowercase letters, digits and dashes, 1–64 characters.
    public let slug: String
    public let title: String
    public let finding: String

    public init(slug: String, title: String, finding: String = "") {
        self.slug = slug
        self.title = title
        self.finding = finding
    }

    /// "Long balloons!" → "long-balloons"; nil when nothing usable is left.
    public static func slug(for title: String) -> String? {
        var slug = ""
        for character in title.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? nil : String(slug.prefix(64))
    }
}

/// One reported blind spot.
public struct FiledReport: Codable, Sendable, Equatable {
    public let id: Int64
    public let image: StoredImage
    public let expected: CatalogClass
    public let category: String?
    public let note: String
    public let reporter: String?
    public let status: ReportStatus
    /// How many times the same image was reported with the same class (1 for a new report).
    public let confirmations: Int
    public let createdAt: Date
    public let updatedAt: Date
    /// What each model present when it was reported answered.
    public let verdicts: [ModelVerdict]
    /// The latest re-check of each model, if any (`blindspot catalog recheck`).
    public let rechecks: [ModelVerdict]

    public init(id: Int64, image: StoredImage, expected: CatalogClass, category: String?, note: String, reporter: String?,
                status: ReportStatus, confirmations: Int, createdAt: Date, updatedAt: Date, verdicts: [ModelVerdict], rechecks: [ModelVerdict]) {
        self.id = id
        self.image = image
        self.expected = expected
        self.category = category
        self.note = note
        self.reporter = reporter
        self.status = status
        self.confirmations = confirmations
        self.createdAt = createdAt.roundedToMilliseconds
        self.updatedAt = updatedAt.roundedToMilliseconds
        self.verdicts = verdicts
        self.rechecks = rechecks
    }
}

/// What a new report is made of; the store gives it an id, times and the pending state.
public struct NewFiledReport: Sendable, Equatable {
    public let image: StoredImage
    public let expected: CatalogClass
    public let category: String?
    public let note: String
    public let reporter: String?
    public let verdicts: [ModelVerdict]
    /// The image itself, for a store that keeps images with their reports (`ImageStore.keepsImagesWithReports`): it is
    /// written in the same transaction as the report. Nil when the image is kept elsewhere, or already.
    public let encoded: EncodedImage?

    public init(image: StoredImage, expected: CatalogClass, category: String?, note: String, reporter: String?, verdicts: [ModelVerdict],
                encoded: EncodedImage? = nil) {
        self.image = image
        self.encoded = encoded
        self.expected = expected
        self.category = category
        self.note = note
        self.reporter = reporter
        self.verdicts = verdicts
    }
}

/// A filtered, paged listing. Nil filters match everything.
public struct ReportQuery: Sendable, Equatable {
    public var category: String?
    public var expected: Int?
    /// Reports whose blind spot still holds for this model (its latest verdict does not put the expected class first).
    public var model: String?
    public var status: ReportStatus?
    /// Words to find in the note, the expected class's label or the category.
    public var text: String?
    /// From 1 (at most 1,000,000).
    public var page: Int
    public var pageSize: Int

    public init(category: String? = nil, expected: Int? = nil, model: String? = nil, status: ReportStatus? = nil, text: String? = nil,
                page: Int = 1, pageSize: Int = 24) {
        self.category = category
        self.expected = expected
        self.model = model
        self.status = status
        self.text = text
        self.page = min(max(page, 1), 1_000_000)
        self.pageSize = min(max(pageSize, 1), 200)
    }
}

public struct ReportPage: Sendable, Equatable {
    /// Newest first.
    public let reports: [FiledReport]
    public let total: Int
    public let page: Int
    public let pageSize: Int

    public init(reports: [FiledReport], total: Int, page: Int, pageSize: Int) {
        self.reports = reports
        self.total = total
        self.page = page
        self.pageSize = pageSize
    }
}

/// Limits the schema also enforces.
public enum CatalogLimits {
    public static let noteLength = 2000
    public static let reporterLength = 100
    public static let categoryTitleLength = 100
}

public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case notFound(Int64)
    /// The storage failed for `fault`; `detail` (paths, database messages) is for logs and the command line only.
    case storage(StorageFault, detail: String)
    /// The catalog could not be opened when the server started, for `fault`; it stays unavailable until a restart.
    case unavailable(StorageFault, detail: String)

    public var description: String {
        switch self {
        case .invalid(let reason): return reason
        case .notFound(let id): return "there is no report \(id)"
        case .storage(let fault, let detail): return "\(fault.summary): \(detail)"
        case .unavailable(let fault, let detail): return "the catalog could not be opened (\(fault.summary)): \(detail)"
        }
    }
}

extension Date {
    /// Whole milliseconds since 1970: what both databases store exactly.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(millisecondsSince1970: Int64) {
        self.init(timeIntervalSince1970: Double(millisecondsSince1970) / 1000)
    }

    var roundedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
