// A small tmpfs mounted for one test, to make a disk really full or really read-only: chmod cannot do that for root,
// who ignores permissions. Needs root: tests using it are enabled only `ifPossible`. Unmount it in a `defer`.
import ChildProcess
import Foundation
import Testing

public final class ScratchMount: @unchecked Sendable {
    public let directory: URL
    private var mounted = true

    private init(directory: URL) {
        self.directory = directory
    }

    /// Whether this process may mount a tmpfs (it is root): tests that need one are skipped, visibly, otherwise.
    public static var isPossible: Bool { getuid() == 0 }

    /// Why a test that needs a mount is skipped where it is not possible.
    public static let needsRoot: Comment = "needs root to mount a tmpfs (a read-only or full disk cannot be faked with chmod)"

    /// A tmpfs of `megabytes` at a new temporary folder, or nil (after printing why) when this process is not root or
    /// mount fails.
    public static func make(megabytes: Int, test: String = #function) -> ScratchMount? {
        guard isPossible else {
            print("SKIP: \(test) \(needsRoot)")
            return nil
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-mount-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try run("mount", "-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", directory.path)
        } catch {
            print("SKIP: \(test): cannot mount a tmpfs at \(directory.path): \(error)")
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        return ScratchMount(directory: directory)
    }

    /// Makes the file system read-only or writable again (fails while a file on it is open for writing).
    public func remount(readOnly: Bool) throws {
        try Self.run("mount", "-o", "remount,\(readOnly ? "ro" : "rw")", directory.path)
    }

    /// Fills the file system to the last byte with one file, and returns it (delete it to free the space).
    @discardableResult
    public func fill() throws -> URL {
        let filler = directory.appendingPathComponent("filler-\(UUID().uuidString)")
        let descriptor = open(filler.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw MountError(message: "cannot create \(filler.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0x5A, count: 4096)
        while true {
            let count = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == ENOSPC { return filler }
            guard count > 0 else { throw MountError(message: "writing \(filler.path) failed: \(String(cString: strerror(errno)))") }
        }
    }

    /// Unmounts (lazily if something still holds it) and removes the folder; safe to call more than once.
    public func unmount() {
        guard mounted else { return }
        mounted = false
        if (try? Self.run("umount", directory.path)) == nil {
            try? Self.run("umount", "-l", directory.path)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { unmount() }

    public struct MountError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private static func run(_ arguments: String...) throws {
        let result = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        guard result.shellStatus == 0 else {
            throw MountError(message: "\(arguments.joined(separator: " ")) failed: \(result.output)")
        }
    }
}
