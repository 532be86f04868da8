// The `blindspot` binary as a user runs it: JSON contract of classify, per-file errors and exit status, models path.
import Foundation
import TestSupport
import Testing

@Suite struct ClassifyCommandTests {
    static let lite0 = "efficientnet-lite0-57934424.pth"

    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url(lite0) != nil))
    func jsonLinesFollowTheDocumentedContract() async throws {
        let tench = SharedData.url("imagenet-sample/n01440764_tench.JPEG").path
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-not-an-image-\(UUID().uuidString).jpg")
        try Data("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8).write(to: junk)
        defer { try? FileManager.default.removeItem(at: junk) }

        let result = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--json", "--logits", "--top", "3", junk.path, tench])
        #expect(result.status == 1, "a bad file makes the exit status 1")
        #expect(result.errors.contains("error: \(junk.path):"))
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "the good file is still classified")
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["file"] as? String == tench)
        #expect(object["model"] as? String == "efficientnet_lite0")
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        #expect(predictions.count == 3)
        #expect(predictions[0]["index"] as? Int == 0)
        #expect(predictions[0]["label"] as? String == "tench")
        let probability = try #require(predictions[0]["probability"] as? Double)
        #expect(abs(probability - 0.84578) < 0.01, "PyTorch's pipeline gives 0.84578")
        #expect((object["logits"] as? [Double])?.count == 1000)
        let timing = try #require(object["timing"] as? [String: Any])
        #expect((timing["decodeMs"] as? Double ?? -1) > 0)
        #expect((timing["inferenceMs"] as? Double ?? -1) > 0)
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url(lite0) != nil))
    func noResizeRefusesAnImageOfAnotherSize() async throws {
        let result = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--no-resize", SharedData.url("imagenet-sample/n01440764_tench.JPEG").path])
        #expect(result.status == 1)
        #expect(result.errors.contains("224"))
        #expect(result.output.isEmpty)
    }

    @Test func modelsPathFollowsBlindspotHome() async throws {
        let result = try await BlindspotBinary.run(["models", "path", "efficientnet_lite1"], environment: ["BLINDSPOT_HOME": "/tmp/blindspot-home-test"])
        #expect(result.status == 0)
        #expect(result.output == "/tmp/blindspot-home-test/efficientnet-lite1-77cc7160.pth\n")
        let unknown = try await BlindspotBinary.run(["classify", "--model", "alexnet", "x.jpg"], environment: ["BLINDSPOT_HOME": "/tmp/blindspot-home-test"])
        #expect(unknown.status != 0)
        #expect(unknown.errors.contains("unknown model 'alexnet'"))
    }
}
