// `blindspot serve` as a user starts it: it says where it listens, becomes ready once its model is warmed up,
// serves the page (saying where example images go when there are none), and stops cleanly on SIGTERM.
// Also `models synthesize`, whose stand-in weights a server can load with --weights.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

@Suite struct ServeCommandTests {
    /// Starts the server and returns it with the port it printed.
    static func start(_ arguments: [String]) throws -> (process: Process, port: Int, output: Pipe) {
        let process = Process()
        process.executableURL = BlindspotBinary.url
        process.arguments = ["serve", "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let match = seen.firstMatch(of: /serving on http:\/\/127\.0\.0\.1:(\d+)/), let port = Int(match.1) {
                return (process, port, output)
            }
        }
        process.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no 'serving on' line; output: \(seen)"])
    }

    static func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: CachedWeights.url("efficientnet-lite0-57934424.pth") != nil))
    func servesTheDemoUntilTerminated() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-serve-\(UUID().uuidString)")
        let noExamples = data.appendingPathComponent("no-examples")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try Self.start(["--models", "efficientnet_lite0", "--data", data.path, "--examples", noExamples.path])
        defer { if server.process.isRunning { server.process.terminate() } }
        var ready = (status: 0, body: "")
        for _ in 0..<600 where ready.status != 200 {
            ready = try await Self.get(server.port, "/readyz")
            if ready.status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready.status == 200 && ready.body.contains("\"ready\""))
        let page = try await Self.get(server.port, "/")
        #expect(page.status == 200)
        #expect(page.body.contains(noExamples.path), "the page says where to put the example images")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("catalog.sqlite").path), "the catalog is created in --data")
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "SIGTERM stops the server cleanly")
    }

    @Test func synthesizedWeightsHaveEveryKeyTheModelReads() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lite0-synthetic-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let written = try await BlindspotBinary.run(["models", "synthesize", "efficientnet_lite0", "--out", file.path])
        #expect(written.status == 0 && written.output.contains("predictions mean nothing"))
        try #require(SharedData.has("imagenet-sample/n01440764_tench.JPEG"), "../shared is present (BLINDSPOT_SHARED)")
        let classified = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--weights", file.path, "--json",
                                                  SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(classified.status == 0, "\(classified.errors)")
        #expect(classified.output.contains("\"predictions\""))
    }
}
