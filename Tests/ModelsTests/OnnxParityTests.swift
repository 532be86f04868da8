// The peer models' ONNX files (../shared/peers) imported and run by Blindspot's engine against the PyTorch fixtures.
import Engine
import EngineDNNL
import Foundation
import Models
import Onnx
import TestSupport
import Testing
import Weights

@Suite struct OnnxParityTests {
    static let tolerance = 1e-4

    func importPeer(_ name: String) throws -> ImportedNetwork {
        let data = try Data(contentsOf: SharedData.url("peers/\(name).onnx"), options: .alwaysMapped)
        return try OnnxImporter.network(from: data, name: name)
    }

    @Test(.enabled(if: SharedData.has("peers/inception_v3.onnx") && SharedData.has("fixtures/inception_v3/reference.json")),
          arguments: ["inception_v3", "efficientnet_lite0"])
    func peerMatchesPyTorch(_ name: String) throws {
        let model = try #require(ModelZoo.standard.model(named: name))
        let imported = try importPeer(name)
        #expect(imported.graph.inputShape == model.preprocessing.tensorShape)
        #expect(imported.graph.outputShape == [1000])
        #expect(!imported.droppedSoftmax)
        let fixture = try Fixture.load(name)
        let batch = try fixture.batch(name, preprocessing: model.preprocessing)
        let logits = try DNNLBackend().prepare(imported.graph).run(batch)
        let error = fixture.maximumError(logits)
        print("\(name).onnx through Blindspot: max |logit - PyTorch| = \(error) over \(fixture.cases.count) images, \(imported.graph.nodes.count) nodes")
        #expect(error <= Self.tolerance)
    }

    /// Blindspot and ONNX Runtime on the same file and random inputs.
    @Test(.enabled(if: SharedData.has("peers/inception_v3.onnx") && OnnxRuntimeRunner.isAvailable),
          arguments: ["inception_v3", "efficientnet_lite0"])
    func peerMatchesOnnxRuntime(_ name: String) async throws {
        let imported = try importPeer(name)
        var random = SplitMix64(seed: 17)
        let input = random.tensor([2] + imported.graph.inputShape, scale: 2)
        let ours = try DNNLBackend().prepare(imported.graph).run(input)
        let theirs = try await OnnxRuntimeRunner.outputs(model: SharedData.url("peers/\(name).onnx"), input: input)
        #expect(theirs.shape == ours.shape)
        let difference = ours.maxAbsoluteDifference(theirs)
        print("\(name).onnx: max |Blindspot - ONNX Runtime| = \(difference) on random inputs")
        #expect(difference <= Float(Self.tolerance))
    }

    /// A built-in network exported by Blindspot and run by ONNX Runtime gives Blindspot's numbers (ResNet-50's, which
    /// reach 10⁴ under the deterministic weights, within 1e-4 of the largest). ConvNeXt's channel LayerNorms go out as
    /// Transpose → LayerNormalization → Transpose and its GELU as x·(1 + erf(x/√2))/2; ViT's attention as Reshape,
    /// Transpose, Gather, MatMul, Softmax, MatMul.
    @Test(.enabled(if: SharedData.has("fixtures/efficientnet_lite0/reference.json") && OnnxRuntimeRunner.isAvailable),
          arguments: ["inception_v3", "efficientnet_lite0", "resnet50", "convnext_tiny", "vit_b_16"])
    func exportRunsTheSameInOnnxRuntime(_ name: String) async throws {
        let model = try #require(ModelZoo.standard.model(named: name))
        // The real lite0 weights when cached, else the fixtures' deterministic weights: the export is the same code.
        let graph: Graph
        if name == "efficientnet_lite0", let file = CachedWeights.url(model.release!.fileName) {
            graph = try model.graph(from: WeightsFile.load(contentsOf: file))
        } else {
            graph = try model.deterministicGraph()
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(name)-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: file) }
        try OnnxExporter.model(of: graph, producerVersion: "test").serialized().write(to: file)
        let fixture = try Fixture.load(name)
        let input = try fixture.batch(name, preprocessing: model.preprocessing)
        let ours = try DNNLBackend().prepare(graph).run(input)
        let theirs = try await OnnxRuntimeRunner.outputs(model: file, input: input)
        let difference = ours.maxAbsoluteDifference(theirs)
        print("\(name) exported: max |Blindspot - ONNX Runtime| = \(difference) over \(fixture.cases.count) fixture images")
        let bound = name == "resnet50" ? Self.tolerance * fixture.largestLogit : Self.tolerance
        #expect(Double(difference) <= bound)
    }

    /// PyTorch's logits for torch.onnx's exports of small torchvision networks (../shared/fixtures/onnx).
    struct TorchExports: Decodable {
        struct File: Decodable { let torch: [[Double]] }
        let inputs: [String]
        let files: [String: File]
    }

    /// torch.onnx's exports of a small ConvNeXt (LayerNormalization between Transposes, or at opset 14 its formula:
    /// ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add; MatMul on channels-last data; the exact GELU through
    /// Erf) are fused into Blindspot's own operations: channel LayerNorms, 1×1 convolutions with their biases, GELU
    /// and layer scales folded in, and give PyTorch's logits on ViT-B/16's fixture inputs (224², ImageNet's mean and
    /// standard deviation) on both backends.
    @Test(.enabled(if: SharedData.has("fixtures/onnx/reference.json") && SharedData.has("fixtures/vit_b_16/reference.json")),
          arguments: ["convnext_mini_opset14.onnx", "convnext_mini_opset17.onnx"])
    func torchConvNeXtExportMatchesPyTorch(_ file: String) async throws {
        let (imported, counts) = try Self.importTorchExport(file)
        // Four stages of one block each: a LayerNorm per block, per downsampling, after the stem and before the head.
        #expect(counts.normalizations == 4 + 3 + 1 + 1 && counts.geluConvolutions == 4, "\(imported.graph.nodes.count) nodes")
        try await expectTorchLogits(imported, file: file)
    }

    /// torch's exports of a small ViT (class token expanded over the batch with Where and Expand, the attention spelt
    /// out as Reshape, Transpose, Gather, scaled MatMul, Softmax, MatMul) become Blindspot's own graph: patches by a
    /// convolution, LayerNorms over channels, one attention node per block, GELU in the MLP's first convolution; and
    /// give PyTorch's logits on both backends at batch 1 and 3.
    @Test(.enabled(if: SharedData.has("fixtures/onnx/reference.json") && SharedData.has("fixtures/vit_b_16/reference.json")),
          arguments: ["vit_tiny_opset14.onnx", "vit_tiny_opset17.onnx"])
    func torchViTExportMatchesPyTorch(_ file: String) async throws {
        let (imported, counts) = try Self.importTorchExport(file)
        // Two encoder blocks: two LayerNorms each and one before the head.
        #expect(counts.attentions == 2 && counts.normalizations == 2 * 2 + 1 && counts.geluConvolutions == 2, "\(imported.graph.nodes.count) nodes")
        try await expectTorchLogits(imported, file: file)
    }

    /// `file` of ../shared/fixtures/onnx imported, with how many of the operations transformers add it holds.
    static func importTorchExport(_ file: String) throws -> (ImportedNetwork, (attentions: Int, normalizations: Int, geluConvolutions: Int)) {
        let data = try Data(contentsOf: SharedData.url("fixtures/onnx/" + file), options: .alwaysMapped)
        let imported = try OnnxImporter.network(from: data, name: file)
        let operations = imported.graph.nodes.map(\.operation)
        return (imported, (operations.count { if case .attention = $0 { true } else { false } },
                           operations.count { if case .layerNormalization = $0 { true } else { false } },
                           operations.count { if case .convolution(let c) = $0, c.activation == .gelu { true } else { false } }))
    }

    /// `imported` gives PyTorch's logits (reference.json's, for `file`) for ViT-B/16's fixture inputs (224², ImageNet's
    /// mean and standard deviation) on both backends, as a batch of all of them and for the first alone; exported again
    /// by Blindspot, it gives them in ONNX Runtime too.
    func expectTorchLogits(_ imported: ImportedNetwork, file: String) async throws {
        let reference = try JSONDecoder().decode(TorchExports.self, from: Data(contentsOf: SharedData.url("fixtures/onnx/reference.json")))
        let (logits, inputs) = (try #require(reference.files[file]).torch, reference.inputs)
        let model = try #require(ModelZoo.standard.model(named: "vit_b_16"))
        let fixture = Fixture(cases: inputs.enumerated().map { index, input in
            Fixture.Case(input: "inputs/" + input, logits: logits[index], top5: [])
        }, stateDictKeys: nil)
        let batch = try fixture.batch("vit_b_16", preprocessing: model.preprocessing)
        let first = Tensor(shape: [1] + Array(batch.shape.dropFirst()), scalars: Array(batch.scalars.prefix(batch.count / inputs.count)))
        for backend in [try DNNLBackend() as any Backend, ReferenceBackend()] {
            let prepared = try backend.prepare(imported.graph)
            let error = fixture.maximumError(try prepared.run(batch))
            let single = Fixture(cases: [fixture.cases[0]], stateDictKeys: nil).maximumError(try prepared.run(first))
            print("\(file) on \(backend.name): max |logit - PyTorch| = \(error) at batch \(inputs.count), \(single) at batch 1")
            #expect(error <= Self.tolerance && single <= Self.tolerance, "\(backend.name)")
        }
        try #require(OnnxRuntimeRunner.isAvailable, "ONNX Runtime runs the export again")
        let exported = FileManager.default.temporaryDirectory.appendingPathComponent("reexport-\(UUID().uuidString)-\(file)")
        defer { try? FileManager.default.removeItem(at: exported) }
        try OnnxExporter.model(of: imported.graph, producerVersion: "test").serialized().write(to: exported)
        let error = fixture.maximumError(try await OnnxRuntimeRunner.outputs(model: exported, input: batch))
        print("\(file) imported and exported again, in ONNX Runtime: max |logit - PyTorch| = \(error)")
        #expect(error <= Self.tolerance)
    }
}
