// A file mapped read-only into memory, whose pages can be given back once their bytes have been copied out: a
// checkpoint's tensors are copied into Float32 arrays, and without this the file and those arrays would be resident
// together while it loads.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class MappedFile: @unchecked Sendable {
    /// The file's bytes, read through the mapping (no copy); valid as long as this object or the Data lives.
    public let data: Data
    private let start: UnsafeRawPointer?
    private let length: Int
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps `url`; a `WeightsError.unreadableFile` if it cannot be opened or mapped.
    public init(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WeightsError.unreadableFile(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw WeightsError.unreadableFile(path: url.path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw WeightsError.unreadableFile(path: url.path, reason: "not a regular file")
        }
        let length = Int(status.st_size)
        self.length = length
        guard length > 0 else {
            start = nil
            data = Data()
            return
        }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw WeightsError.unreadableFile(path: url.path, reason: String(cString: strerror(errno)))
        }
        start = UnsafeRawPointer(address)
        data = Data(bytesNoCopy: address, count: length, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// Gives back the whole pages inside `bytes`: they leave this process's resident memory, and are read from the
    /// file again if touched. Bytes outside the mapping are ignored, so a reader may report any buffer it copied from.
    public func release(_ bytes: UnsafeRawBufferPointer) {
        guard let start, let base = bytes.baseAddress, bytes.count > 0 else { return }
        let offset = base - start
        guard offset >= 0, offset + bytes.count <= length else { return }
        let first = (offset + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let end = (offset + bytes.count) / Self.pageSize * Self.pageSize
        guard end > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: start + first), end - first, MADV_DONTNEED)
    }
}
