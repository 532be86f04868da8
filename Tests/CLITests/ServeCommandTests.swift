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

    /// The approved reports and the categories the API lists, once the server is ready and `settled` holds (or 120 s).
    static func catalog(_ port: Int, until settled: (Int) -> Bool) async throws -> (reports: [[String: Any]], categories: [[String: Any]]) {
        var reports: [[String: Any]] = []
        for _ in 0..<1200 {
            let (status, body) = try await get(port, "/api/v1/blindspots?status=approved")
            if status == 200 {
                let list = try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                reports = try #require(list["reports"] as? [[String: Any]])
                if settled(reports.count) { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let categories = try await get(port, "/api/v1/categories")
        return (reports, try #require(JSONSerialization.jsonObject(with: Data(categories.body.utf8)) as? [[String: Any]]))
    }

    /// Waits for /readyz, then for the models to settle and any filing of the examples to end (the import runs
    /// after every model has loaded, and files 16 reports in well under the 3 s waited).
    static func waitUntilReady(_ port: Int) async throws {
        var status = 0
        for _ in 0..<600 where status != 200 {
            status = (try? await get(port, "/readyz").status) ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200, "the server became ready")
        try await Task.sleep(for: .seconds(3))
    }

    static func stop(_ server: (process: Process, port: Int, output: Pipe)) {
        server.process.terminate()
        server.process.waitUntilExit()
    }

    @Test func aFreshServerFilesTheExamplesInItsEmptyCatalogOnce() async throws {
        try #require(CachedWeights.url("efficientnet-lite0-57934424.pth") != nil, "efficientnet_lite0's weights are in the cache (make test fetches them)")
        try #require(SharedData.has("seed-examples/examples.json"), "../shared is present (BLINDSPOT_SHARED)")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-serve-examples-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let arguments = ["--models", "efficientnet_lite0", "--data", data.appendingPathComponent("catalog").path,
                         "--examples", SharedData.url("seed-examples").path]

        let first = try Self.start(arguments)
        defer { if first.process.isRunning { first.process.terminate() } }
        let filed = try await Self.catalog(first.port) { $0 >= 16 }
        #expect(filed.reports.count == 16, "the 16 examples are approved reports")
        #expect(Set(filed.reports.compactMap { $0["category"] as? String }).count == 8, "in their 8 categories")
        #expect(filed.categories.count == 8, "the flag dialog's category menu has the 8 categories")
        Self.stop(first)

        let second = try Self.start(arguments)
        defer { if second.process.isRunning { second.process.terminate() } }
        try await Self.waitUntilReady(second.port)
        let again = try await Self.catalog(second.port) { _ in true }
        #expect(again.reports.count == 16, "a restart files nothing twice")
        Self.stop(second)

        let off = try Self.start(arguments.map { $0.hasSuffix("/catalog") ? $0 + "-off" : $0 } + ["--no-catalog-examples"])
        defer { if off.process.isRunning { off.process.terminate() } }
        try await Self.waitUntilReady(off.port)
        let empty = try await Self.catalog(off.port) { _ in true }
        #expect(empty.reports.isEmpty && empty.categories.isEmpty, "--no-catalog-examples leaves the catalog empty")
        Self.stop(off)
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
