// Export then import: every kind of node survives the trip through ONNX bytes with the same numbers, and
// shape arithmetic written the way PyTorch exports it folds at load.
import Engine
import EngineDNNL
import Foundation
import Onnx
import TestSupport
import Testing

@Suite struct OnnxRoundTripTests {
    /// A small network that uses every operation the engine has.
    static func everyOperation() -> Graph {
        var random = SplitMix64(seed: 21)
        var builder = GraphBuilder(name: "every operation", inputShape: [3, 17, 15])
        func convolution(_ input: Int, _ output: Int, kernel: Int, stride: Int = 1, padding: Padding2D = .zero, groups: Int = 1,
                         activation: Activation = .identity) -> Convolution {
            Convolution(weight: random.tensor([output, input / groups, kernel, kernel], scale: (3 / Float(input / groups * kernel * kernel)).squareRoot()),
                        bias: random.tensor([output], scale: 0.1), stride: Size2D(stride, stride), padding: padding, groups: groups, activation: activation)
        }
        let stem = builder.convolution(builder.input, convolution(3, 16, kernel: 3, stride: 2, padding: Padding2D(top: 0, left: 1, bottom: 1, right: 1), activation: .relu6))
        let depthwise = builder.convolution(stem, convolution(16, 16, kernel: 3, padding: Padding2D(symmetric: 1, 1), groups: 16, activation: .hardSwish))
        let squeeze = builder.globalAveragePool(depthwise)
        let excite = builder.convolution(squeeze, convolution(16, 16, kernel: 1, activation: .hardSigmoid(alpha: 1 / 6, beta: 0.5)))
        let scaled = builder.binary(.multiply, depthwise, excite)
        let shifted = builder.binary(.subtract, scaled, builder.constant(Tensor(shape: [16, 1, 1], scalars: (0..<16).map { Float($0) / 32 })), activation: .leakyRelu(slope: 0.1))
        let residual = builder.add(shifted, stem, activation: .relu)
        let padded = builder.pad(residual, Padding2D(top: 1, left: 0, bottom: 0, right: 1), value: -1)
        let maximum = builder.maxPool(padded, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1)))
        let average = builder.averagePool(padded, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1), countIncludesPadding: false))
        let branch = builder.convolution(average, convolution(16, 8, kernel: 1, activation: .clip(lower: -0.5, upper: 2)))
        let joined = builder.maxPool(builder.concat([maximum, branch]), Pooling(kernel: Size2D(2, 2), stride: Size2D(2, 2), ceilMode: true))
        let sigmoid = builder.activation(builder.binary(.divide, joined, builder.constant(Tensor(shape: [1, 1, 1], scalars: [2]))), .sigmoid)
        let flat = builder.reshape(sigmoid, to: [builder.shape(of: sigmoid).reduce(1, *)])
        let hidden = builder.linear(flat, Linear(weight: random.tensor([32, builder.shape(of: flat)[0]], scale: 0.1), bias: random.tensor([32], scale: 0.1), activation: .relu))
        let logits = builder.linear(hidden, Linear(weight: random.tensor([10, 32], scale: 0.3), bias: nil))
        return builder.build(output: logits)
    }

    @Test func everyOperationSurvivesExportAndImport() throws {
        let graph = Self.everyOperation()
        let bytes = OnnxExporter.model(of: graph, producerVersion: "test").serialized()
        let imported = try OnnxImporter.network(from: bytes, name: "round trip")
        #expect(imported.graph.inputShape == graph.inputShape)
        #expect(imported.graph.outputShape == [10])
        var random = SplitMix64(seed: 3)
        let input = random.tensor([3] + graph.inputShape)
        let expected = try ReferenceBackend().prepare(graph).run(input)
        let actual = try DNNLBackend().prepare(imported.graph).run(input)
        let difference = actual.maxAbsoluteDifference(expected)
        #expect(difference <= 1e-4, "max difference \(difference)")
        // The same operations come back, activations fused again into their producers; the sigmoid that stood
        // alone after the division is now fused into it.
        #expect(imported.graph.nodes.count == graph.nodes.count - 1)
    }

    /// Both GELUs and tanh, fused into convolutions, leave as opset 17 spells them (the tanh form through Tanh, which
    /// comes back as a chain of element-wise nodes) and come back with the same numbers, in Blindspot and in ONNX
    /// Runtime; opset 20's Gelu node, in either form, is read as the engine's own activation.
    @Test func geluFormsSurviveExportAndImport() async throws {
        var random = SplitMix64(seed: 5)
        var builder = GraphBuilder(name: "gelus", inputShape: [4, 6, 6])
        func convolution(_ activation: Activation) -> Convolution {
            Convolution(weight: random.tensor([4, 4, 1, 1], scale: 0.8), bias: random.tensor([4], scale: 0.3), activation: activation)
        }
        var x = builder.convolution(builder.input, convolution(.gelu))
        x = builder.convolution(x, convolution(.geluTanh))
        x = builder.convolution(x, convolution(.tanh))
        let pooled = builder.reshape(builder.globalAveragePool(x), to: [4])
        let graph = builder.build(output: pooled)
        let input = random.tensor([2] + graph.inputShape, scale: 2)
        let expected = try ReferenceBackend().prepare(graph).run(input)
        let model = OnnxExporter.model(of: graph, producerVersion: "test")
        let imported = try OnnxImporter.network(from: model.serialized(), name: "gelus")
        #expect(try DNNLBackend().prepare(imported.graph).run(input).maxAbsoluteDifference(expected) <= 1e-5)
        try #require(OnnxRuntimeRunner.isAvailable, "ONNX Runtime runs the export")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gelus-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: file) }
        try model.serialized().write(to: file)
        #expect(try await OnnxRuntimeRunner.outputs(model: file, input: input).maxAbsoluteDifference(expected) <= 1e-5)

        for (approximate, activation) in [("none", Activation.gelu), ("tanh", .geluTanh)] {
            var single = GraphBuilder(name: "one gelu", inputShape: [4, 6, 6])
            let weight = random.tensor([4, 4, 1, 1], scale: 0.8)
            let y = single.reshape(single.globalAveragePool(single.convolution(single.input, Convolution(weight: weight, bias: nil, activation: activation))), to: [4])
            let reference = single.build(output: y)
            let nodes = [OnnxNode(name: "conv", operation: "Conv", inputs: ["x", "w"], outputs: ["c"]),
                         OnnxNode(name: "gelu", operation: "Gelu", inputs: ["c"], outputs: ["g"], attributes: ["approximate": .string(approximate)]),
                         OnnxNode(name: "pool", operation: "GlobalAveragePool", inputs: ["g"], outputs: ["p"]),
                         OnnxNode(name: "flat", operation: "Flatten", inputs: ["p"], outputs: ["y"])]
            let onnx = OnnxModel(irVersion: 9, opsets: ["": 20], producerName: "hand", producerVersion: "",
                                 graph: OnnxGraph(name: "g", nodes: nodes, initializers: [OnnxTensor(name: "w", shape: weight.shape, floats: weight.scalars)],
                                                  inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: [.value(1), .value(4), .value(6), .value(6)])],
                                                  outputs: [OnnxValueInfo(name: "y", elementType: 1, dimensions: nil)]))
            let read = try OnnxImporter.network(from: onnx.serialized(), name: "gelu")
            let operations = read.graph.nodes.map(\.operation)
            #expect(operations.count == reference.nodes.count && operations.contains { if case .convolution(let c) = $0 { c.activation == activation } else { false } },
                    "the Gelu fused into the convolution")
            let difference = try ReferenceBackend().prepare(read.graph).run(input).maxAbsoluteDifference(ReferenceBackend().prepare(reference).run(input))
            #expect(difference <= 1e-6, "approximate \(approximate)")
        }
    }

    /// x.view(x.size(0), -1) as PyTorch exports it, a Pad whose pads are computed, and a final Softmax.
    @Test func shapeArithmeticFoldsAtLoad() throws {
        var nodes: [OnnxNode] = []
        var initializers = [OnnxTensor(name: "w", shape: [4, 2, 3, 3], floats: (0..<72).map { Float($0 % 5) / 10 - 0.2 }),
                            OnnxTensor(name: "fc", shape: [3, 4 * 3 * 3], floats: (0..<108).map { Float($0 % 7) / 10 - 0.3 })]
        initializers.append(OnnxTensor(name: "zero", shape: [], int64s: [0]))
        initializers.append(OnnxTensor(name: "minus_one", shape: [1], int64s: [-1]))
        initializers.append(OnnxTensor(name: "pads_half", shape: [6], int64s: [1, 0, 0, 0, 0, 1]))
        // pads = Concat(ConstantOfShape([2]) of 0, pads_half) → [0, 0, 1, 0, 0, 0, 0, 1]: N, C, H, W before, then after.
        nodes.append(OnnxNode(name: "two", operation: "Constant", inputs: [], outputs: ["two"], attributes: ["value": .tensor(OnnxTensor(name: "", shape: [1], int64s: [2]))]))
        nodes.append(OnnxNode(name: "zeros", operation: "ConstantOfShape", inputs: ["two"], outputs: ["zeros"],
                              attributes: ["value": .tensor(OnnxTensor(name: "", shape: [1], int64s: [0]))]))
        nodes.append(OnnxNode(name: "begin", operation: "Concat", inputs: ["zeros", "pads_half"], outputs: ["begin_end"], attributes: ["axis": .int(0)]))
        nodes.append(OnnxNode(name: "order", operation: "Slice", inputs: ["begin_end", "zero_s", "end_s"], outputs: ["sliced"]))
        initializers.append(OnnxTensor(name: "zero_s", shape: [1], int64s: [0]))
        initializers.append(OnnxTensor(name: "end_s", shape: [1], int64s: [Int64.max]))
        nodes.append(OnnxNode(name: "pads", operation: "Cast", inputs: ["sliced"], outputs: ["pads"], attributes: ["to": .int(7)]))
        nodes.append(OnnxNode(name: "pad", operation: "Pad", inputs: ["x", "pads"], outputs: ["padded"]))
        nodes.append(OnnxNode(name: "conv", operation: "Conv", inputs: ["padded", "w"], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3])]))
        nodes.append(OnnxNode(name: "relu", operation: "Relu", inputs: ["c"], outputs: ["r"]))
        nodes.append(OnnxNode(name: "shape", operation: "Shape", inputs: ["r"], outputs: ["s"]))
        nodes.append(OnnxNode(name: "batch", operation: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: ["axis": .int(0)]))
        nodes.append(OnnxNode(name: "unsqueeze", operation: "Unsqueeze", inputs: ["n", "zero_s"], outputs: ["n1"]))
        nodes.append(OnnxNode(name: "target", operation: "Concat", inputs: ["n1", "minus_one"], outputs: ["t"], attributes: ["axis": .int(0)]))
        nodes.append(OnnxNode(name: "flatten", operation: "Reshape", inputs: ["r", "t"], outputs: ["f"]))
        nodes.append(OnnxNode(name: "fc", operation: "Gemm", inputs: ["f", "fc"], outputs: ["g"], attributes: ["transB": .int(1)]))
        nodes.append(OnnxNode(name: "softmax", operation: "Softmax", inputs: ["g"], outputs: ["p"], attributes: ["axis": .int(1)]))
        let graph = OnnxGraph(name: "folding", nodes: nodes, initializers: initializers,
                              inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: [.parameter("N"), .value(2), .value(4), .value(4)])],
                              outputs: [OnnxValueInfo(name: "p", elementType: 1, dimensions: nil)])
        let model = OnnxModel(irVersion: 8, opsets: ["": 17], producerName: "hand", producerVersion: "", graph: graph)
        let imported = try OnnxImporter.network(from: model.serialized(), name: "folding")
        #expect(imported.droppedSoftmax)
        #expect(imported.graph.outputShape == [3])
        // The zero Pad became the convolution's padding (H: 1 before; W: 1 after), the ReLU is fused into it.
        let convolutions = imported.graph.nodes.compactMap { node -> Convolution? in
            if case .convolution(let convolution) = node.operation { return convolution }
            return nil
        }
        #expect(convolutions.count == 1)
        #expect(convolutions.first?.padding == Padding2D(top: 1, left: 0, bottom: 0, right: 1))
        #expect(convolutions.first?.activation == .relu)
        #expect(!imported.graph.nodes.contains { if case .pad = $0.operation { true } else { false } })
    }

    static func model(_ nodes: [OnnxNode], input: [OnnxValueInfo.Dimension] = [.value(1), .value(3), .value(8), .value(8)], output: String = "y") -> OnnxModel {
        OnnxModel(irVersion: 8, opsets: ["": 17], producerName: "hand", producerVersion: "",
                  graph: OnnxGraph(name: "g", nodes: nodes, initializers: [], inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: input)],
                                   outputs: [OnnxValueInfo(name: output, elementType: 1, dimensions: nil)]))
    }

    /// Shapes whose products overflow an Int (found by reading the importer, issue 15) are refused with an error where
    /// they trapped: a Reshape to five huge dimensions, a ConstantOfShape of 2⁸⁰ values, an empty initializer whose
    /// strides overflow, and the one integer division that overflows.
    @Test(arguments: 0 ..< 4)
    func shapesThatOverflowAreRefused(_ index: Int) throws {
        let huge: Int64 = 150_528
        let cases: [(nodes: [OnnxNode], initializers: [OnnxTensor])] = [
            ([OnnxNode(name: "reshape", operation: "Reshape", inputs: ["x", "target"], outputs: ["y"])],
             [OnnxTensor(name: "target", shape: [5], int64s: [1, huge, huge, huge, huge])]),
            ([OnnxNode(name: "shape", operation: "Constant", inputs: [], outputs: ["s"], attributes: ["value_ints": .ints([1 << 20, 1 << 20, 1 << 20, 1 << 20])]),
              OnnxNode(name: "fill", operation: "ConstantOfShape", inputs: ["s"], outputs: ["c"]),
              OnnxNode(name: "add", operation: "Add", inputs: ["x", "c"], outputs: ["y"])], []),
            ([OnnxNode(name: "transpose", operation: "Transpose", inputs: ["empty"], outputs: ["t"], attributes: ["perm": .ints([3, 2, 1, 0])]),
              OnnxNode(name: "add", operation: "Add", inputs: ["x", "t"], outputs: ["y"])],
             [OnnxTensor(name: "empty", shape: [0, Int(Int32.max), Int(Int32.max), Int(Int32.max)], int64s: [])]),
            ([OnnxNode(name: "divide", operation: "Div", inputs: ["lowest", "minus_one"], outputs: ["q"]),
              OnnxNode(name: "reshape", operation: "Reshape", inputs: ["x", "q"], outputs: ["y"])],
             [OnnxTensor(name: "lowest", shape: [1], int64s: [.min]), OnnxTensor(name: "minus_one", shape: [1], int64s: [-1])]),
        ]
        let (nodes, initializers) = cases[index]
        let graph = OnnxGraph(name: "hostile", nodes: nodes, initializers: initializers,
                              inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: [.value(1), .value(3), .value(8), .value(8)])],
                              outputs: [OnnxValueInfo(name: "y", elementType: 1, dimensions: nil)])
        let model = OnnxModel(irVersion: 8, opsets: ["": 17], producerName: "hand", producerVersion: "", graph: graph)
        #expect(throws: OnnxError.self) { try OnnxImporter.network(from: model.serialized(), name: "hostile") }
    }

    @Test func unsupportedOperatorsAreNamedTogetherBeforeAnythingRuns() throws {
        let model = Self.model([
            OnnxNode(name: "first", operation: "Relu", inputs: ["x"], outputs: ["a"]),
            OnnxNode(name: "recurrent", operation: "LSTM", inputs: ["a"], outputs: ["b"]),
            OnnxNode(name: "boxes", operation: "NonMaxSuppression", inputs: ["b"], outputs: ["c"]),
            OnnxNode(name: "custom", operation: "Relu", domain: "com.example", inputs: ["c"], outputs: ["y"]),
        ])
        #expect {
            try OnnxImporter.network(from: model.serialized(), name: "bad")
        } throws: { error in
            guard case .unsupportedOperators(let nodes) = error as? OnnxError else { return false }
            let text = String(describing: error)
            return nodes.map(\.node) == ["recurrent", "boxes", "custom"] && text.contains("LSTM") && text.contains("NonMaxSuppression")
                && text.contains("'recurrent'") && text.contains("domain 'com.example'")
        }
    }

    @Test func unsupportedUsesNameTheNode() throws {
        // A Transpose to NHWC is a view of the value; a pooling of it, over the width and channels, cannot be run.
        let model = Self.model([
            OnnxNode(name: "to_nhwc", operation: "Transpose", inputs: ["x"], outputs: ["t"], attributes: ["perm": .ints([0, 2, 3, 1])]),
            OnnxNode(name: "pool", operation: "MaxPool", inputs: ["t"], outputs: ["y"], attributes: ["kernel_shape": .ints([2, 2])]),
        ])
        #expect {
            try OnnxImporter.network(from: model.serialized(), name: "bad")
        } throws: { error in
            guard case .unsupportedUse(let node) = error as? OnnxError else { return false }
            return node.node == "pool" && node.operation == "MaxPool" && String(describing: error).contains("[N, C, H, W]")
        }
    }

    @Test func malformedBytesGetAnError() throws {
        let good = OnnxExporter.model(of: Self.everyOperation(), producerVersion: "test").serialized()
        var cases: [(String, Data)] = [("empty", Data()), ("text", Data("hello, world".utf8)), ("one byte", Data([0x08]))]
        for fraction in [0.01, 0.3, 0.77, 0.999] { cases.append(("truncated at \(fraction)", good.prefix(Int(Double(good.count) * fraction)))) }
        var random = SplitMix64(seed: 99)
        cases.append(("random", Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) })))
        var flipped = good
        for _ in 0..<64 { flipped[Int(random.next() % UInt64(flipped.count))] ^= 0xFF }
        for (label, bytes) in cases {
            #expect(throws: (any Error).self, "\(label)") { try OnnxImporter.network(from: bytes, name: label) }
        }
        // Bit flips may leave a parsable model, but never a trap: it either loads or says why not.
        _ = try? OnnxImporter.network(from: flipped, name: "flipped")
        // A tensor whose dimensions claim far more than the file holds.
        let huge = Self.model([OnnxNode(name: "c", operation: "Constant", inputs: [], outputs: ["y"],
                                        attributes: ["value": .tensor(OnnxTensor(name: "", dimensions: [1 << 20, 1 << 20], dataType: 1, raw: Data(count: 16)))])])
        #expect(throws: OnnxError.self) { try OnnxImporter.network(from: huge.serialized(), name: "huge") }
    }

    /// y = relu(c) + c where the ReLU reads c through an Identity: the ReLU must not be fused into the convolution,
    /// whose plain output the addition still reads.
    @Test func anAliasedValueIsNotChangedByAFusion() throws {
        let weights = (0..<54).map { Float($0 % 5) / 5 - 0.4 }
        let model = OnnxModel(irVersion: 8, opsets: ["": 17], producerName: "hand", producerVersion: "", graph: OnnxGraph(
            name: "alias", nodes: [
                OnnxNode(name: "conv", operation: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3])]),
                OnnxNode(name: "same", operation: "Identity", inputs: ["c"], outputs: ["d"]),
                OnnxNode(name: "relu", operation: "Relu", inputs: ["d"], outputs: ["r"]),
                OnnxNode(name: "sum", operation: "Add", inputs: ["r", "c"], outputs: ["s"]),
                OnnxNode(name: "pool", operation: "GlobalAveragePool", inputs: ["s"], outputs: ["y"]),
            ],
            initializers: [OnnxTensor(name: "w", shape: [2, 3, 3, 3], floats: weights)],
            inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: [.value(1), .value(3), .value(6), .value(6)])],
            outputs: [OnnxValueInfo(name: "y", elementType: 1, dimensions: nil)]))
        let imported = try OnnxImporter.network(from: model.serialized(), name: "alias")
        var builder = GraphBuilder(name: "expected", inputShape: [3, 6, 6])
        let c = builder.convolution(builder.input, Convolution(weight: Tensor(shape: [2, 3, 3, 3], scalars: weights), bias: nil))
        let sum = builder.add(builder.activation(c, .relu), c)
        let flat = builder.reshape(builder.globalAveragePool(sum), to: [2])
        let expected = builder.build(output: flat)
        var random = SplitMix64(seed: 5)
        let input = random.tensor([2, 3, 6, 6])
        let difference = try ReferenceBackend().prepare(imported.graph).run(input).maxAbsoluteDifference(ReferenceBackend().prepare(expected).run(input))
        #expect(difference < 1e-5, "max difference \(difference)")
    }

    @Test func anOpenImageSizeNeedsToBeGiven() throws {
        let model = Self.model([OnnxNode(name: "gap", operation: "GlobalAveragePool", inputs: ["x"], outputs: ["y"])],
                               input: [.parameter("N"), .value(3), .parameter("H"), .parameter("W")])
        #expect(throws: OnnxError.self) { try OnnxImporter.network(from: model.serialized(), name: "open") }
        let imported = try OnnxImporter.network(from: model.serialized(), name: "open", inputSize: Size2D(32, 48))
        #expect(imported.graph.inputShape == [3, 32, 48])
        #expect(imported.graph.outputShape == [3])
    }
}
