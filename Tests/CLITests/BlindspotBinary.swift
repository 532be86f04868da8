// The `blindspot` binary run as a child process, as a user runs it: how it ended, its standard output and error.
// The binary is built with the tests and sits beside the test bundle.
import ChildProcess
import Foundation
import TestSupport

struct CommandResult: Sendable {
    /// The exit status, or the number of the signal that ended the process (see `exited`).
    let status: Int32
    /// False when a signal ended the process: a trap, a crash, or the kill after the timeout.
    let exited: Bool
    /// True when the process outlived its timeout and was killed.
    let timedOut: Bool
    let output: String
    let errors: String
}

enum BlindspotBinary {
    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("blindspot")
    }

    /// Runs the binary (or `executable`, another one built beside it) with `arguments`, in `directory` (default: this
    /// process's), killed with SIGKILL after `timeout` seconds if given.
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil, directory: URL? = nil,
                    timeout: TimeInterval? = nil) async throws -> CommandResult {
        let result = try await ChildProcess.run(executable ?? url, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                                directory: directory, mergingErrors: false, timeout: timeout)
        return CommandResult(status: result.status, exited: result.exited, timedOut: result.timedOut, output: result.output, errors: result.errors)
    }

    /// Starts the binary with `arguments` and kills it with SIGKILL as soon as `file` has `lines` lines (what a
    /// resumable command has flushed), or after two minutes; true when the kill, not the command's end, stopped it.
    static func killed(_ arguments: [String], once file: String, has lines: Int) async throws -> Bool {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, lineCount(file) < lines {
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// The lines of `file`, 0 when it cannot be read.
    static func lineCount(_ file: String) -> Int {
        (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").count ?? 0
    }
}
