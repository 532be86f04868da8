// An Engine graph as an ONNX model (opset 17) with its weights inside, so that other runtimes run exactly
// Blindspot's network: folded batch norms, fused activations and explicit padding included.
import Engine
import Foundation

public enum OnnxExporter {
    public static let opset: Int64 = 17

    /// The model: input "input" [batch, C, H, W], output "logits" [batch, classes].
    public static func model(of graph: Graph, producerVersion: String) -> OnnxModel {
        var exporter = Exporter(graph: graph)
        for position in graph.nodes.indices { exporter.export(position) }
        exporter.renameFinalOutput()
        let onnxGraph = OnnxGraph(
            name: graph.name, nodes: exporter.nodes, initializers: exporter.initializers,
            inputs: [OnnxValueInfo(name: "input", elementType: OnnxDataType.float.rawValue,
                                   dimensions: [.parameter("batch")] + graph.inputShape.map { .value(Int64($0)) })],
            outputs: [OnnxValueInfo(name: "logits", elementType: OnnxDataType.float.rawValue,
                                    dimensions: [.parameter("batch")] + graph.outputShape.map { .value(Int64($0)) })])
        return OnnxModel(irVersion: 8, opsets: ["": opset], producerName: "blindspot", producerVersion: producerVersion, graph: onnxGraph)
    }
}

private struct Exporter {
    let graph: Graph
    var nodes: [OnnxNode] = []
    var initializers: [OnnxTensor] = []

    init(graph: Graph) {
        self.graph = graph
    }

    /// The ONNX name of a value.
    func name(_ position: Int) -> String {
        position == 0 ? "input" : "v\(position)"
    }

    mutating func add(_ operation: String, _ inputs: [String], _ output: String, _ attributes: [String: OnnxAttribute] = [:]) {
        nodes.append(OnnxNode(name: "\(operation)_\(nodes.count)", operation: operation, inputs: inputs, outputs: [output], attributes: attributes))
    }

    mutating func constant(_ name: String, _ tensor: Tensor) -> String {
        initializers.append(OnnxTensor(name: name, shape: tensor.shape, floats: tensor.scalars))
        return name
    }

    mutating func integers(_ name: String, _ values: [Int64]) -> String {
        initializers.append(OnnxTensor(name: name, shape: [values.count], int64s: values))
        return name
    }

    /// Writes `operation` from `inputs` to the value's name, through an activation node when there is one.
    mutating func emit(_ position: Int, _ operation: String, _ inputs: [String], _ attributes: [String: OnnxAttribute] = [:], activation: Activation) {
        let output = name(position)
        guard activation != .identity else { return add(operation, inputs, output, attributes) }
        add(operation, inputs, output + "_pre", attributes)
        emitActivation(activation, input: output + "_pre", output: output)
    }

    mutating func emitActivation(_ activation: Activation, input: String, output: String) {
        switch activation {
        case .identity: add("Identity", [input], output)
        case .relu: add("Relu", [input], output)
        case .relu6: clip(input, output, 0, 6)
        case .clip(let lower, let upper): clip(input, output, lower, upper)
        case .leakyRelu(let slope): add("LeakyRelu", [input], output, ["alpha": .float(slope)])
        case .sigmoid: add("Sigmoid", [input], output)
        case .hardSigmoid(let alpha, let beta): add("HardSigmoid", [input], output, ["alpha": .float(alpha), "beta": .float(beta)])
        case .hardSwish: add("HardSwish", [input], output)
        case .gelu:
            // Opset 17 has no Gelu: x · (1 + erf(x / √2)) / 2.
            add("Div", [input, constant(output + "_sqrt2", Tensor(shape: [], scalars: [Float(2.0.squareRoot())]))], output + "_scaled")
            add("Erf", [output + "_scaled"], output + "_erf")
            add("Add", [output + "_erf", constant(output + "_one", Tensor(shape: [], scalars: [1]))], output + "_plus")
            add("Mul", [input, output + "_plus"], output + "_product")
            add("Mul", [output + "_product", constant(output + "_half", Tensor(shape: [], scalars: [0.5]))], output)
        case .geluTanh:
            // x · (1 + tanh(√(2/π) · (x + 0.044715 · x · x · x))) / 2.
            add("Mul", [input, input], output + "_square")
            add("Mul", [output + "_square", input], output + "_cube")
            add("Mul", [output + "_cube", constant(output + "_coefficient", Tensor(shape: [], scalars: [0.044715]))], output + "_term")
            add("Add", [input, output + "_term"], output + "_inner")
            add("Mul", [output + "_inner", constant(output + "_root", Tensor(shape: [], scalars: [Float((2 / Double.pi).squareRoot())]))], output + "_scaled")
            add("Tanh", [output + "_scaled"], output + "_tanh")
            add("Add", [output + "_tanh", constant(output + "_one", Tensor(shape: [], scalars: [1]))], output + "_plus")
            add("Mul", [input, output + "_plus"], output + "_product")
            add("Mul", [output + "_product", constant(output + "_half", Tensor(shape: [], scalars: [0.5]))], output)
        case .tanh: add("Tanh", [input], output)
        }
    }

    mutating func clip(_ input: String, _ output: String, _ lower: Float, _ upper: Float) {
        let low = constant(output + "_min", Tensor(shape: [], scalars: [lower]))
        let high = constant(output + "_max", Tensor(shape: [], scalars: [upper]))
        add("Clip", [input, low, high], output)
    }

    static func pads(_ padding: Padding2D) -> OnnxAttribute {
        .ints([padding.top, padding.left, padding.bottom, padding.right].map(Int64.init))
    }

    mutating func export(_ position: Int) {
        let node = graph.nodes[position]
        let inputs = node.inputs.map { name($0.index) }
        let output = name(position)
        switch node.operation {
        case .input:
            break
        case .convolution(let c):
            var arguments = inputs + [constant(output + "_weight", c.weight)]
            if let bias = c.bias { arguments.append(constant(output + "_bias", bias)) }
            emit(position, "Conv", arguments, [
                "kernel_shape": .ints([Int64(c.kernel.height), Int64(c.kernel.width)]),
                "strides": .ints([Int64(c.stride.height), Int64(c.stride.width)]),
                "dilations": .ints([Int64(c.dilation.height), Int64(c.dilation.width)]),
                "pads": Self.pads(c.padding), "group": .int(Int64(c.groups)),
            ], activation: c.activation)
        case .maxPool(let p), .averagePool(let p):
            var attributes: [String: OnnxAttribute] = [
                "kernel_shape": .ints([Int64(p.kernel.height), Int64(p.kernel.width)]),
                "strides": .ints([Int64(p.stride.height), Int64(p.stride.width)]),
                "pads": Self.pads(p.padding), "ceil_mode": .int(p.ceilMode ? 1 : 0),
            ]
            let isMax: Bool
            if case .maxPool = node.operation { isMax = true } else { isMax = false }
            if !isMax { attributes["count_include_pad"] = .int(p.countIncludesPadding ? 1 : 0) }
            add(isMax ? "MaxPool" : "AveragePool", inputs, output, attributes)
        case .globalAveragePool:
            add("GlobalAveragePool", inputs, output)
        case .concat:
            add("Concat", inputs, output, ["axis": .int(1)])
        case .binary(let binary, let activation):
            let names: [BinaryOperator: String] = [.add: "Add", .subtract: "Sub", .multiply: "Mul", .divide: "Div"]
            emit(position, names[binary]!, inputs, activation: activation)
        case .constant(let tensor):
            // A constant is the same for every image: a leading 1 broadcasts it over the batch.
            _ = constant(output, tensor.reshaped([1] + tensor.shape))
        case .activation(let activation):
            emitActivation(activation, input: inputs[0], output: output)
        case .reshape:
            add("Reshape", [inputs[0], integers(output + "_shape", [-1] + node.shape.map(Int64.init))], output)
        case .pad(let padding, let value):
            let pads = [0, 0, padding.top, padding.left, 0, 0, padding.bottom, padding.right].map(Int64.init)
            add("Pad", [inputs[0], integers(output + "_pads", pads), constant(output + "_value", Tensor(shape: [], scalars: [value]))], output,
                ["mode": .string("constant")])
        case .linear(let l):
            var source = inputs[0]
            if graph.nodes[node.inputs[0].index].shape.count != 1 {
                add("Flatten", [source], output + "_flat", ["axis": .int(1)])
                source = output + "_flat"
            }
            var arguments = [source, constant(output + "_weight", l.weight)]
            if let bias = l.bias { arguments.append(constant(output + "_bias", bias)) }
            emit(position, "Gemm", arguments, ["transB": .int(1)], activation: l.activation)
        case .softmax:
            add("Softmax", inputs, output, ["axis": .int(-1)])
        case .layerNormalization(let normalization):
            // LayerNormalization normalises the trailing axes: over channels, through channels-last and back.
            add("Transpose", inputs, output + "_nhwc", ["perm": .ints([0, 2, 3, 1])])
            add("LayerNormalization", [output + "_nhwc", constant(output + "_scale", normalization.weight), constant(output + "_shift", normalization.bias)],
                output + "_normalized", ["axis": .int(-1), "epsilon": .float(normalization.epsilon)])
            add("Transpose", [output + "_normalized"], output, ["perm": .ints([0, 3, 1, 2])])
        case .attention(let attention):
            exportAttention(attention, input: inputs[0], output: output, channels: node.shape[0], tokens: node.shape[1])
        }
    }

    /// [N, 3C, T, 1] → queries, keys and values [N, heads, T, d] (Reshape, Transpose, Gather), softmax(Q Kᵀ / √d) V,
    /// and the heads side by side again as [N, C, T, 1].
    mutating func exportAttention(_ attention: Attention, input: String, output: String, channels: Int, tokens: Int) {
        let (heads, size) = (Int64(attention.heads), Int64(channels / attention.heads))
        add("Reshape", [input, integers(output + "_split_shape", [-1, 3, heads, size, Int64(tokens)])], output + "_split")
        add("Transpose", [output + "_split"], output + "_parts", ["perm": .ints([1, 0, 2, 4, 3])])
        let parts = ["query", "key", "value"].enumerated().map { index, part in
            let name = output + "_" + part
            initializers.append(OnnxTensor(name: name + "_index", shape: [], int64s: [Int64(index)]))
            add("Gather", [output + "_parts", name + "_index"], name, ["axis": .int(0)])
            return name
        }
        add("Transpose", [parts[1]], output + "_key_t", ["perm": .ints([0, 1, 3, 2])])
        add("MatMul", [parts[0], output + "_key_t"], output + "_products")
        let scale = constant(output + "_scale", Tensor(shape: [], scalars: [1 / Float(size).squareRoot()]))
        add("Mul", [output + "_products", scale], output + "_scores")
        add("Softmax", [output + "_scores"], output + "_weights", ["axis": .int(-1)])
        add("MatMul", [output + "_weights", parts[2]], output + "_heads")
        add("Transpose", [output + "_heads"], output + "_heads_t", ["perm": .ints([0, 1, 3, 2])])
        add("Reshape", [output + "_heads_t", integers(output + "_shape", [-1, Int64(channels), Int64(tokens), 1])], output)
    }

    /// The graph's output value is called "logits": rename it where it is written and read.
    mutating func renameFinalOutput() {
        let old = name(graph.output.index)
        for index in nodes.indices {
            nodes[index].outputs = nodes[index].outputs.map { $0 == old ? "logits" : $0 }
            nodes[index].inputs = nodes[index].inputs.map { $0 == old ? "logits" : $0 }
        }
    }
}
