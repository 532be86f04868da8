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

    public static func sha256(of bytes: Data) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Decodes `bytes` (which also checks them against the decoder's limits), then keeps the original and the
    /// display copy. Storing the same bytes again rewrites nothing. A large JPEG is decoded at 1/2, 1/4 or 1/8
    /// scale when that still leaves twice the display copy's pixels, so a report costs far less memory than a
    /// full-size decode of a 50-megapixel photo.
    public func store(_ bytes: Data, decoder: ImageDecoder) throws -> StoredImage {
        let sha256 = Self.sha256(of: bytes)
        // A JPEG over the decoder's limits is accepted when a shrunk decode fits them (its display copy is small).
        let size = try decoder.uprightSize(bytes, minimumShorterSide: 1)
        let stored = StoredImage(sha256: sha256, width: size.width, height: size.height)
        if contains(sha256: sha256) { return stored }
        let displayShorterSide = Int((Double(Self.displaySide) * Double(min(size.width, size.height)) / Double(max(size.width, size.height))).rounded(.up))
        let image = try decoder.decode(bytes, minimumShorterSide: max(1, displayShorterSide))
        let format = try ImageFormat(sniffing: bytes)
        let folder = folder(of: sha256)
        try Self.createFolder(folder)
        try DurableFile.write(bytes, to: folder.appendingPathComponent("\(sha256).original.\(format.fileExtension)"))
        let display = image.shrunk(toLongerSide: Self.displaySide, filter: .bicubic)
        // The display copy last: its presence is what `contains` checks.
        try DurableFile.write(try display.pngData(), to: displayFile(sha256: sha256))
        return stored
    }

    /// The PNG to show for `sha256` (whether or not it exists).
    public func displayFile(sha256: String) -> URL {
        folder(of: sha256).appendingPathComponent("\(sha256).png")
    }

    /// The bytes that were sent, if kept.
    public func original(sha256: String) -> Data? {
        let folder = folder(of: sha256)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard let name = names.first(where: { $0.hasPrefix("\(sha256).original.") }) else { return nil }
        return FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
    }

    public func contains(sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: displayFile(sha256: sha256).path)
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
