// Where the catalog's images live: files beside a SQLite catalog (ImageVault), or PostgreSQL's image table when the
// catalog is there, so that servers sharing the database share nothing else. Images are content-addressed.
import Foundation

/// An image ready to keep: the bytes that were sent and the PNG shown back, at most 1024 px a side.
public struct EncodedImage: Sendable, Equatable {
    public let stored: StoredImage
    public let original: Data
    /// The original's format as a file extension (jpg, png, webp, gif).
    public let originalExtension: String
    public let display: Data

    public init(stored: StoredImage, original: Data, originalExtension: String, display: Data) {
        self.stored = stored
        self.original = original
        self.originalExtension = originalExtension
        self.display = display
    }
}

public protocol ImageStore: Sendable {
    /// Where the images are, for messages (a folder, or PostgreSQL).
    var location: String { get }

    /// The folder whose file system health decides whether reports can be filed; nil when images are not files.
    var healthDirectory: URL? { get }

    /// True when the images are written by the catalog store itself, in the transaction that adds their report
    /// (`NewFiledReport.encoded`); false when `write` must keep them, flushed, before the report row points to them.
    var keepsImagesWithReports: Bool { get }

    func contains(sha256: String) async throws -> Bool

    /// Keeps `image` (nothing is rewritten when it is already kept).
    func write(_ image: EncodedImage) async throws

    /// The bytes that were sent, if kept.
    func original(sha256: String) async throws -> Data?

    /// The PNG to show, if kept.
    func display(sha256: String) async throws -> Data?

    /// Removes the image unless a report points to it (checked where the images are, so that another server filing a
    /// report with the same image at the same moment keeps it).
    func removeIfUnreferenced(sha256: String, store: any CatalogStore) async throws
}
