// Loading is strict: a checkpoint that does not fit the model is refused with every bad key and both shapes named.
import Engine
import Models
import Testing
import Weights

@Suite struct StrictLoadingTests {
    /// A complete zero state dict for `model`, with or without the optional keys.
    func zeros(_ model: ModelDescriptor) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: model.parameters().required.map { ($0.key, Tensor(zeros: $0.shape)) })
    }

    @Test func completeCheckpointLoads() throws {
        let model = try #require(ModelZoo.standard.model(named: "efficientnet_lite0"))
        let graph = try model.graph(from: StateDict(tensors: zeros(model)))
        #expect(graph.inputShape == [3, 224, 224])
        #expect(graph.outputShape == [1000])
    }

    @Test func everyProblemIsNamedWithBothShapes() throws {
        let model = try #require(ModelZoo.standard.model(named: "efficientnet_lite0"))
        var tensors = zeros(model)
        tensors["_fc.bias"] = nil
        tensors["_conv_stem.weight"] = Tensor(zeros: [32, 3, 5, 5])
        tensors["_blocks.99._bn0.weight"] = Tensor(zeros: [7])
        tensors["_bn0.num_batches_tracked"] = Tensor(zeros: [])
        #expect(throws: WeightsError.keyMismatch([
            .shapeMismatch(key: "_conv_stem.weight", expected: [32, 3, 3, 3], found: [32, 3, 5, 5]),
            .unexpected(key: "_blocks.99._bn0.weight", found: [7]),
            .missing(key: "_fc.bias", expected: [1000]),
        ].sorted { $0.key < $1.key })) {
            try model.graph(from: StateDict(tensors: tensors))
        }
    }

    @Test func inceptionIgnoresOnlyTheAuxiliaryClassifier() throws {
        let model = try #require(ModelZoo.standard.model(named: "inception_v3"))
        var tensors = zeros(model)
        tensors["AuxLogits.fc.weight"] = Tensor(zeros: [1000, 768])
        _ = try model.graph(from: StateDict(tensors: tensors))
        tensors["Aux.fc.weight"] = Tensor(zeros: [1])
        #expect(throws: WeightsError.keyMismatch([.unexpected(key: "Aux.fc.weight", found: [1])])) {
            try model.graph(from: StateDict(tensors: tensors))
        }
    }

    @Test func architecturesHaveTheirPublishedSizes() {
        let counts = ModelZoo.standard.models.map { model in
            (model.name, model.parameters().required.filter { !$0.key.contains("running_") }.reduce(0) { $0 + Tensor.count(of: $1.shape) })
        }
        // Parameter counts (weights, biases, batch-norm scales) of torchvision's Inception v3 without the aux head,
        // and of the EfficientNet-Lite checkpoints.
        #expect(counts.first { $0.0 == "inception_v3" }?.1 == 23_834_568)
        #expect(counts.first { $0.0 == "efficientnet_lite0" }?.1 == 4_652_008)
    }
}
