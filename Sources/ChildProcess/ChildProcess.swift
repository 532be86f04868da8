// Runs a program to its end and says how it ended: exit status or signal, what it printed, how long it took. The one
// runner for pip (ModelFetch), ONNX Runtime and timed commands (Bench) and the tests' child processes (TestSupport).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a program run by `ChildProcess` ended.
public struct ChildProcessResult: Sendable {
    /// The exit status, or the number of the signal that ended it (see `exited`).
    public let status: Int32
    /// False when a signal ended it: a trap, a crash, or the kill after the timeout.
    public let exited: Bool
    /// True when it outlived its timeout and was killed.
    public let timedOut: Bool
    /// Standard output; with `mergingErrors`, standard error too, interleaved as printed.
    public let output: String
    /// Standard error when kept apart; empty with `mergingErrors`.
    public let errors: String
    /// From start to exit.
    public let seconds: Double

    /// Exit status when it exited, else 128 + the signal, as shells report it.
    public var shellStatus: Int32 { exited ? status : 128 + status }
}

public enum ChildProcess {
    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `name` looked up on `PATH` (of `environment`) unless it contains a slash; nil when no executable file is found.
    public static func locate(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let candidates = name.contains("/")
            ? [name]
            : (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }

    /// Runs `executable` with `arguments` and waits for it on the calling thread. `environment` replaces this process's
    /// (nil: inherited); `timeout` (seconds) kills it with SIGKILL; `onLine` hears each line of standard output (and
    /// of standard error when merged) as it comes. Standard input is empty.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil,
                           mergingErrors: Bool = true, timeout: Double? = nil,
                           onLine: (@Sendable (String) -> Void)? = nil) throws -> ChildProcessResult {
        try start(executable, arguments, environment: environment, directory: directory, mergingErrors: mergingErrors).wait(timeout: timeout, onLine: onLine)
    }

    /// `run` off Swift's cooperative threads (which a blocked wait would starve), on a thread of its own;
    /// cancelling the calling task terminates the program.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil,
                           mergingErrors: Bool = true, timeout: Double? = nil,
                           onLine: (@Sendable (String) -> Void)? = nil) async throws -> ChildProcessResult {
        let running = try start(executable, arguments, environment: environment, directory: directory, mergingErrors: mergingErrors)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try running.wait(timeout: timeout, onLine: onLine) }) }.start()
            }
        } onCancel: {
            running.terminate()
        }
    }

    /// The next bytes `handle` gives (up to 64 KiB, retrying an interrupted read); nil at end of file or on an error.
    static func readChunk(from handle: FileHandle) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(handle.fileDescriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            return count > 0 ? Data(buffer[0..<count]) : nil
        }
    }

    /// The first complete line of `pending`, without its newline, removed from it; nil when it holds none.
    static func takeLine(from pending: inout Data) -> String? {
        guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
        pending.removeSubrange(pending.startIndex...newline)
        return line
    }

    private static func start(_ executable: URL, _ arguments: [String], environment: [String: String]?, directory: URL?,
                              mergingErrors: Bool) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        let errors = mergingErrors ? output : Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        do {
            try process.run()
        } catch {
            throw StartFailure(description: "\(executable.path) could not be started: \(error.localizedDescription)")
        }
        return Running(process: process, output: output, errors: mergingErrors ? nil : errors, started: started)
    }

    /// Bytes a reader thread collects; read only after it signalled that it finished.
    private final class Collected: @unchecked Sendable {
        var data = Data()
    }

    /// A started program and its pipes.
    private final class Running: @unchecked Sendable {
        let process: Process
        let output: Pipe
        let errors: Pipe?
        let started: ContinuousClock.Instant

        init(process: Process, output: Pipe, errors: Pipe?, started: ContinuousClock.Instant) {
            (self.process, self.output, self.errors, self.started) = (process, output, errors, started)
        }

        func terminate() {
            if process.isRunning { process.terminate() }
        }

        func wait(timeout: Double?, onLine: (@Sendable (String) -> Void)?) throws -> ChildProcessResult {
            let killer = timeout.map { seconds in
                let item = DispatchWorkItem { [process] in if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
                return item
            }
            // Both pipes are drained at once: a child filling its error pipe while its output is read would block.
            let errorData = Collected()
            let errorsRead = DispatchSemaphore(value: 0)
            if let errors {
                Thread { errorData.data = errors.fileHandleForReading.readDataToEndOfFile(); errorsRead.signal() }.start()
            } else {
                errorsRead.signal()
            }
            let outputData = Self.readLines(from: output.fileHandleForReading, onLine: onLine)
            process.waitUntilExit()
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            killer?.cancel()
            errorsRead.wait()
            let exited = process.terminationReason == .exit
            return ChildProcessResult(status: process.terminationStatus, exited: exited,
                                      timedOut: killer != nil && !exited && process.terminationStatus == SIGKILL,
                                      output: String(decoding: outputData, as: UTF8.self), errors: String(decoding: errorData.data, as: UTF8.self),
                                      seconds: seconds)
        }

        /// Reads to end of file, passing each complete line to `onLine` as soon as it arrives; returns everything read.
        private static func readLines(from handle: FileHandle, onLine: ((String) -> Void)?) -> Data {
            guard let onLine else { return handle.readDataToEndOfFile() }
            var everything = Data()
            var pending = Data()
            while let chunk = ChildProcess.readChunk(from: handle) {
                everything.append(chunk)
                pending.append(chunk)
                while let line = ChildProcess.takeLine(from: &pending) { onLine(line) }
            }
            if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
            return everything
        }
    }
}
