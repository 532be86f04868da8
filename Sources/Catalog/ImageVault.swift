// The catalog's images, content-addressed by the SHA-256 of the bytes sent, outside any web root: the original (for
// re-checks) and a PNG re-encoded from its pixels, at most 1024 px a side (the only form served back). Both are on disk,
// flushed, before `store` returns, so a report row never points to a missing image.
import Crypto
import Foundation
import Imaging

public struct ImageVault: Sendable {
    public let directory: URL
    /// Longer side of the displayed copy.
    public static let displaySide = 1024

    /// Opens (creating) the vault, and removes what writes interrupted by a crash left behind (temporary files,
    /// which nothing points to).
    public init(directory: URL) throws {
        self.directory = directory
        try Self.createFolder(directory)
        let fileManager = FileManager.default
        for folder in (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? [] {
            let path = directory.appendingPathComponent(folder).path
            for name in (try? fileManager.contentsOfDirectory(atPath: path)) ?? [] where name.hasPrefix(".") && name.hasSuffix(".partial") {
                try? fileManager.removeItem(atPath: path + "/" + name)
            }
        }
    }

    /// The vault of a catalog that could not be opened (UnavailableCatalogStore): nothing is created or removed, and no
    /// report leads to it.
    public init(unopenedAt directory: URL) {
        self.directory = directory
    }

    /// Creates `folder` (and missing parents) so that the new entries survive a power loss too.
    private static func createFolder(_ folder: URL) throws {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: folder.path) else { return }
        try createFolder(folder.deletingLastPathComponent())
        // EEXIST: created by a concurrent caller.
        guard mkdir(folder.path, 0o755) == 0 || errno == EEXIST else { throw DurableFile.failed("cannot create", folder) }
        try DurableFile.syncFolder(folder.deletingLastPathComponent())
    }

    /// Whether `text` is a SHA-256 as the catalog writes them: 64 lowercase hex digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    public static func sha256(of bytes: Data) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The content address and upright size of `bytes`, checked against the decoder's limits without decoding them
    /// (a JPEG over the limits is accepted when a shrunk decode fits them: its display copy is small).
    public static func measure(_ bytes: Data, decoder: ImageDecoder) throws -> StoredImage {
        let size = try decoder.uprightSize(bytes, minimumShorterSide: 1)
        return StoredImage(sha256: sha256(of: bytes), width: size.width, height: size.height)
    }

    /// Decodes `bytes` and makes the display copy. A large JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still
    /// leaves twice the display copy's pixels, so a report costs far less memory than a full-size decode of a
    /// 50-megapixel photo.
    public static func encode(_ bytes: Data, decoder: ImageDecoder) throws -> EncodedImage {
        let stored = try measure(bytes, decoder: decoder)
        let (width, height) = (stored.width, stored.height)
        let displayShorterSide = Int((Double(displaySide) * Double(min(width, height)) / Double(max(width, height))).rounded(.up))
        let image = try decoder.decode(bytes, minimumShorterSide: max(1, displayShorterSide))
        let format = try ImageFormat(sniffing: bytes)
        let display = try image.shrunk(toLongerSide: displaySide, filter: .bicubic).pngData()
        return EncodedImage(stored: stored, original: bytes, originalExtension: format.fileExtension, display: display)
    }

    /// `encode` and `write`: keeps the original and the display copy, rewriting nothing when they are kept already.
    public func store(_ bytes: Data, decoder: ImageDecoder) throws -> StoredImage {
        let stored = try Self.measure(bytes, decoder: decoder)
        if containsFiles(sha256: stored.sha256) { return stored }
        try writeFiles(Self.encode(bytes, decoder: decoder))
        return stored
    }

    /// Both files, flushed; the display copy last, as its presence is what `contains` checks.
    func writeFiles(_ image: EncodedImage) throws {
        let sha256 = image.stored.sha256
        guard !containsFiles(sha256: sha256) else { return }
        let folder = folder(of: sha256)
        try Self.createFolder(folder)
        try DurableFile.write(image.original, to: folder.appendingPathComponent("\(sha256).original.\(image.originalExtension)"))
        try DurableFile.write(image.display, to: displayFile(sha256: sha256))
    }

    /// The PNG to show for `sha256` (whether or not it exists).
    public func displayFile(sha256: String) -> URL {
        folder(of: sha256).appendingPathComponent("\(sha256).png")
    }

    /// The bytes that were sent, if kept.
    public func originalFile(sha256: String) -> Data? {
        let folder = folder(of: sha256)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard let name = names.first(where: { $0.hasPrefix("\(sha256).original.") }) else { return nil }
        return FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
    }

    public func containsFiles(sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: displayFile(sha256: sha256).path)
    }

    /// Every image kept here, as the SHA-256 its files are named after (for moving them elsewhere).
    public func storedHashes() -> [String] {
        let fileManager = FileManager.default
        var hashes: [String] = []
        for folder in ((try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where folder.count == 2 {
            for name in ((try? fileManager.contentsOfDirectory(atPath: directory.appendingPathComponent(folder).path)) ?? []).sorted()
            where name.hasSuffix(".png") && !name.hasPrefix(".") {
                let sha256 = String(name.dropLast(4))
                if Self.isSHA256(sha256) { hashes.append(sha256) }
            }
        }
        return hashes
    }

    /// Removes both files of `sha256` (call only when no report points to it).
    public func remove(sha256: String) {
        let folder = folder(of: sha256)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(sha256) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    private func folder(of sha256: String) -> URL {
        precondition(sha256.count == 64 && sha256.allSatisfy(\.isHexDigit), "not a SHA-256: \(sha256)")
        return directory.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true)
    }
}

extension ImageVault: ImageStore {
    public var location: String { directory.path }
    public var healthDirectory: URL? { directory }
    public var keepsImagesWithReports: Bool { false }

    public func contains(sha256: String) async throws -> Bool { containsFiles(sha256: sha256) }
    public func write(_ image: EncodedImage) async throws { try writeFiles(image) }
    public func original(sha256: String) async throws -> Data? { originalFile(sha256: sha256) }
    public func display(sha256: String) async throws -> Data? { FileManager.default.contents(atPath: displayFile(sha256: sha256).path) }

    public func removeIfUnreferenced(sha256: String, store: any CatalogStore) async throws {
        if try await !store.isReferenced(imageSHA256: sha256) { remove(sha256: sha256) }
    }
}
