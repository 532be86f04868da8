// `--weights` with a local safetensors checkpoint for a model without published weights, and bench's JSON lines.
import Core
import Foundation
import Models
import TestSupport
import Testing
import Weights

@Suite struct WeightsAndBenchCommandTests {
    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG")))
    func localSafeTensorsCheckpointRunsAModelWithoutPublishedWeights() throws {
        let model = try #require(ModelCatalog.standard.model(named: "efficientnet_lite3"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-lite3-\(UUID().uuidString).safetensors")
        try SafeTensors.write(SyntheticWeights.stateDict(for: model), to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try BlindspotBinary.run(["classify", "--model", "efficientnet_lite3", "--weights", file.path, "--json", "--top", "1",
                                              SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["model"] as? String == "efficientnet_lite3")
        #expect((object["predictions"] as? [[String: Any]])?.count == 1)

        let wrong = try BlindspotBinary.run(["classify", "--model", "efficientnet_lite4", "--weights", file.path,
                                             SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(wrong.status != 0)
        #expect(wrong.errors.contains("wrong shape for"), "a Lite3 checkpoint does not fit Lite4: \(wrong.errors)")
    }

    @Test func benchPrintsOneJSONObjectPerMeasurement() throws {
        let result = try BlindspotBinary.run(["bench", "--model", "efficientnet_lite0", "--batch", "1", "2", "--threads", "1",
                                              "--runs", "2", "--warmup", "0", "--no-peer", "--json"])
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, batch) in zip(lines, [1, 2]) {
            let measurement = try JSONDecoder().decode(BenchmarkResult.self, from: Data(line.utf8))
            #expect(measurement.engine == "blindspot")
            #expect(measurement.model == "efficientnet_lite0")
            #expect(measurement.batch == batch)
            #expect(measurement.threads == 1)
            #expect(measurement.msPerBatch > 0)
            #expect(abs(measurement.imagesPerSecond - Double(batch) * 1000 / measurement.msPerBatch) < 1e-9)
        }
    }
}
