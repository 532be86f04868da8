// The penultimate features that discovery reads, against PyTorch's (../shared/fixtures/MODEL/features.json): from the
// built-in networks and from the ONNX peers, cut before the classifier; the classifier on them gives the logits.
import Engine
import EngineDNNL
import Foundation
import Models
import Onnx
import TestSupport
import Testing
import Weights

struct FeatureFixture: Decodable {
    struct Case: Decodable {
        let input: String
        let features: [Double]
    }

    let layer: String
    let cases: [Case]

    static func load(_ model: String) throws -> FeatureFixture {
        try JSONDecoder().decode(FeatureFixture.self, from: Data(contentsOf: SharedData.url("fixtures/\(model)/features.json")))
    }

    /// The largest |ours − PyTorch's| over every case, and the largest |PyTorch's| feature.
    func error(_ features: Tensor) -> (maximum: Double, largest: Double) {
        let count = features.count / cases.count
        var worst = 0.0
        var largest = 0.0
        for (row, testCase) in cases.enumerated() {
            for (index, expected) in testCase.features.enumerated() {
                worst = max(worst, abs(Double(features.scalars[row * count + index]) - expected))
                largest = max(largest, abs(expected))
            }
        }
        return (worst, largest)
    }
}

@Suite struct FeatureParityTests {
    static let tolerance = 1e-4

    /// The features of `graph` on `model`'s fixture inputs, checked against PyTorch's (relative to the largest
    /// feature when `relative`), and the classifier on them against the whole network's logits.
    func check(_ graph: Graph, _ model: String, source: String, relative: Bool = false) throws {
        let descriptor = try #require(ModelZoo.standard.model(named: model))
        let fixture = try FeatureFixture.load(model)
        let inputs = try Fixture.load(model)
        #expect(inputs.cases.map(\.input) == fixture.cases.map(\.input), "features.json and reference.json name the same inputs")
        let split = try #require(graph.splitAtClassifier(), "\(source): the network ends in a linear layer")
        #expect(split.trunk.outputShape.reduce(1, *) == fixture.cases[0].features.count)
        let batch = try inputs.batch(model, preprocessing: descriptor.preprocessing)
        let backend = try DNNLBackend()
        let features = try backend.prepare(split.trunk).run(batch)
        let (error, largest) = fixture.error(features)
        print("\(model) (\(source)): max |feature − PyTorch| = \(error), largest feature \(largest), over \(fixture.cases.count) images")
        #expect(error <= Self.tolerance * (relative ? largest : 1), "\(source)")
        let rows = features.shape[0]
        let logits = try backend.prepare(split.classifier).run(Tensor(shape: [rows, features.count / rows, 1, 1], scalars: features.scalars))
        let whole = try backend.prepare(graph).run(batch)
        let scale = relative ? Double(whole.scalars.map(abs).max() ?? 1) : 1
        #expect(Double(logits.maxAbsoluteDifference(whole)) <= 1e-4 * scale, "\(source): the classifier on the features gives the network's logits")
    }

    @Test(.enabled(if: SharedData.has("fixtures/inception_v3/features.json")))
    func inceptionV3FeaturesMatchPyTorch() throws {
        try check(try #require(ModelZoo.standard.model(named: "inception_v3")).deterministicGraph(), "inception_v3", source: "built in")
    }

    @Test(.enabled(if: SharedData.has("fixtures/efficientnet_lite0/features.json")))
    func efficientNetLite0FeaturesMatchPyTorch() throws {
        let model = try #require(ModelZoo.standard.model(named: "efficientnet_lite0"))
        let release = try #require(model.release)
        let weights = try #require(CachedWeights.url(release.fileName), "the weights are in the cache (make test fetches them)")
        try check(try model.graph(from: WeightsFile.load(contentsOf: weights)), "efficientnet_lite0", source: "built in")
    }

    /// ResNet-50 built in, and exported to ONNX and imported again: the same features as PyTorch's within 1e-4 of the
    /// largest (they reach 10³ under the deterministic weights).
    @Test(.enabled(if: SharedData.has("fixtures/resnet50/features.json")))
    func resNet50FeaturesMatchPyTorch() throws {
        let graph = try #require(ModelZoo.standard.model(named: "resnet50")).deterministicGraph()
        try check(graph, "resnet50", source: "built in", relative: true)
        let exported = try OnnxExporter.model(of: graph, producerVersion: "test").serialized()
        try check(try OnnxImporter.network(from: exported, name: "resnet50").graph, "resnet50", source: "ONNX round trip", relative: true)
    }

    /// ConvNeXt-Tiny's features are the classifier's LayerNorm2d output after pooling, as torchvision's classifier.2 reads them.
    @Test(.enabled(if: SharedData.has("fixtures/convnext_tiny/features.json")))
    func convNeXtTinyFeaturesMatchPyTorch() throws {
        try check(try #require(ModelZoo.standard.model(named: "convnext_tiny")).deterministicGraph(), "convnext_tiny", source: "built in", relative: true)
    }

    /// ViT-B/16's features are the class token after the encoder's final LayerNorm.
    @Test(.enabled(if: SharedData.has("fixtures/vit_b_16/features.json")))
    func visionTransformerB16FeaturesMatchPyTorch() throws {
        try check(try #require(ModelZoo.standard.model(named: "vit_b_16")).deterministicGraph(), "vit_b_16", source: "built in", relative: true)
    }

    /// An imported ONNX classifier is cut at the input of its last Gemm, which its importer made a linear layer.
    @Test(.enabled(if: SharedData.has("peers/inception_v3.onnx") && SharedData.has("fixtures/inception_v3/features.json")),
          arguments: ["inception_v3", "efficientnet_lite0"])
    func importedFeaturesMatchPyTorch(_ name: String) throws {
        let data = try Data(contentsOf: SharedData.url("peers/\(name).onnx"), options: .alwaysMapped)
        try check(try OnnxImporter.network(from: data, name: name).graph, name, source: "ONNX")
    }
}
