// A file being written into the cache: a hidden temporary file beside its final place, hashed as bytes arrive,
// flushed to disk and renamed into place only once whole. It knows nothing about where the bytes come from.
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class StagedFile {
    let temporaryURL: URL
    private(set) var byteCount: Int64 = 0
    private var descriptor: Int32
    private var hasher = SHA256()

    /// Creates `.NAME.partial-UUID` in the destination's directory (creating the directory if needed),
    /// so the final rename stays on one filesystem and a partial file never has the final name.
    init(beside destination: URL) throws(FetchError.Reason) {
        let directory = destination.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(path: directory.path, cause: error.localizedDescription)
        }
        temporaryURL = directory.appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString)")
        descriptor = open(temporaryURL.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw Self.failure(at: temporaryURL) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FetchError.Reason) {
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure(at: temporaryURL)
            }
            offset += written
        }
        byteCount += Int64(bytes.count)
    }

    /// Flushes the file to disk, closes it and returns its lower-case hex SHA-256.
    func finish() throws(FetchError.Reason) -> String {
        if fsync(descriptor) != 0 { throw Self.failure(at: temporaryURL) }
        closeDescriptor()
        return hasher.finalize().hexString
    }

    /// Atomically replaces whatever is at `destination` with the finished file.
    func install(at destination: URL) throws(FetchError.Reason) {
        if rename(temporaryURL.path, destination.path) != 0 { throw Self.failure(at: destination) }
    }

    /// Closes and deletes the temporary file; used on every failure path.
    func discard() {
        closeDescriptor()
        unlink(temporaryURL.path)
    }

    private func closeDescriptor() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }

    private static func failure(at url: URL) -> FetchError.Reason {
        .fileSystem(path: url.path, cause: String(cString: strerror(errno)))
    }
}
