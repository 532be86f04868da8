// ONNX through the command line: export a built-in model, run the file with --weights, add it under a name,
// use and remove it; a file with operators Blindspot lacks is refused by name and nothing is added.
import Foundation
import TestSupport
import Testing

@Suite struct OnnxCommandTests {
    static func predictions(_ output: String) throws -> [(index: Int, probability: Double)] {
        let object = try #require(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        return predictions.map { ($0["index"] as? Int ?? -1, $0["probability"] as? Double ?? -1) }
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url(ClassifyCommandTests.lite0) != nil))
    func exportAddClassifyAndRemove() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let exported = directory.appendingPathComponent("lite0.onnx").path
        let tench = SharedData.url("imagenet-sample/n01440764_tench.JPEG").path

        let export = try await BlindspotBinary.run(["models", "export", "efficientnet_lite0", "--onnx", exported])
        #expect(export.status == 0, "\(export.errors)")
        // The exported file run through --weights gives the checkpoint's answer.
        let native = try await Self.predictions(BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--json", "--top", "5", tench]).output)
        let viaOnnx = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--weights", exported, "--json", "--top", "5", tench])
        #expect(viaOnnx.status == 0, "\(viaOnnx.errors)")
        let onnxPredictions = try Self.predictions(viaOnnx.output)
        #expect(onnxPredictions.map(\.index) == native.map(\.index))
        for (a, b) in zip(onnxPredictions, native) { #expect(abs(a.probability - b.probability) < 1e-5) }

        // Added under a name in an empty cache, it is listed, classifies, and goes away.
        let home = ["BLINDSPOT_HOME": directory.appendingPathComponent("home").path]
        let add = try await BlindspotBinary.run(["models", "add", "my-lite", exported, "--normalize", "lite"], environment: home)
        #expect(add.status == 0, "\(add.errors)")
        #expect(add.output.contains("input [3, 224, 224]"))
        let list = try await BlindspotBinary.run(["models", "list"], environment: home)
        #expect(list.output.contains("my-lite") && list.output.contains("imported ONNX"))
        let classified = try await BlindspotBinary.run(["classify", "--model", "my-lite", "--json", "--top", "1", tench], environment: home)
        #expect(classified.status == 0, "\(classified.errors)")
        #expect(try Self.predictions(classified.output).first?.index == 0, "tench")
        let again = try await BlindspotBinary.run(["models", "add", "my-lite", exported], environment: home)
        #expect(again.status != 0 && again.errors.contains("already a model name"))
        #expect(try await BlindspotBinary.run(["models", "remove", "my-lite"], environment: home).status == 0)
        #expect(!(try await BlindspotBinary.run(["models", "list"], environment: home).output.contains("my-lite")))
    }

    /// torch.onnx's export of a small Vision Transformer, added under a name, classifies a fixture image (already
    /// 224², taken as it is) with PyTorch's probabilities, and exported again it is added and answers the same.
    @Test(.enabled(if: SharedData.has("fixtures/onnx/vit_tiny_opset17.onnx") && SharedData.has("fixtures/vit_b_16/inputs/n02391049_zebra.png")))
    func torchViTIsAddedAndClassifies() async throws {
        struct Reference: Decodable {
            struct File: Decodable { let torch: [[Double]] }
            let inputs: [String]
            let files: [String: File]
        }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: SharedData.url("fixtures/onnx/reference.json")))
        let index = try #require(reference.inputs.firstIndex(of: "n02391049_zebra.png"))
        let logits = try #require(reference.files["vit_tiny_opset17.onnx"]).torch[index]
        let largest = logits.max() ?? 0
        let total = logits.reduce(0) { $0 + exp($1 - largest) }
        let expected = logits.enumerated().map { (index: $0.offset, probability: exp($0.element - largest) / total) }.sorted { $0.probability > $1.probability }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-vit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let home = ["BLINDSPOT_HOME": directory.appendingPathComponent("home").path]
        let zebra = SharedData.url("fixtures/vit_b_16/inputs/n02391049_zebra.png").path
        let add = try await BlindspotBinary.run(["models", "add", "vit-tiny", SharedData.url("fixtures/onnx/vit_tiny_opset17.onnx").path], environment: home)
        #expect(add.status == 0, "\(add.errors)")
        let exported = directory.appendingPathComponent("again.onnx").path
        let export = try await BlindspotBinary.run(["models", "export", "vit-tiny", "--onnx", exported], environment: home)
        #expect(export.status == 0, "\(export.errors)")
        #expect(try await BlindspotBinary.run(["models", "add", "vit-again", exported], environment: home).status == 0)
        for name in ["vit-tiny", "vit-again"] {
            let classified = try await BlindspotBinary.run(["classify", "--model", name, "--no-resize", "--json", "--top", "3", zebra], environment: home)
            #expect(classified.status == 0, "\(classified.errors)")
            let answers = try Self.predictions(classified.output)
            #expect(answers.map(\.index) == expected.prefix(3).map(\.index), "\(name)")
            for (answer, truth) in zip(answers, expected) { #expect(abs(answer.probability - truth.probability) < 1e-5, "\(name)") }
        }
    }

    @Test func unsupportedOperatorsAreRefusedByName() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A hand-encoded ModelProto: ir_version 8, opset 17, graph with input x [1, 3, 16, 16] → TopK → y.
        func field(_ number: Int, _ bytes: [UInt8]) -> [UInt8] { [UInt8(number << 3 | 2), UInt8(bytes.count)] + bytes }
        func text(_ number: Int, _ value: String) -> [UInt8] { field(number, Array(value.utf8)) }
        let dims = [1, 3, 16, 16].flatMap { field(1, [0x08, UInt8($0)]) }
        let input = text(1, "x") + field(2, field(1, [0x08, 0x01] + field(2, dims)))
        let node = text(1, "x") + text(2, "y") + text(3, "pick") + text(4, "TopK")
        let graph = field(1, node) + text(2, "g") + field(11, input) + field(12, text(1, "y"))
        let model: [UInt8] = [0x08, 0x08] + field(7, graph) + field(8, [0x10, 17])
        let file = directory.appendingPathComponent("topk.onnx")
        try Data(model).write(to: file)
        let home = ["BLINDSPOT_HOME": directory.appendingPathComponent("home").path]
        let add = try await BlindspotBinary.run(["models", "add", "topk", file.path, "--input-size", "16"], environment: home)
        #expect(add.status != 0)
        #expect(add.errors.contains("TopK") && add.errors.contains("'pick'"), "\(add.errors)")
        #expect(!(try await BlindspotBinary.run(["models", "list"], environment: home).output.contains("topk")))
    }
}
