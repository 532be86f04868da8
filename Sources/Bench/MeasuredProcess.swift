// Runs a program to completion and times it from outside, spawn to exit, keeping what it printed. For benchmarks
// of whole commands. Not for memory: a spawned child's ru_maxrss includes the parent's high-water mark.
import Foundation
import Glibc
import Inference
#if canImport(Glibc)
#endif

public struct ProcessMeasurement: Sendable {
    public let status: Int32
    public let seconds: Double
    /// Standard output and standard error together.
    public let output: String
}

public enum MeasuredProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Spawns `executable` with `arguments`, waits for it, and returns what it took.
    public static func run(_ executable: URL, _ arguments: [String]) throws -> ProcessMeasurement {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-measured-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var processIdentifier: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&processIdentifier, executable.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "could not start \(executable.path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(processIdentifier, &status, 0) == -1 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(executable.path) failed: \(String(cString: strerror(errno)))") }
        }
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        // Exit code when it exited, else 128 + the signal that ended it, as shells report it.
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ProcessMeasurement(status: exitStatus, seconds: seconds, output: output)
    }
}
