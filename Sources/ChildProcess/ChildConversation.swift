// A program kept running while this one talks to it line by line on its standard input and output, e.g. ONNX Runtime
// timing runs between Blindspot's own (Bench). Its standard error is kept for the error that says why it stopped.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class ChildConversation {
    public struct Ended: Error, CustomStringConvertible {
        public let description: String
    }

    private let process: Process
    private let input: Pipe
    private let output: Pipe
    private let errors: Pipe
    private var pending = Data()

    /// Starts `executable` with `arguments`, its standard input and output ours to write and read.
    public init(_ executable: URL, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        (input, output, errors) = (Pipe(), Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // Writing to a program that has died must fail with EPIPE, which `send` reports, not end this process.
        signal(SIGPIPE, SIG_IGN)
        do {
            try process.run()
        } catch {
            throw ChildProcess.StartFailure(description: "\(executable.path) could not be started: \(error.localizedDescription)")
        }
    }

    deinit { finish() }

    /// Writes `line` and a newline to its standard input.
    public func send(_ line: String) throws {
        do {
            try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw ended()
        }
    }

    /// The next line it prints, without the newline; throws, with what it printed on standard error, once its output
    /// ends first.
    public func receiveLine() throws -> String {
        while true {
            if let line = ChildProcess.takeLine(from: &pending) { return line }
            guard let chunk = ChildProcess.readChunk(from: output.fileHandleForReading) else { throw ended() }
            pending.append(chunk)
        }
    }

    /// Closes its standard input and waits for it to exit (a program that reads to the end of its input then ends).
    public func finish() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.waitUntilExit() }
    }

    private func ended() -> Ended {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
        return Ended(description: "\(process.executableURL?.path ?? "the program") \(how): \(errorText.suffix(2000))")
    }
}
