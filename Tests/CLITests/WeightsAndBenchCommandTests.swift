// `--weights` with a local safetensors checkpoint for a model without published weights, and bench's JSON lines.
import Bench
import Foundation
import ModelRegistry
import Models
import Testing
import TestSupport
import Transforms
import Weights

@Suite struct WeightsAndBenchCommandTests {
    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG")))
    func localSafeTensorsCheckpointRunsAModelWithoutPublishedWeights() async throws {
        let model = try #require(ModelZoo.standard.model(named: "efficientnet_lite3"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-lite3-\(UUID().uuidString).safetensors")
        try SafeTensors.write(SyntheticWeights.stateDict(for: model), to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite3", "--weights", file.path, "--json", "--top", "1",
                                              SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["model"] as? String == "efficientnet_lite3")
        #expect((object["predictions"] as? [[String: Any]])?.count == 1)

        let wrong = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite4", "--weights", file.path,
                                             SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(wrong.status != 0)
        #expect(wrong.errors.contains("wrong shape for"), "a Lite3 checkpoint does not fit Lite4: \(wrong.errors)")
    }

    @Test func benchPrintsOneJSONDocumentWithTheForwardSectionByDefault() async throws {
        let result = try await BlindspotBinary.run(["bench", "--model", "efficientnet_lite0", "--batch", "1", "2", "--threads", "1",
                                              "--runs", "2", "--warmup", "0", "--no-peer", "--json"])
        #expect(result.status == 0, "\(result.errors)")
        let document = try JSONDecoder().decode(BenchmarkDocument.self, from: Data(result.output.utf8))
        let forward = try #require(document.forward)
        #expect(forward.map(\.batch) == [1, 2])
        for comparison in forward {
            let measurement = comparison.blindspot
            #expect(measurement.engine == "blindspot" && measurement.model == "efficientnet_lite0" && measurement.threads == 1)
            #expect(measurement.msPerBatch > 0)
            #expect(abs(measurement.imagesPerSecond - Double(measurement.batch) * 1000 / measurement.msPerBatch) < 1e-9)
            #expect(comparison.onnxruntime == nil && comparison.timeRatio == nil)
        }
        #expect(document.peak == nil && document.server == nil && document.scaling == nil)
    }

    /// Every section, each cut to its smallest: what is checked is the document, not the speeds.
    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG")))
    func benchAllFillsEverySectionAndItsTargets() async throws {
        let result = try await BlindspotBinary.run(["bench", "--all", "--model", "efficientnet_lite0", "--threads", "1", "--runs", "1", "--warmup", "0",
                                              "--no-peer", "--sgemm-size", "128", "--startup-runs", "1", "--server-seconds", "0.5",
                                              "--clients", "1", "2", "--batch-window-ms", "5", "0", "--scaling-runs", "1",
                                              "--photo", SharedData.url("imagenet-sample/n01440764_tench.JPEG").path, "--json"])
        #expect(result.status == 0, "\(result.errors)")
        let document = try JSONDecoder().decode(BenchmarkDocument.self, from: Data(result.output.utf8))
        #expect(document.forward?.count == 2)
        let peak = try #require(document.peak?.first)
        #expect(peak.sgemmGflops > 0 && peak.effectiveGflops > 0 && abs(peak.gflopPerImage - 0.8) < 0.1, "\(peak)")
        let memory = try #require(document.memory?.first)
        #expect(memory.peakResidentMB > memory.weightsMB && memory.boundMB == 1.3 * memory.weightsMB + 100)
        #expect(document.startup?.first?.seconds.count == 1)
        #expect(document.image?.map { "\($0.width)×\($0.height)" } == ["500×375", "1600×1200", "4000×3000"])
        #expect(document.transforms?.map(\.family) == TransformFamily.allCases.map(\.rawValue))
        #expect(document.transforms?.allSatisfy { $0.width == 500 && $0.levels >= 1 && $0.slowestMs >= $0.medianMs } == true)
        let server = try #require(document.server?.first)
        #expect(server.runs.map { [$0.batchWindowMs, Double($0.load.clients)] } == [[5, 1], [5, 2], [0, 2]])
        #expect(server.runs.allSatisfy { $0.load.requests > 0 && $0.load.failures == 0 }, "\(server.runs)")
        let scaling = try #require(document.scaling)
        #expect(scaling.batch.map(\.batch) == [1, 2, 4, 8, 16])
        #expect(scaling.imageSize.count == 3 && scaling.clients.map(\.run.load.clients) == [1, 2])
        let corruptions = try #require(document.corruptions)
        #expect(corruptions.corruptions.map(\.corruption) == Corruption.allCases.map(\.rawValue))
        #expect(corruptions.corruptions.filter(\.common).count == 15 && corruptions.width == 224 && corruptions.height == 224 && corruptions.images >= 1)
        let common = corruptions.corruptions.filter(\.common).map(\.medianMs)
        #expect(abs(corruptions.commonMeanMs - common.reduce(0, +) / 15) < 1e-9 && corruptions.classifyMs > 0)
        #expect(corruptions.corruptions.allSatisfy { $0.medianMs > 0 && $0.slowestMs >= $0.medianMs && (1...5).contains($0.slowestSeverity) })
        #expect(Set(document.targets.map(\.section)) == [.memory, .server, .corruptions], "targets of lite0 without a peer: \(document.targets)")
    }
}
