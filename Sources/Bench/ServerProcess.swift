// A `blindspot serve` child process for benchmarks: started on a free port (`--port 0`), found from the line it
// prints, awaited until /readyz answers 200, and stopped with SIGTERM. Not a supervisor: it does not restart.
import Foundation
import FoundationNetworking
#if canImport(FoundationNetworking)
#endif

public final class ServerProcess: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let process = Process()
    public private(set) var port = 0

    /// Starts `executable serve --port 0 <arguments>` and waits until it is ready or `timeout` has passed.
    public init(executable: URL, arguments: [String], timeout: Duration = .seconds(180)) async throws {
        process.executableURL = executable
        // The load comes from one address: no per-client rate limit, so that it measures the engine, not the limiter.
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--rate-limit", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        do {
            port = try Self.readPort(from: output.fileHandleForReading)
            // Whatever it prints later is read and dropped, so that a full pipe never blocks it.
            output.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
            try await waitUntilReady(deadline: ContinuousClock.now + timeout)
        } catch {
            stop()
            throw error
        }
    }

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    private static func readPort(from handle: FileHandle) throws -> Int {
        var seen = ""
        while true {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw Failure(description: "blindspot serve exited before listening: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
            if let match = seen.firstMatch(of: /serving on http:\/\/[^:]+:(\d+)/), let port = Int(match.1) { return port }
        }
    }

    private func waitUntilReady(deadline: ContinuousClock.Instant) async throws {
        let url = baseURL.appendingPathComponent("readyz")
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw Failure(description: "blindspot serve exited while loading its model") }
            if let (_, response) = try? await URLSession.shared.data(from: url), (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "blindspot serve was not ready in time")
    }
}
