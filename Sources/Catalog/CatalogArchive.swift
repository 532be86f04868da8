// Export and import of a whole catalog as one zip: catalog.json (categories and every report, exactly) and the
// original bytes of every image. Importing re-checks every image against its SHA-256 and re-encodes its display
// copy, so an archive from elsewhere is treated as untrusted input.
import Foundation
import Imaging
import ZIPFoundation

public enum CatalogArchive {
    public struct Contents: Codable, Sendable, Equatable {
        public let format: Int
        public let categories: [Category]
        public let reports: [FiledReport]
    }

    public static let format = 1
    static let largestEntry = 64 * 1_048_576

    /// Writes every category, report and original image to `url` (replaced if it exists); returns what was written.
    @discardableResult
    public static func export(store: any CatalogStore, images: any ImageStore, to url: URL) async throws -> Contents {
        let contents = Contents(format: format, categories: try await store.categories(), reports: try await store.allReports())
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).zip.partial")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .millisecondsSince1970
            try add(try encoder.encode(contents), as: "catalog.json", to: archive)
            for sha256 in Set(contents.reports.map(\.image.sha256)).sorted() {
                guard let original = try await images.original(sha256: sha256) else {
                    throw CatalogError.storage(.failed, detail: "the image \(sha256) is missing from \(images.location)")
                }
                try add(original, as: "images/\(sha256)", to: archive, compressed: false)
            }
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw DurableFile.failed("cannot write", url)
        }
        return contents
    }

    /// Reads an archive made by `export` into `store` and `images`: categories added, reports restored with their
    /// ids, images checked and stored. Returns what was read.
    @discardableResult
    public static func importArchive(from url: URL, into store: any CatalogStore, images: any ImageStore, decoder: ImageDecoder) async throws -> Contents {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw CatalogError.invalid("\(url.path) is not a zip archive: \(error)")
        }
        let decoderJSON = JSONDecoder()
        decoderJSON.dateDecodingStrategy = .millisecondsSince1970
        let contents: Contents
        do {
            contents = try decoderJSON.decode(Contents.self, from: try read("catalog.json", from: archive))
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError.invalid("\(url.lastPathComponent)'s catalog.json is not a Blindspot catalog: \(error)")
        }
        guard contents.format == format else { throw CatalogError.invalid("archive format \(contents.format) is not \(format)") }
        for sha256 in Set(contents.reports.map(\.image.sha256)) {
            guard ImageVault.isSHA256(sha256) else {
                throw CatalogError.invalid("'\(sha256)' is not a SHA-256")
            }
            let bytes = try read("images/\(sha256)", from: archive)
            guard ImageVault.sha256(of: bytes) == sha256 else { throw CatalogError.invalid("images/\(sha256) does not have that SHA-256") }
            if try await !images.contains(sha256: sha256) { try await images.write(ImageVault.encode(bytes, decoder: decoder)) }
        }
        for category in contents.categories {
            try CatalogValidation.validate(category)
            try await store.ensureCategory(category)
        }
        for report in contents.reports { try await store.restore(report) }
        return contents
    }

    private static func add(_ data: Data, as path: String, to archive: Archive, compressed: Bool = true) throws {
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                             compressionMethod: compressed ? .deflate : .none) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
    }

    private static func read(_ path: String, from archive: Archive) throws -> Data {
        guard let entry = archive[path] else { throw CatalogError.invalid("the archive has no \(path)") }
        guard entry.type == .file, entry.uncompressedSize <= largestEntry else {
            throw CatalogError.invalid("\(path) in the archive is not a file of at most \(ByteCount.readable(largestEntry))")
        }
        var data = Data()
        _ = try archive.extract(entry) { chunk in
            data.append(chunk)
            if data.count > largestEntry { throw CatalogError.invalid("\(path) in the archive is larger than it says") }
        }
        return data
    }
}
