// Writing a file so that once the call returns it survives a crash or power loss: a temporary file in the same
// folder, written in full and fsynced, renamed over the final name, then the folder fsynced.
import Foundation

enum DurableFile {
    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(UUID().uuidString).partial")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failed("cannot create a file beside", url) }
        var renamed = false
        defer {
            if !renamed { unlink(temporary.path) }
        }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        guard written, fsync(descriptor) == 0 else {
            let error = failed("cannot write", url)
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary.path, url.path) == 0 else { throw failed("cannot rename into", url) }
        renamed = true
        try syncFolder(folder)
    }

    /// Flushes a folder's entries (new names) to disk.
    static func syncFolder(_ folder: URL) throws {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failed("cannot open", folder) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failed("cannot flush", folder) }
    }

    /// The error for a file operation that just failed, classified by its errno (read before anything else runs).
    static func failed(_ step: String, _ url: URL) -> CatalogError {
        let code = errno
        return .storage(StorageFault(errno: code), detail: "\(step) \(url.path): \(String(cString: strerror(code)))")
    }
}
