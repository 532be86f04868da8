// Where FLAG reports go until the catalog exists: one JSON file per flag plus the image, content-addressed,
// under the data directory. Each file is written to a temporary name, flushed to disk, then linked under its
// final name (which fails rather than overwrites), so concurrent flags never lose or interleave writes.
import Core
import Crypto
import Foundation

/// One reported blind spot as it is stored and returned.
public struct FlagRecord: Codable, Sendable, Equatable {
    struct ExpectedClass: Codable, Sendable, Equatable {
        let index: Int
        let label: String
    }
    struct ImageInfo: Codable, Sendable, Equatable {
        let sha256: String
        let width: Int
        let height: Int
        /// The image file, relative to the data directory.
        let file: String
    }
    let id: String
    let createdAt: String
    let expected: ExpectedClass
    let note: String
    let model: String?
    /// What `model` answered when the flag was made (top 5), so the record stays reproducible.
    let predictions: [Prediction]
    let image: ImageInfo
}

/// What a flag is made from; the store assigns the id and time and keeps the image.
public struct NewFlag: Sendable {
    let imageBytes: Data
    let imageExtension: String
    let width: Int
    let height: Int
    let expected: FlagRecord.ExpectedClass
    let note: String
    let model: String?
    let predictions: [Prediction]
}

public protocol FlagStore: Sendable {
    func save(_ flag: NewFlag) throws -> FlagRecord
}

enum FlagStoreError: Error, CustomStringConvertible {
    case writeFailed(path: String, reason: String)

    var description: String {
        switch self {
        case let .writeFailed(path, reason): return "could not store the flag at \(path): \(reason)"
        }
    }
}

public struct FileFlagStore: FlagStore {
    public let directory: URL
    var flagsDirectory: URL { directory.appendingPathComponent("flags") }
    var imagesDirectory: URL { directory.appendingPathComponent("images") }

    public init(directory: URL) throws {
        self.directory = directory
        for folder in [directory.appendingPathComponent("flags"), directory.appendingPathComponent("images")] {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw FlagStoreError.writeFailed(path: folder.path, reason: error.localizedDescription)
            }
        }
    }

    public func save(_ flag: NewFlag) throws -> FlagRecord {
        let digest = flag.imageBytes.sha256Hex
        let imageName = "\(digest).\(flag.imageExtension)"
        // The image first: a flag file never points at an image that is not on disk.
        try Self.writeOnce(flag.imageBytes, to: imagesDirectory.appendingPathComponent(imageName), existingIsSuccess: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let now = Date()
        for _ in 0..<8 {
            let record = FlagRecord(
                id: Self.identifier(at: now), createdAt: now.formatted(.iso8601), expected: flag.expected, note: flag.note,
                model: flag.model, predictions: flag.predictions,
                image: .init(sha256: digest, width: flag.width, height: flag.height, file: "images/\(imageName)"))
            let data = try encoder.encode(record)
            if try Self.writeOnce(data, to: flagsDirectory.appendingPathComponent("\(record.id).json"), existingIsSuccess: false) {
                return record
            }
        }
        throw FlagStoreError.writeFailed(path: flagsDirectory.path, reason: "no free flag id after 8 attempts")
    }

    /// "20261129T061500Z-3f2a9c1e": sortable by time, unique by its random part.
    private static func identifier(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
        return "\(stamp)-\(String(format: "%08x", UInt32.random(in: .min ... .max)))"
    }

    /// Writes `data` to a temporary file, flushes it, and links it as `url`. Returns false when `url` already
    /// exists (then `existingIsSuccess` decides whether that counts as written).
    @discardableResult
    private static func writeOnce(_ data: Data, to url: URL, existingIsSuccess: Bool) throws -> Bool {
        if existingIsSuccess && FileManager.default.fileExists(atPath: url.path) { return true }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(UUID().uuidString).partial")
        func failure(_ what: String) -> FlagStoreError {
            .writeFailed(path: url.path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw failure("create") }
        defer { unlink(temporary.path) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 { if errno == EINTR { continue }; return false }
                offset += count
            }
            return true
        }
        guard written, fsync(descriptor) == 0 else {
            let error = failure("write")
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard link(temporary.path, url.path) == 0 else {
            if errno == EEXIST { return existingIsSuccess }
            throw failure("link")
        }
        let folderDescriptor = open(folder.path, O_RDONLY)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
        return true
    }
}
