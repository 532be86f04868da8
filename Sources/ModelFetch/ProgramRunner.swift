// Runs an external program (pip) to its end without blocking Swift's cooperative threads, relaying its output line by line.
// It does not interpret the output; PipDownload does.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ProgramResult: Sendable {
    let exitStatus: Int32
    /// Standard output and standard error, interleaved as printed.
    let output: String
}

enum ProgramRunner {
    /// Looks `name` up on `PATH` unless it already contains a slash; nil when no executable file is found.
    static func locate(_ name: String, environment: [String: String]) -> URL? {
        let candidates = name.contains("/")
            ? [name]
            : (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }

    /// Starts `executable` and waits for it on a thread of its own; cancelling the task terminates the program.
    static func run(
        _ executable: URL,
        arguments: [String],
        environment: [String: String],
        onLine: @escaping @Sendable (String) -> Void
    ) async throws -> ProgramResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    let output = readLines(from: pipe.fileHandleForReading, onLine: onLine)
                    process.waitUntilExit()
                    continuation.resume(returning: ProgramResult(exitStatus: process.terminationStatus, output: output))
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
    }

    /// Reads until end of file, passing each complete line to `onLine` as soon as it arrives, and returns everything read.
    private static func readLines(from handle: FileHandle, onLine: (String) -> Void) -> String {
        var everything = Data()
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(handle.fileDescriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            let chunk = buffer[0..<count]
            everything.append(contentsOf: chunk)
            pending.append(contentsOf: chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        return String(decoding: everything, as: UTF8.self)
    }
}
