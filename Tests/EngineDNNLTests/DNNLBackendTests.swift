// Every primitive on the oneDNN backend against the reference backend, on random odd shapes.
// Tolerance: 1e-4 absolute on values of order one (float32 sums in a different order).
import Engine
import EngineDNNL
import TestSupport
import Testing
import WinogradKernels

@Suite struct DNNLBackendTests {
    static let tolerance: Float = 1e-4

    /// Runs `graph` on both backends for each batch size and checks they agree.
    func expectAgreement(_ graph: Graph, batchSizes: [Int] = [1, 3], seed: UInt64 = 7, backend: DNNLBackend? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        var random = SplitMix64(seed: seed)
        let fast = try (backend ?? DNNLBackend()).prepare(graph)
        let reference = try ReferenceBackend().prepare(graph)
        for batch in batchSizes {
            let input = random.tensor([batch] + graph.inputShape)
            let expected = try reference.run(input)
            let actual = try fast.run(input)
            #expect(actual.shape == expected.shape, sourceLocation: sourceLocation)
            let difference = actual.maxAbsoluteDifference(expected)
            #expect(difference <= Self.tolerance, "\(graph.name) batch \(batch): max difference \(difference)", sourceLocation: sourceLocation)
        }
    }

    func convolution(_ random: inout SplitMix64, input: Int, output: Int, kernel: Size2D, stride: Size2D = Size2D(1, 1),
                     padding: Padding2D = .zero, dilation: Size2D = Size2D(1, 1), groups: Int = 1, bias: Bool = true,
                     activation: Activation = .identity) -> Convolution {
        let fanIn = input / groups * kernel.height * kernel.width
        let scale = (3 / Float(fanIn)).squareRoot()
        return Convolution(weight: random.tensor([output, input / groups, kernel.height, kernel.width], scale: scale),
                           bias: bias ? random.tensor([output], scale: 0.1) : nil,
                           stride: stride, padding: padding, dilation: dilation, groups: groups, activation: activation)
    }

    struct ConvolutionCase: Sendable, CustomStringConvertible {
        let input: [Int]
        let output: Int
        let kernel: Size2D
        let stride: Size2D
        let padding: Padding2D
        let dilation: Size2D
        let groups: Int
        let activation: Activation
        var description: String { "\(input)→\(output) k\(kernel.height)x\(kernel.width) s\(stride.height) g\(groups) \(activation)" }
    }

    static let convolutionCases: [ConvolutionCase] = [
        ConvolutionCase(input: [3, 17, 13], output: 8, kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: .zero, dilation: Size2D(1, 1), groups: 1, activation: .relu),
        ConvolutionCase(input: [16, 9, 11], output: 24, kernel: Size2D(1, 1), stride: Size2D(1, 1), padding: .zero, dilation: Size2D(1, 1), groups: 1, activation: .identity),
        ConvolutionCase(input: [12, 10, 10], output: 12, kernel: Size2D(1, 7), stride: Size2D(1, 1), padding: Padding2D(symmetric: 0, 3), dilation: Size2D(1, 1), groups: 1, activation: .relu),
        ConvolutionCase(input: [12, 10, 10], output: 20, kernel: Size2D(7, 1), stride: Size2D(1, 1), padding: Padding2D(symmetric: 3, 0), dilation: Size2D(1, 1), groups: 1, activation: .relu),
        ConvolutionCase(input: [32, 14, 14], output: 32, kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: Padding2D(top: 0, left: 0, bottom: 1, right: 1), dilation: Size2D(1, 1), groups: 32, activation: .relu6),
        ConvolutionCase(input: [40, 15, 15], output: 40, kernel: Size2D(5, 5), stride: Size2D(2, 2), padding: Padding2D(top: 1, left: 1, bottom: 2, right: 2), dilation: Size2D(1, 1), groups: 40, activation: .relu6),
        ConvolutionCase(input: [8, 12, 9], output: 12, kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 2, 2), dilation: Size2D(2, 2), groups: 2, activation: .identity),
        ConvolutionCase(input: [5, 7, 7], output: 6, kernel: Size2D(5, 5), stride: Size2D(1, 1), padding: Padding2D(symmetric: 2, 2), dilation: Size2D(1, 1), groups: 1, activation: .relu),
    ]

    @Test(arguments: convolutionCases)
    func convolutionMatchesReference(_ testCase: ConvolutionCase) throws {
        var random = SplitMix64(seed: 11)
        var builder = GraphBuilder(name: testCase.description, inputShape: testCase.input)
        let output = builder.convolution(builder.input, convolution(&random, input: testCase.input[0], output: testCase.output, kernel: testCase.kernel,
                                                                    stride: testCase.stride, padding: testCase.padding, dilation: testCase.dilation,
                                                                    groups: testCase.groups, activation: testCase.activation))
        try expectAgreement(builder.build(output: output))
    }

    static let poolingCases: [(Bool, Pooling)] = [
        (true, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2))),
        (true, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), ceilMode: true)),
        (true, Pooling(kernel: Size2D(2, 3), stride: Size2D(2, 1), padding: Padding2D(symmetric: 1, 1))),
        (false, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1))),
        (false, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1), countIncludesPadding: false)),
        (false, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), ceilMode: true)),
        (false, Pooling(kernel: Size2D(3, 2), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1), ceilMode: true, countIncludesPadding: false)),
    ]

    @Test(arguments: poolingCases.indices)
    func poolingMatchesReference(_ index: Int) throws {
        let (maximum, pooling) = Self.poolingCases[index]
        var builder = GraphBuilder(name: "pooling \(index)", inputShape: [6, 11, 10])
        let output = maximum ? builder.maxPool(builder.input, pooling) : builder.averagePool(builder.input, pooling)
        try expectAgreement(builder.build(output: output))
    }

    @Test func poolingWithoutAOneDNNEquivalentIsRefused() throws {
        var builder = GraphBuilder(name: "overhang", inputShape: [2, 4, 4])
        let output = builder.averagePool(builder.input, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1), ceilMode: true))
        let prepared = try DNNLBackend().prepare(builder.build(output: output))
        #expect(throws: EngineError.self) { try prepared.run(Tensor(zeros: [1, 2, 4, 4])) }
    }

    /// An Inception-like block: branches written in place into a concat, a nested concat, the graph input read twice,
    /// a pooling branch, then global pooling, a linear layer and softmax.
    @Test func inceptionBlockMatchesReference() throws {
        var random = SplitMix64(seed: 3)
        var builder = GraphBuilder(name: "inception block", inputShape: [16, 13, 13])
        let stem = builder.convolution(builder.input, convolution(&random, input: 16, output: 32, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let branch1 = builder.convolution(stem, convolution(&random, input: 32, output: 16, kernel: Size2D(1, 1), activation: .relu))
        let reduce = builder.convolution(stem, convolution(&random, input: 32, output: 24, kernel: Size2D(1, 1), activation: .relu))
        let wide = builder.convolution(reduce, convolution(&random, input: 24, output: 24, kernel: Size2D(1, 3), padding: Padding2D(symmetric: 0, 1), activation: .relu))
        let tall = builder.convolution(reduce, convolution(&random, input: 24, output: 24, kernel: Size2D(3, 1), padding: Padding2D(symmetric: 1, 0), activation: .relu))
        let nested = builder.concat([wide, tall])
        let pooled = builder.averagePool(stem, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1)))
        let poolBranch = builder.convolution(pooled, convolution(&random, input: 32, output: 8, kernel: Size2D(1, 1), activation: .relu))
        let maxBranch = builder.maxPool(stem, Pooling(kernel: Size2D(1, 1), stride: Size2D(1, 1)))
        let block = builder.concat([branch1, nested, poolBranch, maxBranch, stem])
        let reduced = builder.maxPool(block, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2)))
        let features = builder.globalAveragePool(reduced)
        let logits = builder.linear(features, Linear(weight: random.tensor([10, 136], scale: 0.1), bias: random.tensor([10], scale: 0.1)))
        let probabilities = builder.softmax(logits)
        try expectAgreement(builder.build(output: probabilities), batchSizes: [1, 2, 5])
        try expectAgreement(builder.build(output: logits), batchSizes: [3])
        let prepared = try DNNLBackend().prepare(builder.build(output: logits))
        let implementations = try DNNLBackend.implementations(of: prepared, batchSize: 2)
        #expect(implementations.count >= 12)
        #expect(implementations.filter { $0.hasPrefix("ref") } == [], "slow reference kernels in the plan: \(implementations)")
    }

    /// With one image, in a layout whose channel blocks come before height and width (nchw, nChw8c, nChw16c), a concat's
    /// channel windows are dense, so its branches (convolutions and a pool) write into it and no concat primitive runs; with
    /// several images the windows are strided and the concat copies. The windows must fall on the layout's channel block:
    /// with every branch a multiple of the running ISA's block (8 on AVX2, 16 on AVX-512) the concat is written in place;
    /// with one branch of 1.5 blocks the later windows are off the block, so that concat copies, but must still agree.
    /// Where the convolutions choose NHWC (oneDNN 2.6's AVX-512 brgconv kernels do), one image's channels are not
    /// contiguous either, so every concat copies; where they choose plain NCHW (a gemm kernel reading the network's plain
    /// input may time fastest), every
    /// channel window is dense, so the concat is written in place whatever the branches' widths. The layout is the
    /// one the first branch's timed choice writes, read from the one-image plan.
    @Test(arguments: [true, false])
    func oneImageConcatIsWrittenInPlace(onBlock: Bool) throws {
        let block = DNNLBackend.channelBlock
        print("oneDNN dispatches to \(DNNLBackend.instructionSet): channel block \(block)")
        // The ISA's name, e.g. "cpu_isa_avx512_core_bf16" or "cpu_isa_avx2", says the same as its bits.
        #expect(block == (DNNLBackend.instructionSet.contains("avx512") ? 16 : 8), "block \(block) on \(DNNLBackend.instructionSet)")
        let branchChannels = onBlock ? block : block * 3 / 2
        var random = SplitMix64(seed: 13)
        var builder = GraphBuilder(name: "concat of \(branchChannels) on \(DNNLBackend.instructionSet)", inputShape: [block, 11, 9])
        let left = builder.convolution(builder.input, convolution(&random, input: block, output: branchChannels, kernel: Size2D(1, 1), activation: .relu))
        let right = builder.convolution(builder.input, convolution(&random, input: block, output: 3 * block, kernel: Size2D(3, 3),
                                                                   padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let pooled = builder.maxPool(builder.input, Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1)))
        let joined = builder.concat([left, right, pooled])
        let output = builder.convolution(joined, convolution(&random, input: branchChannels + 4 * block, output: 8, kernel: Size2D(1, 1)))
        let graph = builder.build(output: output)
        try expectAgreement(graph, batchSizes: [1, 2])
        let prepared = try DNNLBackend().prepare(graph)
        let single = try DNNLBackend.operationKinds(of: prepared, batchSize: 1)
        let several = try DNNLBackend.operationKinds(of: prepared, batchSize: 2)
        #expect(several.contains("concat"), "two images: \(several)")
        let layouts = try DNNLBackend.destinationLayouts(of: prepared, batchSize: 1)
        let convolutionLayout = try #require(zip(single, layouts).first { $0.0 == "convolution" }?.1, "layouts \(layouts)")
        print("convolutions write \(convolutionLayout) on \(DNNLBackend.instructionSet)")
        let blockOfLayout = ["abcd": 1, "aBcd8b": 8, "aBcd16b": 16, "acdb": nil][convolutionLayout]
        let inPlace: Bool
        switch try #require(blockOfLayout, "an activation layout the test knows: \(convolutionLayout)") {
        case nil:
            inPlace = false
        case 1:
            inPlace = true
        case let layoutBlock?:
            #expect(layoutBlock == block, "\(convolutionLayout) on \(DNNLBackend.instructionSet), whose block is \(block)")
            inPlace = onBlock
        }
        #expect(single.contains("concat") == !inPlace, "one image, \(branchChannels) + \(3 * block) + \(block) channels in \(convolutionLayout): \(single)")
    }

    /// A MobileNet-like residual block: expand, depthwise with TensorFlow SAME padding, project, add.
    @Test func residualBlockMatchesReference() throws {
        var random = SplitMix64(seed: 5)
        var builder = GraphBuilder(name: "residual block", inputShape: [24, 9, 9])
        let expand = builder.convolution(builder.input, convolution(&random, input: 24, output: 144, kernel: Size2D(1, 1), bias: true, activation: .relu6))
        let depthwise = builder.convolution(expand, convolution(&random, input: 144, output: 144, kernel: Size2D(5, 5),
                                                                padding: Padding2D.same(input: Size2D(9, 9), kernel: Size2D(5, 5), stride: Size2D(1, 1)),
                                                                groups: 144, activation: .relu6))
        let project = builder.convolution(depthwise, convolution(&random, input: 144, output: 24, kernel: Size2D(1, 1)))
        let sum = builder.add(project, builder.input)
        let clipped = builder.add(sum, project, activation: .relu6)
        let flat = builder.linear(builder.globalAveragePool(clipped), Linear(weight: random.tensor([7, 24], scale: 0.3), bias: nil, activation: .relu))
        try expectAgreement(builder.build(output: flat), batchSizes: [1, 4])
    }

    /// A ConvNeXt block and its surroundings: layer normalisation over channels on the network's input, after a
    /// depthwise 7×7 convolution (with 20 channels, no multiple of either ISA's channel block), and after pooling;
    /// 1×1 convolutions with GELU; the residual sum.
    @Test func convNeXtBlockMatchesReference() throws {
        var random = SplitMix64(seed: 19)
        func normalization(_ channels: Int) -> LayerNormalization {
            LayerNormalization(weight: Tensor(shape: [channels], scalars: random.tensor([channels], scale: 0.5).scalars.map { $0 + 1 }),
                               bias: random.tensor([channels], scale: 0.2), epsilon: 1e-6)
        }
        var builder = GraphBuilder(name: "convnext block", inputShape: [20, 9, 11])
        let stem = builder.layerNormalization(builder.input, normalization(20))
        let depthwise = builder.convolution(stem, convolution(&random, input: 20, output: 20, kernel: Size2D(7, 7), padding: Padding2D(symmetric: 3, 3), groups: 20))
        let normalized = builder.layerNormalization(depthwise, normalization(20))
        let expanded = builder.convolution(normalized, convolution(&random, input: 20, output: 80, kernel: Size2D(1, 1), activation: .gelu))
        let projected = builder.convolution(expanded, convolution(&random, input: 80, output: 20, kernel: Size2D(1, 1)))
        let sum = builder.add(projected, stem)
        let head = builder.layerNormalization(builder.globalAveragePool(sum), normalization(20))
        let logits = builder.linear(head, Linear(weight: random.tensor([5, 20], scale: 0.3), bias: nil))
        try expectAgreement(builder.build(output: logits), batchSizes: [1, 3])
    }

    /// A transformer encoder layer, the tokens held as [C, T, 1]: the input projection (a 1×1 convolution),
    /// attention, the output projection, the residual sums, LayerNorms and a GELU MLP; then the first token picked by
    /// a 1×1 window striding over all of them. Token counts, heads and widths as ViT-B/16 (197 tokens, 12 heads) and
    /// ViT-B/32 (50) have them, with channels no multiple of either ISA's block and head sizes of 5, 7 and 24.
    @Test(arguments: [(10, 1, 24), (50, 3, 21), (197, 12, 60)])
    func attentionLayerMatchesReference(_ tokens: Int, _ heads: Int, _ channels: Int) throws {
        var random = SplitMix64(seed: 23)
        func normalization(_ channels: Int) -> LayerNormalization {
            LayerNormalization(weight: Tensor(shape: [channels], scalars: random.tensor([channels], scale: 0.5).scalars.map { $0 + 1 }),
                               bias: random.tensor([channels], scale: 0.2), epsilon: 1e-6)
        }
        var builder = GraphBuilder(name: "encoder layer, \(heads) heads", inputShape: [channels, tokens, 1])
        let projected = builder.convolution(builder.layerNormalization(builder.input, normalization(channels)),
                                            convolution(&random, input: channels, output: 3 * channels, kernel: Size2D(1, 1)))
        let attended = builder.attention(projected, heads: heads)
        let residual = builder.add(builder.convolution(attended, convolution(&random, input: channels, output: channels, kernel: Size2D(1, 1))), builder.input)
        let expanded = builder.convolution(builder.layerNormalization(residual, normalization(channels)),
                                           convolution(&random, input: channels, output: 2 * channels, kernel: Size2D(1, 1), activation: .gelu))
        let output = builder.add(builder.convolution(expanded, convolution(&random, input: 2 * channels, output: channels, kernel: Size2D(1, 1))), residual)
        let first = builder.maxPool(output, Pooling(kernel: Size2D(1, 1), stride: Size2D(tokens, 1)))
        let logits = builder.linear(first, Linear(weight: random.tensor([5, channels], scale: 0.3), bias: nil))
        try expectAgreement(builder.build(output: logits), batchSizes: [1, 3])
    }

    /// A LayerNorm leaves tokens channels-last (`acdb`); the 1×1 convolutions after it read them as they are where the
    /// kernel takes them. On AVX2, oneDNN's 1×1 kernel takes channels-last input only with channels-last output, so
    /// the plan asks for both: no reorder between the LayerNorm and the expansion, nor between the expansion and the
    /// projection. Results agree either way.
    @Test func pointwiseConvolutionsReadChannelsLastTokens() throws {
        var random = SplitMix64(seed: 53)
        let normalization = LayerNormalization(weight: Tensor(shape: [48], scalars: random.tensor([48], scale: 0.5).scalars.map { $0 + 1 }),
                                               bias: random.tensor([48], scale: 0.2), epsilon: 1e-6)
        var builder = GraphBuilder(name: "tokens through pointwise convolutions", inputShape: [48, 50, 1])
        let expanded = builder.convolution(builder.layerNormalization(builder.input, normalization),
                                           convolution(&random, input: 48, output: 96, kernel: Size2D(1, 1), activation: .gelu))
        let projected = builder.convolution(expanded, convolution(&random, input: 96, output: 40, kernel: Size2D(1, 1)))
        let graph = builder.build(output: projected)
        try expectAgreement(graph, batchSizes: [1, 3])
        let prepared = try DNNLBackend().prepare(graph)
        for batch in [1, 3] {
            let kinds = try DNNLBackend.operationKinds(of: prepared, batchSize: batch)
            let layouts = try DNNLBackend.destinationLayouts(of: prepared, batchSize: batch)
            let normalized = try #require(kinds.firstIndex(of: "layer_normalization"), "\(kinds)")
            if DNNLBackend.channelBlock == 8 {
                #expect(Array(kinds[normalized...].prefix(3)) == ["layer_normalization", "convolution", "convolution"], "batch \(batch): \(kinds)")
                #expect(layouts[normalized + 1] == "acdb" && layouts[normalized + 2] == "acdb", "batch \(batch): \(layouts)")
            }
        }
    }

    static let activations: [Activation] = [
        .relu, .relu6, .clip(lower: -0.5, upper: 0.25), .clip(lower: -.infinity, upper: 0.5), .leakyRelu(slope: 0.1), .sigmoid,
        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .gelu, .geluTanh, .tanh,
    ]

    /// Each activation fused into a convolution, into a binary operation, and on its own.
    @Test(arguments: activations)
    func activationMatchesReference(_ activation: Activation) throws {
        var random = SplitMix64(seed: 11)
        var builder = GraphBuilder(name: "activation \(activation)", inputShape: [16, 7, 7])
        let fused = builder.convolution(builder.input, convolution(&random, input: 16, output: 16, kernel: Size2D(3, 3),
                                                                   padding: Padding2D(symmetric: 1, 1), activation: activation))
        let alone = builder.activation(builder.input, activation)
        let sum = builder.add(fused, alone, activation: activation)
        let scaled = builder.activation(builder.binary(.multiply, sum, builder.constant(Tensor(shape: [1, 1, 1], repeating: 4))), activation)
        try expectAgreement(builder.build(output: scaled))
    }

    /// Squeeze-and-excitation: per-image channel weights broadcast over the map, per-channel constants, and the
    /// four operators with a constant or a computed right side.
    @Test func broadcastingBinariesMatchReference() throws {
        var random = SplitMix64(seed: 12)
        var builder = GraphBuilder(name: "broadcast", inputShape: [24, 9, 9])
        let features = builder.convolution(builder.input, convolution(&random, input: 24, output: 24, kernel: Size2D(1, 1), activation: .relu))
        let squeezed = builder.globalAveragePool(features)
        let excite = builder.convolution(squeezed, convolution(&random, input: 24, output: 24, kernel: Size2D(1, 1), activation: .sigmoid))
        var x = builder.binary(.multiply, features, excite)
        let perChannel = Tensor(shape: [24, 1, 1], scalars: (0..<24).map { 0.5 + Float($0) / 24 })
        for binary in BinaryOperator.allCases {
            x = builder.binary(binary, x, builder.constant(perChannel))
        }
        x = builder.binary(.subtract, x, features)
        x = builder.binary(.divide, x, builder.constant(Tensor(shape: [24, 9, 9], scalars: (0..<(24 * 81)).map { 1 + Float($0 % 7) })))
        try expectAgreement(builder.build(output: x))
    }

    /// A constant as large as one image, broadcast over the batch (ViT's position embedding, here 197 tokens of 13
    /// channels), and a row of 13 constants multiplied into each image's pooled channels: both run as rows of their
    /// trailing dimensions, in oneDNN's vectorised kernel rather than its reference one, with the reference's results.
    @Test func broadcastOverLeadingDimensionsIsVectorised() throws {
        var random = SplitMix64(seed: 31)
        var builder = GraphBuilder(name: "position embedding", inputShape: [13, 197, 1])
        let embedded = builder.add(builder.input, builder.constant(random.tensor([13, 197, 1], scale: 0.5)))
        let pooled = builder.globalAveragePool(builder.activation(embedded, .gelu))
        let output = builder.binary(.multiply, builder.reshape(pooled, to: [13]), builder.constant(random.tensor([13], scale: 2)))
        let graph = builder.build(output: output)
        try expectAgreement(graph, batchSizes: [1, 3, 8])
        let prepared = try DNNLBackend().prepare(graph)
        for batch in [1, 3] {
            let binaries = try zip(DNNLBackend.operationKinds(of: prepared, batchSize: batch), DNNLBackend.implementations(of: prepared, batchSize: batch))
                .filter { $0.0 == "binary" }.map(\.1)
            #expect(binaries.count == 2 && binaries.allSatisfy { !$0.hasPrefix("ref") }, "batch \(batch): \(binaries)")
        }
    }

    /// Flattening a [C, H, W] map for a linear layer, reshaping back, and padding with a value.
    @Test func reshapeAndPadMatchReference() throws {
        var random = SplitMix64(seed: 13)
        var builder = GraphBuilder(name: "reshape and pad", inputShape: [8, 5, 6])
        let padded = builder.pad(builder.input, Padding2D(top: 1, left: 2, bottom: 0, right: 3), value: -0.75)
        let pooled = builder.maxPool(padded, Pooling(kernel: Size2D(2, 2), stride: Size2D(2, 2)))
        let flat = builder.reshape(pooled, to: [builder.shape(of: pooled).reduce(1, *)])
        let hidden = builder.linear(flat, Linear(weight: random.tensor([12, builder.shape(of: flat)[0]], scale: 0.2),
                                                bias: random.tensor([12], scale: 0.1), activation: .hardSwish))
        let map = builder.reshape(hidden, to: [3, 2, 2])
        let convolved = builder.convolution(map, convolution(&random, input: 3, output: 4, kernel: Size2D(2, 2)))
        let output = builder.softmax(builder.reshape(convolved, to: [4]))
        try expectAgreement(builder.build(output: output))
        // The input itself reshaped (its memory has one descriptor, so the backend copies it).
        var direct = GraphBuilder(name: "reshape input", inputShape: [2, 3, 4])
        let flattened = direct.reshape(direct.input, to: [24])
        try expectAgreement(direct.build(output: flattened))
    }

    /// A plan times oneDNN's first offer for a convolution against a kernel that reads the producer's layout as it is
    /// (here the network's plain input), medians of 5, and keeps the first offer unless the other takes at most 0.85×
    /// its time. Winograd is kept out (allowance 0). Whichever wins, the results agree.
    @Test func convolutionKernelIsChosenByTiming() throws {
        var random = SplitMix64(seed: 29)
        var builder = GraphBuilder(name: "timed 3×3", inputShape: [64, 28, 28])
        let output = builder.convolution(builder.input, convolution(&random, input: 64, output: 64, kernel: Size2D(3, 3),
                                                                    padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let graph = builder.build(output: output)
        let backend = try DNNLBackend(winogradAllowance: 0)
        try expectAgreement(graph, batchSizes: [1, 2], backend: backend)
        let prepared = try backend.prepare(graph)
        let choices = try DNNLBackend.kernelChoices(of: prepared, batchSize: 1)
        #expect(choices.count == 1, "one convolution: \(choices)")
        #expect(try !DNNLBackend.implementations(of: prepared, batchSize: 1).contains { $0.contains("wino") })
        let choice = try #require(choices.first)
        let names = choice.timings.map(\.implementation)
        print("\(DNNLBackend.instructionSet): \(choice.timings.map { "\($0.implementation) \($0.milliseconds) ms" }), chosen \(choice.chosen)")
        #expect(names.count == 2 && names.first == choice.first && !names.contains { $0.contains("wino") }, "candidates: \(names)")
        let times = choice.timings.map(\.milliseconds)
        #expect(choice.chosenIndex == (times[1] <= 0.85 * times[0] ? 1 : 0), "\(times), chose \(choice.chosenIndex)")
        #expect(try DNNLBackend.implementations(of: prepared, batchSize: 1).contains(choice.chosen))
    }

    /// The Winograd kernel a 3×3 stride-1 layer may run at `batch` images: oneDNN's from 4 images on where it offers one
    /// (AVX-512), else WinogradKernels'.
    static func winogradKernel(batch: Int) -> String {
        batch >= 4 && DNNLBackend.channelBlock == 16 ? "jit_wino_4x3" : "blindspot_wino_4x3"
    }

    /// Winograd is admitted within the allowance: none with an allowance of 0; with a large one, each 3×3 layer is timed
    /// against the first offer (medians, 0.85× margin) and runs Winograd if that confirms it — oneDNN's from 4 images
    /// on where it has one (AVX-512), WinogradKernels' elsewhere, one image included. Results agree with the reference
    /// either way, Winograd's rounding included, at batch sizes below and above 4 in turn (the second batch size
    /// reorders from the kept plain weights).
    @Test func winogradIsAdmittedWithinItsAllowance() throws {
        var random = SplitMix64(seed: 31)
        var builder = GraphBuilder(name: "two 3×3", inputShape: [32, 14, 14])
        let first = builder.convolution(builder.input, convolution(&random, input: 32, output: 32, kernel: Size2D(3, 3),
                                                                   padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let second = builder.convolution(first, convolution(&random, input: 32, output: 48, kernel: Size2D(3, 3),
                                                            padding: Padding2D(symmetric: 1, 1)))
        let graph = builder.build(output: second)
        let generous = try DNNLBackend(winogradAllowance: 100)
        try expectAgreement(graph, batchSizes: [1, 4, 1, 8, 2], backend: generous)

        let none = try DNNLBackend(winogradAllowance: 0).prepare(graph)
        for batch in [1, 4] {
            #expect(try !DNNLBackend.implementations(of: none, batchSize: batch).contains { $0.contains("wino") })
            #expect(try DNNLBackend.kernelChoices(of: none, batchSize: batch).allSatisfy { !$0.timings.contains { $0.implementation.contains("wino") } })
        }

        let prepared = try generous.prepare(graph)
        for batch in [1, 4] {
            let implementations = try DNNLBackend.implementations(of: prepared, batchSize: batch)
            let confirmations = try DNNLBackend.kernelChoices(of: prepared, batchSize: batch).filter { $0.timings.contains { $0.implementation.contains("wino") } }
            print("\(DNNLBackend.instructionSet), batch \(batch): \(confirmations.map { "\($0.timings.map { "\($0.implementation) \($0.milliseconds) ms" })" })")
            // The two layers are different problems: each is timed once, against the kernel this ISA and batch offer.
            #expect(confirmations.count == 2, "\(DNNLBackend.instructionSet): \(confirmations)")
            for confirmation in confirmations {
                let times = confirmation.timings.map(\.milliseconds)
                #expect(confirmation.timings.map(\.implementation).last?.hasPrefix(Self.winogradKernel(batch: batch)) == true, "\(confirmation.timings)")
                #expect(confirmation.chosenIndex == (times[1] <= 0.85 * times[0] ? 1 : 0), "\(times)")
            }
            #expect(implementations.filter { $0.contains("wino") }.count == confirmations.filter { $0.chosenIndex == 1 }.count, "\(implementations)")
        }

        // Untimed, the rule alone admits both layers at either batch, whatever the load; results still agree.
        let untimedBackend = try DNNLBackend(winogradAllowance: 100, timesWinograd: false)
        try expectAgreement(graph, batchSizes: [4, 1], backend: untimedBackend)
        let untimed = try untimedBackend.prepare(graph)
        for batch in [1, 4] {
            let winograd = try DNNLBackend.implementations(of: untimed, batchSize: batch).filter { $0.hasPrefix(Self.winogradKernel(batch: batch)) }
            #expect(winograd.count == 2, "\(DNNLBackend.instructionSet), batch \(batch)")
            #expect(try DNNLBackend.kernelChoices(of: untimed, batchSize: batch).allSatisfy { !$0.timings.contains { $0.implementation.contains("wino") } })
        }
    }

    /// The allowance grows with the largest batch planned: where one image leaves room for one layer's Winograd and half
    /// another's, two images admit both, whether the graph was planned for one image first or not; and a plan for one
    /// image after two runs both on the weights already made. Untimed, so by the rule alone, below 4 images, so
    /// WinogradKernels' on every ISA; the costs are its own weights and scratch for this machine's threads.
    @Test func winogradAllowanceGrowsWithTheBatch() throws {
        var random = SplitMix64(seed: 37)
        var builder = GraphBuilder(name: "two 64-channel 3×3", inputShape: [64, 6, 6])
        let first = builder.convolution(builder.input, convolution(&random, input: 64, output: 64, kernel: Size2D(3, 3),
                                                                   padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let second = builder.convolution(first, convolution(&random, input: 64, output: 64, kernel: Size2D(3, 3),
                                                            padding: Padding2D(symmetric: 1, 1)))
        let graph = builder.build(output: second)
        var oneImage = bs_winograd_problem(batch: 1, in_channels: 64, out_channels: 64, in_height: 6, in_width: 6, out_height: 6,
                                           out_width: 6, kernel_height: 3, kernel_width: 3, pad_top: 1, pad_left: 1, relu: 0)
        let winogradWeightBytes = bs_winograd_weight_count(&oneImage) * MemoryLayout<Float>.stride
        let scratchBytes = bs_winograd_scratch_count(&oneImage, bs_winograd_threads()) * MemoryLayout<Float>.stride
        let plainBytes = 2 * (64 * 64 * 9 + 64) * MemoryLayout<Float>.stride
        let fraction = Double(winogradWeightBytes + scratchBytes + winogradWeightBytes / 2) / Double(plainBytes)
        let backend = try DNNLBackend(winogradAllowance: fraction, timesWinograd: false)
        func winogradLayers(_ prepared: any PreparedGraph, batch: Int) throws -> [Bool] {
            try zip(DNNLBackend.operationKinds(of: prepared, batchSize: batch), DNNLBackend.implementations(of: prepared, batchSize: batch))
                .filter { $0.0 == "convolution" }.map { $0.1.hasPrefix("blindspot_wino_4x3") }
        }
        let oneFirst = try backend.prepare(graph)
        #expect(try winogradLayers(oneFirst, batch: 1) == [true, false], "ties keep the graph's order")
        #expect(try winogradLayers(oneFirst, batch: 2) == [true, true])
        let twoFirst = try backend.prepare(graph)
        #expect(try winogradLayers(twoFirst, batch: 2) == [true, true])
        #expect(try winogradLayers(twoFirst, batch: 1) == [true, true])
        try expectAgreement(graph, batchSizes: [2, 1], backend: backend)
    }

    /// WinogradKernels' F(4×4, 3×3) agrees with the reference on odd shapes: tiles cut by every edge, padding 0, 1 and
    /// 2 (uneven too), output channels not a multiple of 16, with and without bias and ReLU, one image and several
    /// (tiles from several images in one block), concat slots written in place (one image) or copied (three). Layers
    /// it does not take stay direct: ReLU6, output channels not a multiple of 8, stride 2.
    @Test func winogradKernelsAgreeWithTheReference() throws {
        var random = SplitMix64(seed: 41)
        var builder = GraphBuilder(name: "WinogradKernels", inputShape: [8, 13, 11])
        let a = builder.convolution(builder.input, convolution(&random, input: 8, output: 24, kernel: Size2D(3, 3),
                                                               padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let b = builder.convolution(a, convolution(&random, input: 24, output: 40, kernel: Size2D(3, 3), bias: false))
        let c = builder.convolution(b, convolution(&random, input: 40, output: 16, kernel: Size2D(3, 3),
                                                   padding: Padding2D(top: 2, left: 0, bottom: 1, right: 2), activation: .relu))
        let d = builder.convolution(c, convolution(&random, input: 16, output: 8, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1)))
        let e = builder.convolution(c, convolution(&random, input: 16, output: 16, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1),
                                                   activation: .relu))
        let joined = builder.concat([d, e])
        let clipped = builder.convolution(joined, convolution(&random, input: 24, output: 16, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1),
                                                              activation: .relu6))
        let odd = builder.convolution(clipped, convolution(&random, input: 16, output: 12, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1)))
        let strided = builder.convolution(odd, convolution(&random, input: 12, output: 16, kernel: Size2D(3, 3), stride: Size2D(2, 2)))
        let graph = builder.build(output: strided)
        let backend = try DNNLBackend(winogradAllowance: 100, timesWinograd: false)
        try expectAgreement(graph, batchSizes: [1, 3], backend: backend)
        let prepared = try backend.prepare(graph)
        let convolutions = try zip(DNNLBackend.operationKinds(of: prepared, batchSize: 1), DNNLBackend.implementations(of: prepared, batchSize: 1))
            .filter { $0.0 == "convolution" }.map(\.1)
        #expect(convolutions.count == 8, "\(convolutions)")
        #expect(convolutions.prefix(5).allSatisfy { $0 == "blindspot_wino_4x3:avx2" }, "\(convolutions)")
        #expect(!convolutions.suffix(3).contains { $0.contains("wino") }, "\(convolutions)")
        // Many tiles: blocks of tiles spread over threads, the last one part-filled.
        var wide = GraphBuilder(name: "WinogradKernels, many tiles", inputShape: [16, 37, 29])
        let wideOutput = wide.convolution(wide.input, convolution(&random, input: 16, output: 32, kernel: Size2D(3, 3),
                                                                  padding: Padding2D(symmetric: 1, 1), activation: .relu))
        try expectAgreement(wide.build(output: wideOutput), batchSizes: [1, 3], backend: backend)
    }

    /// Layers of 1×r and r×1 kernels (Inception v3's factorised 7×7 and 3×3) run WinogradKernels' F(m, r) along the line
    /// and agree with the reference: 1×7 then 7×1 as in Inception's 17×17 blocks, 1×3 and 3×1 side by side into a
    /// concat (written in place at one image), 1×5 with uneven padding and no bias, at one image and three. Layers it
    /// does not take stay direct: 12 output channels, stride 2, 9 taps.
    @Test func winogradLineKernelsAgreeWithTheReference() throws {
        var random = SplitMix64(seed: 47)
        var builder = GraphBuilder(name: "WinogradKernels along lines", inputShape: [16, 17, 13])
        let a = builder.convolution(builder.input, convolution(&random, input: 16, output: 24, kernel: Size2D(1, 7),
                                                               padding: Padding2D(symmetric: 0, 3), activation: .relu))
        let b = builder.convolution(a, convolution(&random, input: 24, output: 32, kernel: Size2D(7, 1),
                                                   padding: Padding2D(symmetric: 3, 0), activation: .relu))
        let wide = builder.convolution(b, convolution(&random, input: 32, output: 16, kernel: Size2D(1, 3), padding: Padding2D(symmetric: 0, 1),
                                                      activation: .relu))
        let tall = builder.convolution(b, convolution(&random, input: 32, output: 24, kernel: Size2D(3, 1), padding: Padding2D(symmetric: 1, 0)))
        let joined = builder.concat([wide, tall])
        let uneven = builder.convolution(joined, convolution(&random, input: 40, output: 16, kernel: Size2D(1, 5), padding: Padding2D(top: 0, left: 3, bottom: 0, right: 1),
                                                             bias: false, activation: .relu))
        let odd = builder.convolution(uneven, convolution(&random, input: 16, output: 12, kernel: Size2D(1, 7), padding: Padding2D(symmetric: 0, 3)))
        let strided = builder.convolution(odd, convolution(&random, input: 12, output: 16, kernel: Size2D(1, 3), stride: Size2D(2, 2)))
        let long = builder.convolution(strided, convolution(&random, input: 16, output: 16, kernel: Size2D(1, 9), padding: Padding2D(symmetric: 0, 4)))
        let graph = builder.build(output: long)
        let backend = try DNNLBackend(winogradAllowance: 100, timesWinograd: false)
        try expectAgreement(graph, batchSizes: [1, 3], backend: backend)
        let prepared = try backend.prepare(graph)
        let convolutions = try zip(DNNLBackend.operationKinds(of: prepared, batchSize: 1), DNNLBackend.implementations(of: prepared, batchSize: 1))
            .filter { $0.0 == "convolution" }.map(\.1)
        let expected = bs_winograd_supported() != 0
            ? ["blindspot_wino_line_2x7:avx2", "blindspot_wino_line_2x7:avx2", "blindspot_wino_line_4x3:avx2", "blindspot_wino_line_4x3:avx2",
               "blindspot_wino_line_4x5:avx2"] : []
        #expect(Array(convolutions.prefix(expected.count)) == expected, "\(convolutions)")
        #expect(convolutions.count == 8 && !convolutions.dropFirst(expected.count).contains { $0.contains("wino") }, "\(convolutions)")
    }

    /// WinogradKernels' threads split a layer's tiles or, where there are few, its output channels; either way any team
    /// gives the same bits, every output written (the buffer starts as NaNs), and one thread agrees with a direct
    /// convolution. F(4×4, 3×3): one image of 6 tiles (72 output channels, 5 panels of 16 split 5 ways at most), three of
    /// 12, two of 80. Along a line: F(2, 7) on 1×7 over two 17×17 images (306 tiles), on 7×1 with uneven padding over
    /// one image of 27; F(4, 3) on 1×3 over three 8×8 images, on 3×1 with padding 2 above and none below; F(4, 5) on
    /// 1×5 with the last tile cut short. Sizes: batch, input and output channels, input height and width, kernel
    /// height and width, padding top, left, bottom and right.
    @Test(arguments: [[1, 40, 72, 9, 7, 3, 3, 1, 1, 1, 1], [3, 24, 40, 13, 11, 3, 3, 1, 1, 1, 1], [2, 16, 24, 37, 29, 3, 3, 1, 1, 1, 1],
                      [2, 24, 40, 17, 17, 1, 7, 0, 3, 0, 3], [1, 16, 24, 5, 9, 7, 1, 4, 0, 2, 0], [3, 40, 72, 8, 8, 1, 3, 0, 1, 0, 1],
                      [1, 8, 16, 6, 11, 3, 1, 2, 0, 0, 0], [2, 16, 16, 3, 10, 1, 5, 0, 2, 0, 1]])
    func winogradKernelsGiveTheSameBitsOnAnyTeam(_ sizes: [Int]) throws {
        try #require(bs_winograd_supported() != 0, "WinogradKernels need AVX2 and FMA")
        let (batch, inputs, outputs, height, width) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4])
        let (kernelHeight, kernelWidth, top, left) = (sizes[5], sizes[6], sizes[7], sizes[8])
        let (outputHeight, outputWidth) = (height + top + sizes[9] - kernelHeight + 1, width + left + sizes[10] - kernelWidth + 1)
        var problem = bs_winograd_problem(batch: Int32(batch), in_channels: Int32(inputs), out_channels: Int32(outputs),
                                          in_height: Int32(height), in_width: Int32(width), out_height: Int32(outputHeight),
                                          out_width: Int32(outputWidth), kernel_height: Int32(kernelHeight), kernel_width: Int32(kernelWidth),
                                          pad_top: Int32(top), pad_left: Int32(left), relu: 1)
        try #require(bs_winograd_check(&problem) == 0)
        var random = SplitMix64(seed: 43)
        let weights = random.tensor([outputs, inputs, kernelHeight, kernelWidth], scale: 0.2).scalars
        let bias = random.tensor([outputs], scale: 0.1).scalars
        // The kernels load activations, transformed weights and scratch 32 bytes at a time from aligned addresses.
        func aligned(_ count: Int, _ value: Float) -> UnsafeMutableBufferPointer<Float> {
            let start = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
            let buffer = UnsafeMutableBufferPointer(start: start, count: count)
            buffer.initialize(repeating: value)
            return buffer
        }
        let source = aligned(batch * inputs * height * width, 0), transformed = aligned(bs_winograd_weight_count(&problem), 0)
        defer { source.deallocate(); transformed.deallocate() }
        _ = source.update(fromContentsOf: random.tensor([source.count]).scalars)
        bs_winograd_transform_weights(&problem, weights, transformed.baseAddress)
        func run(threads: Int32) -> [Float] {
            let output = aligned(batch * outputs * outputHeight * outputWidth, .nan), scratch = aligned(bs_winograd_scratch_count(&problem, threads), .nan)
            defer { output.deallocate(); scratch.deallocate() }
            bs_winograd_run(&problem, source.baseAddress, transformed.baseAddress, bias, output.baseAddress, scratch.baseAddress, threads)
            return Array(output)
        }
        // nChw8c: channel c of pixel (y, x) of image n.
        func index(_ n: Int, _ c: Int, _ y: Int, _ x: Int, channels: Int, height: Int, width: Int) -> Int {
            (((n * channels / 8 + c / 8) * height + y) * width + x) * 8 + c % 8
        }
        let one = run(threads: 1)
        #expect(one.allSatisfy { !$0.isNaN }, "\(sizes): every output written")
        var largestError: Float = 0
        for n in 0..<batch {
            for o in 0..<outputs {
                for y in 0..<outputHeight {
                    for x in 0..<outputWidth {
                        var sum = Double(bias[o])
                        for i in 0..<inputs {
                            for ky in 0..<kernelHeight where (0..<height).contains(y + ky - top) {
                                for kx in 0..<kernelWidth where (0..<width).contains(x + kx - left) {
                                    sum += Double(weights[((o * inputs + i) * kernelHeight + ky) * kernelWidth + kx])
                                        * Double(source[index(n, i, y + ky - top, x + kx - left, channels: inputs, height: height, width: width)])
                                }
                            }
                        }
                        let computed = one[index(n, o, y, x, channels: outputs, height: outputHeight, width: outputWidth)]
                        largestError = max(largestError, abs(computed - Float(max(sum, 0))))
                    }
                }
            }
        }
        #expect(largestError <= Self.tolerance, "\(sizes): largest error \(largestError) against the direct convolution")
        for threads: Int32 in 2...5 {
            let differing = zip(run(threads: threads), one).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(sizes): \(threads) threads differ from one in \(differing) of \(one.count) outputs")
        }
    }

    /// Residual sums: a convolution without an activation whose output only a sum reads writes into the sum's other
    /// operand and adds to it (oneDNN's sum post-op, the sum's activation after it), where nothing reads that operand
    /// after the convolution and that is not the convolution's own input. Here two such sums in a chain are fused (as
    /// ConvNeXt's blocks are); a sum whose convolution reads the other operand, and a sum of two sums, are not. All
    /// agree with the reference, at channels off both ISAs' blocks too.
    @Test(arguments: [32, 20]) func residualSumsAgreeFusedOrNot(_ channels: Int) throws {
        var random = SplitMix64(seed: 37)
        var builder = GraphBuilder(name: "residual sums, \(channels) channels", inputShape: [12, 9, 9])
        let pointwise = { (random: inout SplitMix64, input: Int, output: Int) in
            convolution(&random, input: input, output: output, kernel: Size2D(1, 1))
        }
        let stem = builder.convolution(builder.input, pointwise(&random, 12, channels))
        let inner = builder.convolution(stem, convolution(&random, input: channels, output: channels, kernel: Size2D(3, 3),
                                                          padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let first = builder.add(builder.convolution(inner, pointwise(&random, channels, channels)), stem)
        let widened = builder.convolution(first, convolution(&random, input: channels, output: 2 * channels, kernel: Size2D(1, 1), activation: .gelu))
        let second = builder.add(builder.convolution(widened, pointwise(&random, 2 * channels, channels)), first, activation: .relu)
        let third = builder.add(second, builder.convolution(second, pointwise(&random, channels, channels)))
        let output = builder.add(third, second)
        let graph = builder.build(output: output)
        try expectAgreement(graph, batchSizes: [1, 3])
        let kinds = try DNNLBackend.operationKinds(of: DNNLBackend().prepare(graph), batchSize: 2)
        #expect(kinds.filter { $0 == "binary" }.count == 2, "the first two sums fused, the last two not: \(kinds)")
    }

    @Test func concurrentCallersGetTheirOwnResults() async throws {
        var random = SplitMix64(seed: 9)
        var builder = GraphBuilder(name: "concurrent", inputShape: [4, 8, 8])
        let output = builder.convolution(builder.input, convolution(&random, input: 4, output: 8, kernel: Size2D(3, 3), activation: .relu))
        let graph = builder.build(output: output)
        let fast = try DNNLBackend().prepare(graph)
        let reference = try ReferenceBackend().prepare(graph)
        let inputs = (0..<16).map { index in random.tensor([1 + index % 3, 4, 8, 8]) }
        let differences = try await withThrowingTaskGroup(of: Float.self) { group in
            for input in inputs {
                group.addTask { try fast.run(input).maxAbsoluteDifference(reference.run(input)) }
            }
            return try await group.reduce(into: [Float]()) { $0.append($1) }
        }
        #expect(differences.count == 16)
        #expect(differences.max()! <= Self.tolerance)
    }
}

