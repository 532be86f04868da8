// Builds a Graph node by node, checking shapes as it goes; model definitions use it to describe their networks.
// Mistakes in a model definition are programmer errors, so they stop with a precondition naming the shapes.

public struct GraphBuilder {
    private let name: String
    private var nodes: [Node]

    /// Starts a graph whose input is one image of `inputShape` ([C, H, W]).
    public init(name: String, inputShape: [Int]) {
        precondition(inputShape.count == 3, "input shape must be [C, H, W], got \(inputShape)")
        self.name = name
        self.nodes = [Node(operation: .input, inputs: [], shape: inputShape)]
    }

    public var input: Value { Value(index: 0) }

    public func shape(of value: Value) -> [Int] {
        nodes[value.index].shape
    }

    public func build(output: Value) -> Graph {
        Graph(name: name, nodes: nodes, output: output)
    }

    public mutating func convolution(_ input: Value, _ convolution: Convolution) -> Value {
        let shape = spatialShape(of: input, for: "convolution")
        precondition(shape[0] == convolution.inputChannels,
                     "convolution expects \(convolution.inputChannels) input channels, got \(shape)")
        let output = convolution.outputSize(input: Size2D(shape[1], shape[2]))
        precondition(output.height >= 1 && output.width >= 1, "convolution output would be empty for input \(shape)")
        return append(.convolution(convolution), [input], [convolution.outputChannels, output.height, output.width])
    }

    public mutating func maxPool(_ input: Value, _ pooling: Pooling) -> Value {
        pool(.maxPool(pooling), input, pooling)
    }

    public mutating func averagePool(_ input: Value, _ pooling: Pooling) -> Value {
        pool(.averagePool(pooling), input, pooling)
    }

    public mutating func globalAveragePool(_ input: Value) -> Value {
        let shape = spatialShape(of: input, for: "global average pooling")
        return append(.globalAveragePool, [input], [shape[0], 1, 1])
    }

    public mutating func concat(_ inputs: [Value]) -> Value {
        precondition(inputs.count >= 2, "concat needs at least two inputs")
        let first = spatialShape(of: inputs[0], for: "concat")
        var channels = 0
        for value in inputs {
            let shape = spatialShape(of: value, for: "concat")
            precondition(shape[1] == first[1] && shape[2] == first[2], "concat inputs differ in size: \(first) vs \(shape)")
            channels += shape[0]
        }
        return append(.concat, inputs, [channels, first[1], first[2]])
    }

    public mutating func add(_ left: Value, _ right: Value, activation: Activation = .identity) -> Value {
        precondition(shape(of: left) == shape(of: right), "add inputs differ: \(shape(of: left)) vs \(shape(of: right))")
        return append(.add(activation), [left, right], shape(of: left))
    }

    public mutating func linear(_ input: Value, _ linear: Linear) -> Value {
        let shape = shape(of: input)
        precondition(shape.count == 1 || (shape.count == 3 && shape[1] == 1 && shape[2] == 1),
                     "linear needs a [C] or [C, 1, 1] input, got \(shape)")
        precondition(shape[0] == linear.weight.shape[1], "linear expects \(linear.weight.shape[1]) features, got \(shape[0])")
        return append(.linear(linear), [input], [linear.weight.shape[0]])
    }

    public mutating func softmax(_ input: Value) -> Value {
        precondition(shape(of: input).count == 1, "softmax needs a [C] input, got \(shape(of: input))")
        return append(.softmax, [input], shape(of: input))
    }

    private mutating func pool(_ operation: Operation, _ input: Value, _ pooling: Pooling) -> Value {
        let shape = spatialShape(of: input, for: "pooling")
        precondition(pooling.padding.top * 2 <= pooling.kernel.height && pooling.padding.left * 2 <= pooling.kernel.width,
                     "pooling padding must be at most half the kernel (PyTorch's rule)")
        let output = pooling.outputSize(input: Size2D(shape[1], shape[2]))
        precondition(output.height >= 1 && output.width >= 1, "pooling output would be empty for input \(shape)")
        return append(operation, [input], [shape[0], output.height, output.width])
    }

    private func spatialShape(of value: Value, for what: String) -> [Int] {
        let shape = shape(of: value)
        precondition(shape.count == 3, "\(what) needs a [C, H, W] input, got \(shape)")
        return shape
    }

    private mutating func append(_ operation: Operation, _ inputs: [Value], _ shape: [Int]) -> Value {
        nodes.append(Node(operation: operation, inputs: inputs, shape: shape))
        return Value(index: nodes.count - 1)
    }
}
