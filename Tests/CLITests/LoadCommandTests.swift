// `blindspot load` against a real server on stand-in weights: every request is accounted for by status, the
// refusals an overloaded server sends carry Retry-After, and a port nobody listens on is counted as no answer.
import Foundation
import TestSupport
import Testing

@Suite struct LoadCommandTests {
    struct Result: Decodable {
        struct Latencies: Decodable { let count: Int; let p50Ms: Double; let p99Ms: Double }
        let requests: Int
        let byStatus: [String: Latencies]
        let transportErrors: Int
        let transportErrorSamples: [String]
        let missingRetryAfter: Int
        let answeredPerSecond: Double
        let batchSizes: [String: Int]
    }

    static func load(_ arguments: [String]) async throws -> Result {
        let run = try await BlindspotBinary.run(["load", "--json"] + arguments, timeout: 120)
        #expect(run.status == 0, "\(run.errors)")
        return try JSONDecoder().decode(Result.self, from: Data(run.output.utf8))
    }

    @Test func anOverloadedServerIsMeasuredByStatus() async throws {
        let photo = SharedData.url("imagenet-sample/n01440764_tench.JPEG")
        try #require(SharedData.has("imagenet-sample/n01440764_tench.JPEG"), "../shared is present (BLINDSPOT_SHARED)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = folder.appendingPathComponent("lite0.safetensors")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let written = try await BlindspotBinary.run(["models", "synthesize", "efficientnet_lite0", "--out", weights.path])
        try #require(written.status == 0, "\(written.errors)")
        // One client address, so one rate bucket: its burst runs out within the run, and the queue of 2 fills.
        let server = try ServeCommandTests.start(["--models", "efficientnet_lite0", "--weights", "efficientnet_lite0=\(weights.path)",
                                                  "--data", folder.appendingPathComponent("data").path, "--no-catalog-examples",
                                                  "--queue", "2", "--rate-limit", "40", "--rate-burst", "40"])
        defer { ServeCommandTests.stop(server) }
        try await ServeCommandTests.waitUntilReady(server.port)

        let result = try await Self.load(["http://127.0.0.1:\(server.port)/api/v1/classify?top=1", "--image", photo.path,
                                          "--clients", "16", "--seconds", "3"])
        let counted = result.byStatus.values.reduce(0) { $0 + $1.count }
        #expect(counted + result.transportErrors == result.requests, "every request is an answer or a transport error")
        #expect(result.transportErrors == 0, "\(result.transportErrorSamples)")
        #expect(Set(result.byStatus.keys).isSubset(of: ["200", "429", "503"]), "\(result.byStatus.keys.sorted())")
        let classified = try #require(result.byStatus["200"]).count
        #expect(classified > 0 && result.byStatus["429"] != nil, "classifications and rate-limit refusals: \(result.byStatus)")
        #expect(result.missingRetryAfter == 0, "every refusal says when to come back")
        #expect(result.batchSizes.values.reduce(0, +) == classified, "each classification names its batch: \(result.batchSizes)")
        #expect(result.answeredPerSecond > 0)
    }

    @Test func aClosedPortIsCountedAsNoAnswer() async throws {
        let photo = SharedData.url("imagenet-sample/n01440764_tench.JPEG")
        try #require(SharedData.has("imagenet-sample/n01440764_tench.JPEG"), "../shared is present (BLINDSPOT_SHARED)")
        let result = try await Self.load(["http://127.0.0.1:1/api/v1/classify", "--image", photo.path, "--clients", "2", "--seconds", "0.3"])
        #expect(result.requests > 0 && result.transportErrors == result.requests && result.byStatus.isEmpty)
        #expect(result.transportErrorSamples == ["connect: Connection refused"])
    }
}
