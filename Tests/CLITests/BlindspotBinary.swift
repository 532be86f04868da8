// The `blindspot` binary run as a child process, as a user runs it: how it ended, its standard output and error.
// The binary is built with the tests and sits beside the test bundle.
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
        let executable = executable ?? url
        return try await OffThePool.run {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            if let directory { process.currentDirectoryURL = directory }
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let killer = timeout.map { seconds in
                let item = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
                return item
            }
            // Both pipes are drained at once: a child filling its error pipe while we read its output would block.
            let errorData = ReadInBackground(errors.fileHandleForReading)
            let outputData = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            killer?.cancel()
            let exited = process.terminationReason == .exit
            return CommandResult(status: process.terminationStatus, exited: exited, timedOut: killer != nil && !exited && process.terminationStatus == SIGKILL,
                                 output: String(decoding: outputData, as: UTF8.self), errors: String(decoding: errorData.wait(), as: UTF8.self))
        }
    }
}
