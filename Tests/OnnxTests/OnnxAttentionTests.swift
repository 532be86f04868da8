// A Vision Transformer block written the way timm's exports spell it (one qkv projection reshaped to
// [N, T, 3, heads, d], permuted, split, the query scaled alone) imports as the same graph Blindspot builds by hand.
import Engine
import EngineDNNL
import Foundation
import Onnx
import TestSupport
import Testing

@Suite struct OnnxAttentionTests {
    static let (channels, heads, tokens, classes) = (8, 2, 5, 10)

    struct Weights {
        var patch, patchBias, classToken, positions, qkv, qkvBias, projection, projectionBias, head, headBias: Tensor

        init() {
            var random = SplitMix64(seed: 7)
            let c = OnnxAttentionTests.channels
            patch = random.tensor([c, 3, 4, 4], scale: 0.3)
            patchBias = random.tensor([c], scale: 0.1)
            classToken = random.tensor([1, 1, c], scale: 0.5)
            positions = random.tensor([1, OnnxAttentionTests.tokens, c], scale: 0.5)
            qkv = random.tensor([c, 3 * c], scale: 0.4)
            qkvBias = random.tensor([3 * c], scale: 0.1)
            projection = random.tensor([c, c], scale: 0.4)
            projectionBias = random.tensor([c], scale: 0.1)
            head = random.tensor([OnnxAttentionTests.classes, c], scale: 0.4)
            headBias = random.tensor([OnnxAttentionTests.classes], scale: 0.1)
        }
    }

    /// patches → class token and positions → LN → attention → projection + residual → LN → class token → head, as
    /// timm writes it: the batch read with Shape, qkv reshaped to [N, T, 3, heads, d] and permuted (2, 0, 3, 1, 4),
    /// Split and Squeeze, q · 0.5 then q @ kᵀ, Softmax, @ v, Transpose (0, 2, 1, 3) and a Reshape to [N, T, C].
    /// How the head reads its token: Gather of one index (0: the class token; DeiT's distillation token is 1), or
    /// Slice of one row then Flatten.
    enum Head: Sendable, CustomStringConvertible {
        case gather(Int64)
        case slice(Int64)

        var description: String {
            switch self {
            case .gather(let index): return "Gather \(index)"
            case .slice(let index): return "Slice \(index):\(index + 1)"
            }
        }
    }

    static func timmStyle(_ w: Weights, head: Head = .gather(0)) -> OnnxModel {
        let c = Int64(channels), d = Int64(channels / heads)
        func node(_ operation: String, _ inputs: [String], _ output: String, _ attributes: [String: OnnxAttribute] = [:]) -> OnnxNode {
            OnnxNode(name: output, operation: operation, inputs: inputs, outputs: [output], attributes: attributes)
        }
        func floats(_ name: String, _ tensor: Tensor) -> OnnxTensor { OnnxTensor(name: name, shape: tensor.shape, floats: tensor.scalars) }
        func integers(_ name: String, _ values: [Int64]) -> OnnxTensor { OnnxTensor(name: name, shape: [values.count], int64s: values) }
        let nodes = [
            node("Conv", ["x", "patch", "patch_bias"], "p", ["strides": .ints([4, 4])]),
            node("Reshape", ["p", "flat_shape"], "flat"),
            node("Transpose", ["flat"], "t", ["perm": .ints([0, 2, 1])]),
            node("Shape", ["x"], "s"),
            node("Gather", ["s", "zero"], "n"),
            node("Unsqueeze", ["n", "axis0"], "n1"),
            node("Concat", ["n1", "one_c"], "class_shape", ["axis": .int(0)]),
            node("Expand", ["class_token", "class_shape"], "class_tokens"),
            node("Concat", ["class_tokens", "t"], "joined", ["axis": .int(1)]),
            node("Add", ["joined", "positions"], "e"),
            node("LayerNormalization", ["e", "ones", "zeros"], "h", ["epsilon": .float(1e-6)]),
            node("MatMul", ["h", "qkv"], "qkv_product"),
            node("Add", ["qkv_product", "qkv_bias"], "qkv_out"),
            node("Concat", ["n1", "split_heads"], "heads_shape", ["axis": .int(0)]),
            node("Reshape", ["qkv_out", "heads_shape"], "qkv5"),
            node("Transpose", ["qkv5"], "qkv_t", ["perm": .ints([2, 0, 3, 1, 4])]),
            OnnxNode(name: "split", operation: "Split", inputs: ["qkv_t", "ones3"], outputs: ["q3", "k3", "v3"], attributes: ["axis": .int(0)]),
            node("Squeeze", ["q3", "axis0"], "q"),
            node("Squeeze", ["k3", "axis0"], "k"),
            node("Squeeze", ["v3", "axis0"], "v"),
            node("Mul", ["q", "scale"], "q_scaled"),
            node("Transpose", ["k"], "k_t", ["perm": .ints([0, 1, 3, 2])]),
            node("MatMul", ["q_scaled", "k_t"], "scores"),
            node("Softmax", ["scores"], "probabilities", ["axis": .int(-1)]),
            node("MatMul", ["probabilities", "v"], "attended"),
            node("Transpose", ["attended"], "attended_t", ["perm": .ints([0, 2, 1, 3])]),
            node("Concat", ["n1", "merge_heads"], "merged_shape", ["axis": .int(0)]),
            node("Reshape", ["attended_t", "merged_shape"], "merged"),
            node("MatMul", ["merged", "projection"], "projected"),
            node("Add", ["projected", "projection_bias"], "projected_bias"),
            node("Add", ["projected_bias", "e"], "residual"),
            node("LayerNormalization", ["residual", "ones", "zeros"], "f", ["epsilon": .float(1e-6)]),
            node("Gemm", ["first", "head", "head_bias"], "y", ["transB": .int(1)]),
        ]
        var picking: [OnnxNode]
        var pickingConstants: [OnnxTensor]
        switch head {
        case .gather(let index):
            picking = [node("Gather", ["f", "token"], "first", ["axis": .int(1)])]
            pickingConstants = [OnnxTensor(name: "token", shape: [], int64s: [index])]
        case .slice(let index):
            picking = [node("Slice", ["f", "start", "end", "axis1"], "row"), node("Flatten", ["row"], "first", ["axis": .int(1)])]
            pickingConstants = [integers("start", [index]), integers("end", [index + 1]), integers("axis1", [1])]
        }
        let initializers = pickingConstants + [
            floats("patch", w.patch), floats("patch_bias", w.patchBias), floats("class_token", w.classToken), floats("positions", w.positions),
            floats("ones", Tensor(shape: [channels], repeating: 1)), floats("zeros", Tensor(shape: [channels], repeating: 0)),
            floats("qkv", w.qkv), floats("qkv_bias", w.qkvBias), floats("projection", w.projection), floats("projection_bias", w.projectionBias),
            floats("head", w.head), floats("head_bias", w.headBias), floats("scale", Tensor(shape: [], scalars: [1 / Float(d).squareRoot()])),
            integers("flat_shape", [0, c, -1]), OnnxTensor(name: "zero", shape: [], int64s: [0]), integers("axis0", [0]),
            integers("one_c", [1, c]), integers("split_heads", [Int64(tokens), 3, Int64(heads), d]), integers("ones3", [1, 1, 1]),
            integers("merge_heads", [Int64(tokens), c]),
        ]
        return OnnxModel(irVersion: 8, opsets: ["": 17], producerName: "hand", producerVersion: "",
                         graph: OnnxGraph(name: "timm-style", nodes: nodes.dropLast() + picking + nodes.suffix(1), initializers: initializers,
                                          inputs: [OnnxValueInfo(name: "x", elementType: 1, dimensions: [.parameter("batch"), .value(3), .value(8), .value(8)])],
                                          outputs: [OnnxValueInfo(name: "y", elementType: 1, dimensions: nil)]))
    }

    /// The same network with the engine's own operations, tokens as [C, T, 1]; with `tokensOnly`, up to the last
    /// LayerNorm (every token, no head).
    static func builtByHand(_ w: Weights, tokensOnly: Bool = false) -> Graph {
        let (c, t) = (channels, tokens)
        var builder = GraphBuilder(name: "by hand", inputShape: [3, 8, 8])
        func transposed(_ matrix: Tensor) -> Tensor {
            let (rows, columns) = (matrix.shape[0], matrix.shape[1])
            return Tensor(shape: [columns, rows, 1, 1], scalars: (0..<(rows * columns)).map { matrix.scalars[($0 % rows) * columns + $0 / rows] })
        }
        let normalization = LayerNormalization(weight: Tensor(shape: [c], repeating: 1), bias: Tensor(shape: [c], repeating: 0), epsilon: 1e-6)
        var x = builder.convolution(builder.input, Convolution(weight: w.patch, bias: w.patchBias, stride: Size2D(4, 4)))
        x = builder.pad(builder.reshape(x, to: [c, t - 1, 1]), Padding2D(top: 1, left: 0, bottom: 0, right: 0))
        let embedding = (0..<(c * t)).map { index -> Float in
            let (channel, token) = (index / t, index % t)
            return w.positions.scalars[token * c + channel] + (token == 0 ? w.classToken.scalars[channel] : 0)
        }
        let e = builder.binary(.add, x, builder.constant(Tensor(shape: [c, t, 1], scalars: embedding)))
        x = builder.convolution(builder.layerNormalization(e, normalization), Convolution(weight: transposed(w.qkv), bias: w.qkvBias))
        x = builder.attention(x, heads: heads)
        x = builder.convolution(x, Convolution(weight: transposed(w.projection), bias: w.projectionBias))
        x = builder.layerNormalization(builder.add(x, e), normalization)
        if tokensOnly { return builder.build(output: x) }
        x = builder.reshape(builder.maxPool(x, Pooling(kernel: Size2D(1, 1), stride: Size2D(t, 1))), to: [c])
        let logits = builder.linear(x, Linear(weight: w.head, bias: w.headBias))
        return builder.build(output: logits)
    }

    @Test func timmStyleAttentionImportsAsTheEnginesOwn() throws {
        let weights = Weights()
        let imported = try OnnxImporter.network(from: Self.timmStyle(weights).serialized(), name: "timm-style")
        let operations = imported.graph.nodes.map(\.operation)
        #expect(operations.count { if case .attention(let a) = $0 { a.heads == Self.heads } else { false } } == 1)
        #expect(operations.count { if case .layerNormalization = $0 { true } else { false } } == 2)
        var random = SplitMix64(seed: 11)
        let input = random.tensor([2, 3, 8, 8])
        for backend in [try DNNLBackend() as any Backend, ReferenceBackend()] {
            let expected = try backend.prepare(Self.builtByHand(weights)).run(input)
            let logits = try backend.prepare(imported.graph).run(input)
            #expect(logits.shape == [2, Self.classes] && logits.scalars.allSatisfy(\.isFinite) && logits.scalars.map(abs).max() ?? 0 > 0.1)
            let difference = logits.maxAbsoluteDifference(expected)
            print("timm-style block on \(backend.name): max |imported - by hand| = \(difference)")
            #expect(difference <= 1e-5, "\(backend.name)")
        }
    }

    /// Any one token read by the head, by Gather or by Slice, gives that token's logits: checked against the tokens
    /// the hand-built network ends with and the head applied here.
    @Test(arguments: [Head.gather(1), .gather(-1), .slice(0), .slice(2)])
    func anyTokenCanBeTheHeads(_ head: Head) throws {
        let weights = Weights()
        let imported = try OnnxImporter.network(from: Self.timmStyle(weights, head: head).serialized(), name: "timm-style")
        var random = SplitMix64(seed: 13)
        let input = random.tensor([2, 3, 8, 8])
        let tokens = try ReferenceBackend().prepare(Self.builtByHand(weights, tokensOnly: true)).run(input)
        let index: Int
        switch head {
        case .gather(let k), .slice(let k): index = Int(k < 0 ? k + Int64(Self.tokens) : k)
        }
        var expected: [Float] = []
        for image in 0..<2 {
            for output in 0..<Self.classes {
                var sum = Double(weights.headBias.scalars[output])
                for channel in 0..<Self.channels {
                    let token = tokens.scalars[(image * Self.channels + channel) * Self.tokens + index]
                    sum += Double(weights.head.scalars[output * Self.channels + channel]) * Double(token)
                }
                expected.append(Float(sum))
            }
        }
        for backend in [try DNNLBackend() as any Backend, ReferenceBackend()] {
            let difference = try backend.prepare(imported.graph).run(input).maxAbsoluteDifference(Tensor(shape: [2, Self.classes], scalars: expected))
            #expect(difference <= 1e-5, "\(head) on \(backend.name): \(difference)")
        }
    }

    /// Attention whose scale is not 1/√d, or whose values come from another projection, is refused by name.
    @Test(arguments: [("scale", Tensor(shape: [], scalars: [0.3])), ("qkv_bias", nil)])
    func attentionOtherThanTheEnginesIsRefused(_ changed: String, _ tensor: Tensor?) throws {
        var model = Self.timmStyle(Weights())
        if let tensor {
            model.graph.initializers = model.graph.initializers.map { $0.name == changed ? OnnxTensor(name: changed, shape: tensor.shape, floats: tensor.scalars) : $0 }
        } else {
            // Queries and keys swapped: the keys are no longer the middle third.
            model.graph.nodes = model.graph.nodes.map { node in
                guard node.name == "split" else { return node }
                return OnnxNode(name: "split", operation: "Split", inputs: node.inputs, outputs: ["k3", "q3", "v3"], attributes: node.attributes)
            }
        }
        #expect {
            try OnnxImporter.network(from: model.serialized(), name: "changed")
        } throws: { error in
            guard case .unsupportedUse(let node) = error as? OnnxError else { return false }
            return node.operation == "MatMul" && String(describing: error).contains(tensor == nil ? "three thirds" : "not 1/√4")
        }
    }
}
