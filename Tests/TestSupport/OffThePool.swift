// Blocking work (waiting for a child process, reading a socket) on a thread of its own. Tests run as tasks on the
// cooperative pool, which has one thread per core: two tests blocked in waitUntilExit on this 2-core machine
// stalled every in-process server of the other suites.
import Foundation

public enum OffThePool {
    /// What `work` returns or throws, computed on a new thread while the calling task is suspended.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}

/// Everything a file handle gives until its end, read on a thread of its own (so that a child process writing to
/// two pipes never blocks on the one not being read).
public final class ReadInBackground: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var data = Data()  // written by the reader thread before it signals, read only after `wait`

    public init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            finished.signal()
        }.start()
    }

    /// The bytes read, once the handle reached its end.
    public func wait() -> Data {
        finished.wait()
        finished.signal()
        return data
    }
}
