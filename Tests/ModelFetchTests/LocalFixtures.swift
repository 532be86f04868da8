// Test scaffolding for ModelFetchTests: temporary folders, a loopback HTTP server and locally published wheels,
// the last two driven through Fixtures/local_fixtures.py. Nothing here reaches beyond 127.0.0.1.
import Foundation
import ModelFetch

/// A new folder under the system temporary directory; `remove()` deletes it with everything inside.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ModelFetchTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func subfolder(_ name: String) throws -> URL {
        let folder = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// What every fetch suite stands on: a temporary folder holding an empty cache and a folder served on loopback.
/// `fill` writes the served files before the server starts; everything is stopped and removed on deinit, or at once
/// when setting up fails.
final class ServedFolder {
    let folder: TemporaryFolder
    let cache: ModelCache
    let server: LocalHTTPServer

    init(named name: String, fill: (_ served: URL, _ folder: TemporaryFolder) throws -> Void) throws {
        folder = try TemporaryFolder()
        cache = ModelCache(directory: folder.url.appendingPathComponent("cache", isDirectory: true))
        do {
            let served = try folder.subfolder(name)
            try fill(served, folder)
            server = try LocalHTTPServer(root: served)
        } catch {
            folder.remove()
            throw error
        }
    }

    deinit {
        server.stop()
        folder.remove()
    }
}

enum LocalFixtures {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/local_fixtures.py")

    /// Starts `python3 local_fixtures.py ARGUMENTS`, its standard input and output on pipes.
    static func start(_ arguments: [String]) throws -> (process: Process, input: Pipe, output: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        return (process, input, output)
    }

    /// Builds a wheel (holding `member` when given) into `root/packages` and its index page into `root/simple`.
    static func publishWheel(root: URL, package: String, version: String, member: (path: String, bytes: Data)?) throws {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("member-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: source) }
        var arguments = ["publish", root.path, package, version]
        if let member {
            try member.bytes.write(to: source)
            arguments += [member.path, source.path]
        }
        let (process, _, _) = try start(arguments)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureFailure("local_fixtures.py publish exited with \(process.terminationStatus)")
        }
    }

    /// An environment for pip that ignores this machine's pip configuration (PIP_* variables, pip.conf, find-links).
    static func isolatedPipEnvironment(home: URL) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": home.path,
            "PIP_CONFIG_FILE": "/dev/null",
        ]
    }

    /// `count` bytes that are the same on every run and not all alike.
    static func patternedBytes(count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) })
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `local_fixtures.py serve ROOT` on a free loopback port; it exits when `stop()` closes its input, or by itself after ten minutes.
final class LocalHTTPServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let input: Pipe

    init(root: URL) throws {
        let started = try LocalFixtures.start(["serve", root.path])
        process = started.process
        input = started.input
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = started.output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw FixtureFailure("local_fixtures.py serve printed no port")
        }
        self.port = port
    }

    func url(_ path: String) -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// Closes the server's input and waits until it has exited, so its port is closed on return.
    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Collects progress reports from any thread.
final class ProgressRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [FetchProgress] = []

    func record(_ progress: FetchProgress) {
        lock.withLock { recorded.append(progress) }
    }

    var reports: [FetchProgress] {
        lock.withLock { recorded }
    }
}

/// Names of every entry in `folder`, hidden ones included, sorted.
func entries(of folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}
