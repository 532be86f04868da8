// The specification backend: runs a Graph node by node with ReferenceKernels, keeping NCHW tensors throughout.
// Slow and simple on purpose; tests compare every other backend with it.

public struct ReferenceBackend: Backend {
    public init() {}

    public var name: String { "reference" }

    public func prepare(_ graph: Graph) throws -> any PreparedGraph {
        ReferenceGraph(graph: graph)
    }
}

struct ReferenceGraph: PreparedGraph {
    let graph: Graph

    func run(_ input: Tensor) throws -> Tensor {
        let batch = try batchSize(of: input)
        let lastUses = graph.lastUses()
        var values = [Tensor?](repeating: nil, count: graph.nodes.count)
        for (position, node) in graph.nodes.enumerated() {
            let arguments = node.inputs.map { values[$0.index]! }
            values[position] = evaluate(node.operation, arguments, input: input, batch: batch, shape: node.shape)
            for value in node.inputs where lastUses[value.index] == position { values[value.index] = nil }
        }
        let output = values[graph.output.index]!
        return output.reshaped([batch] + graph.outputShape)
    }

    private func evaluate(_ operation: Operation, _ arguments: [Tensor], input: Tensor, batch: Int, shape: [Int]) -> Tensor {
        switch operation {
        case .input: return input
        case .convolution(let convolution): return ReferenceKernels.convolution(arguments[0], convolution)
        case .maxPool(let pooling): return ReferenceKernels.maxPool(arguments[0], pooling)
        case .averagePool(let pooling): return ReferenceKernels.averagePool(arguments[0], pooling)
        case .globalAveragePool: return ReferenceKernels.globalAveragePool(arguments[0])
        case .concat: return ReferenceKernels.concat(arguments)
        case .binary(let binary, let activation): return ReferenceKernels.binary(binary, arguments[0], arguments[1], activation: activation)
        case .constant(let tensor): return tensor.reshaped([1] + tensor.shape)
        case .activation(let activation): return ReferenceKernels.activation(arguments[0], activation)
        case .reshape: return arguments[0].reshaped([batch] + shape)
        case .pad(let padding, let value): return ReferenceKernels.pad(arguments[0], padding, value: value)
        case .linear(let linear): return ReferenceKernels.linear(arguments[0], linear)
        case .softmax: return ReferenceKernels.softmax(arguments[0])
        case .layerNormalization(let normalization): return ReferenceKernels.layerNormalization(arguments[0], normalization)
        case .attention(let attention): return ReferenceKernels.attention(arguments[0], attention)
        }
    }
}
