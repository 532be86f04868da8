// Hand-computed cases for the specification kernels: PyTorch's conventions written out as numbers.
import Engine
import Testing

@Suite struct ReferenceKernelTests {
    @Test func convolutionSumsEachWindow() {
        let input = Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map(Float.init))
        let convolution = Convolution(weight: Tensor(shape: [1, 1, 2, 2], repeating: 1), bias: Tensor(shape: [1], scalars: [0.5]))
        let output = ReferenceKernels.convolution(input, convolution)
        #expect(output.shape == [1, 1, 2, 2])
        #expect(output.scalars == [12.5, 16.5, 24.5, 28.5])
    }

    @Test func convolutionWithStridePaddingAndReLU6() {
        let input = Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map(Float.init))
        let convolution = Convolution(weight: Tensor(shape: [1, 1, 1, 1], scalars: [1]), bias: nil,
                                      stride: Size2D(2, 2), padding: Padding2D(top: 0, left: 0, bottom: 1, right: 1), activation: .relu6)
        let output = ReferenceKernels.convolution(input, convolution)
        #expect(output.shape == [1, 1, 2, 2])
        #expect(output.scalars == [1, 3, 6, 6])
    }

    @Test func depthwiseConvolutionKeepsChannelsApart() {
        let input = Tensor(shape: [1, 2, 1, 2], scalars: [1, 2, 10, 20])
        let convolution = Convolution(weight: Tensor(shape: [2, 1, 1, 2], scalars: [1, 1, -1, 2]), bias: nil, groups: 2)
        let output = ReferenceKernels.convolution(input, convolution)
        #expect(output.shape == [1, 2, 1, 1])
        #expect(output.scalars == [3, 30])
    }

    @Test func tensorFlowSamePadding() {
        #expect(Padding2D.same(input: Size2D(224, 224), kernel: Size2D(3, 3), stride: Size2D(2, 2)) == Padding2D(top: 0, left: 0, bottom: 1, right: 1))
        #expect(Padding2D.same(input: Size2D(56, 56), kernel: Size2D(5, 5), stride: Size2D(2, 2)) == Padding2D(top: 1, left: 1, bottom: 2, right: 2))
        #expect(Padding2D.same(input: Size2D(7, 7), kernel: Size2D(3, 3), stride: Size2D(1, 1)) == Padding2D(symmetric: 1, 1))
        #expect(Padding2D.same(input: Size2D(15, 15), kernel: Size2D(3, 3), stride: Size2D(2, 2)) == Padding2D(symmetric: 1, 1))
    }

    @Test func poolingOutputSizesFollowPyTorch() {
        #expect(Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2)).outputSize(input: Size2D(147, 147)) == Size2D(73, 73))
        #expect(Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), ceilMode: true).outputSize(input: Size2D(6, 6)) == Size2D(3, 3))
        #expect(Pooling(kernel: Size2D(2, 2), stride: Size2D(2, 2), ceilMode: true).outputSize(input: Size2D(5, 5)) == Size2D(3, 3))
        // The last window would start in the trailing padding only, so ceil mode drops it.
        #expect(Pooling(kernel: Size2D(2, 2), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1), ceilMode: true)
            .outputSize(input: Size2D(4, 4)) == Size2D(3, 3))
    }

    @Test func averagePoolingDivisors() {
        let ones = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        let including = ReferenceKernels.averagePool(ones, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1)))
        #expect(including.scalars.map { ($0 * 9).rounded() } == [4, 6, 4, 6, 9, 6, 4, 6, 4])
        let excluding = ReferenceKernels.averagePool(ones, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1),
                                                                    countIncludesPadding: false))
        #expect(excluding.scalars == [Float](repeating: 1, count: 9))
        // Ceil mode with padding: PyTorch clips the last window to the padded input, so it divides by 2, not 3.
        let row = Tensor(shape: [1, 1, 1, 4], scalars: [1, 2, 3, 4])
        let ceil = ReferenceKernels.averagePool(row, Pooling(kernel: Size2D(1, 3), stride: Size2D(1, 2), padding: Padding2D(symmetric: 0, 1), ceilMode: true))
        #expect(ceil.scalars == [1, 3, 2])
    }

    @Test func maxPoolingIgnoresPadding() {
        let input = Tensor(shape: [1, 1, 2, 2], scalars: [-4, -3, -2, -1])
        let output = ReferenceKernels.maxPool(input, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1)))
        #expect(output.scalars == [-1, -1, -1, -1])
    }

    @Test func concatAddLinearSoftmax() {
        let left = Tensor(shape: [2, 1, 1, 1], scalars: [1, 2])
        let right = Tensor(shape: [2, 2, 1, 1], scalars: [3, 4, 5, 6])
        #expect(ReferenceKernels.concat([left, right]).scalars == [1, 3, 4, 2, 5, 6])
        #expect(ReferenceKernels.add(left, left, activation: .relu).scalars == [2, 4])
        let linear = Linear(weight: Tensor(shape: [2, 3], scalars: [1, 0, -1, 0.5, 0.5, 0.5]), bias: Tensor(shape: [2], scalars: [0, 1]))
        let features = Tensor(shape: [1, 3], scalars: [2, 4, 6])
        #expect(ReferenceKernels.linear(features, linear).scalars == [-4, 7])
        let probabilities = ReferenceKernels.softmax(Tensor(shape: [1, 2], scalars: [0, 1.0986123]))
        #expect(abs(probabilities.scalars[0] - 0.25) < 1e-6 && abs(probabilities.scalars[1] - 0.75) < 1e-6)
        #expect(ReferenceKernels.globalAveragePool(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 6])).scalars == [3])
    }

    /// Channels 1, 2, 3 at one position and 5, 5, 5 at the other: mean 2, variance 2/3, so (−√1.5, 0, √1.5), scaled
    /// and shifted per channel; a constant position is all bias (ε keeps 0/0 away). GELU: x·Φ(x), Φ(1) = 0.8413447.
    @Test func layerNormalizationOverChannelsAndGELU() {
        let input = Tensor(shape: [1, 3, 1, 2], scalars: [1, 5, 2, 5, 3, 5])
        let normalization = LayerNormalization(weight: Tensor(shape: [3], scalars: [1, 2, 1]), bias: Tensor(shape: [3], scalars: [0, 0, 0.5]), epsilon: 1e-12)
        let output = ReferenceKernels.layerNormalization(input, normalization).scalars
        let root = Float(1.5.squareRoot())
        for (actual, expected) in zip(output, [-root, 0, 0, 0, root + 0.5, 0.5] as [Float]) { #expect(abs(actual - expected) < 1e-6, "\(output)") }
        #expect(abs(Activation.gelu.apply(1) - 0.8413447) < 1e-6 && Activation.gelu.apply(0) == 0 && abs(Activation.gelu.apply(-1) + 0.1586553) < 1e-6)
    }

    @Test func referenceBackendRunsAGraph() throws {
        var builder = GraphBuilder(name: "tiny", inputShape: [1, 2, 2])
        let doubled = builder.convolution(builder.input, Convolution(weight: Tensor(shape: [1, 1, 1, 1], scalars: [2]), bias: nil))
        let both = builder.concat([builder.input, doubled])
        let pooled = builder.globalAveragePool(both)
        let logits = builder.linear(pooled, Linear(weight: Tensor(shape: [1, 2], scalars: [1, 1]), bias: nil))
        let graph = builder.build(output: logits)
        let prepared = try ReferenceBackend().prepare(graph)
        let output = try prepared.run(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 6]))
        #expect(output.shape == [1, 1])
        #expect(output.scalars == [9])
        #expect(throws: EngineError.inputShape(expected: [1, 2, 2], got: [1, 1, 3, 3])) {
            try prepared.run(Tensor(zeros: [1, 1, 3, 3]))
        }
    }

    @Test func separatingWeightsKeepsShapesAndHandsOverEveryWeight() {
        var builder = GraphBuilder(name: "tiny", inputShape: [2, 3, 3])
        let weight = Tensor(shape: [4, 1, 2, 2], scalars: (0..<16).map(Float.init))
        let convolved = builder.convolution(builder.input, Convolution(weight: weight, bias: Tensor(shape: [4], repeating: 1), groups: 2))
        let logits = builder.linear(builder.globalAveragePool(convolved), Linear(weight: Tensor(shape: [3, 4], repeating: 0.5), bias: nil))
        let graph = builder.build(output: logits)

        let (weightless, weights) = graph.separatingWeights()
        #expect(weights == [convolved.index: weight.scalars, logits.index: [Float](repeating: 0.5, count: 12)])
        #expect(weightless.multiplyAccumulates == graph.multiplyAccumulates)
        #expect(weightless.nodes.map(\.shape) == graph.nodes.map(\.shape))
        guard case .convolution(let convolution) = weightless.nodes[convolved.index].operation,
              case .linear(let linear) = weightless.nodes[logits.index].operation else {
            Issue.record("the weightless graph changed its operations")
            return
        }
        #expect(convolution.weight.count == 0 && convolution.weightShape == [4, 1, 2, 2])
        #expect(convolution.bias?.scalars == [1, 1, 1, 1] && convolution.groups == 2)
        #expect(linear.weight.count == 0 && linear.outputFeatures == 3 && linear.inputFeatures == 4)
    }
}
