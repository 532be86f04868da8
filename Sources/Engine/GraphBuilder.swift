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
        return binary(.add, left, right, activation: activation)
    }

    /// `left op right`; `right` has `left`'s shape or 1 where it is broadcast (same rank).
    public mutating func binary(_ operator: BinaryOperator, _ left: Value, _ right: Value, activation: Activation = .identity) -> Value {
        precondition(!isConstant(left), "the left input of a binary operation must not be a constant")
        let (leftShape, rightShape) = (shape(of: left), shape(of: right))
        precondition(GraphBuilder.broadcasts(rightShape, onto: leftShape), "\(rightShape) does not broadcast onto \(leftShape)")
        return append(.binary(`operator`, activation), [left, right], leftShape)
    }

    /// Whether `right` can be broadcast onto `left`: the same rank, each dimension equal or 1.
    public static func broadcasts(_ right: [Int], onto left: [Int]) -> Bool {
        right.count == left.count && zip(right, left).allSatisfy { $0 == $1 || $0 == 1 }
    }

    /// A constant of per-image shape `tensor.shape`, shared by every image.
    public mutating func constant(_ tensor: Tensor) -> Value {
        precondition(tensor.rank == 1 || tensor.rank == 3, "constants are [C] or [C, H, W], got \(tensor.shape)")
        return append(.constant(tensor), [], tensor.shape)
    }

    public func isConstant(_ value: Value) -> Bool {
        if case .constant = nodes[value.index].operation { return true }
        return false
    }

    public mutating func activation(_ input: Value, _ activation: Activation) -> Value {
        precondition(!isConstant(input), "activations apply to computed values")
        return append(.activation(activation), [input], shape(of: input))
    }

    /// `input`'s scalars under `shape` ([C] or [C, H, W], the same count).
    public mutating func reshape(_ input: Value, to shape: [Int]) -> Value {
        precondition(shape.count == 1 || shape.count == 3, "values are [C] or [C, H, W], got \(shape)")
        precondition(Tensor.count(of: shape) == Tensor.count(of: self.shape(of: input)), "cannot reshape \(self.shape(of: input)) to \(shape)")
        return append(.reshape, [input], shape)
    }

    public mutating func pad(_ input: Value, _ padding: Padding2D, value: Float = 0) -> Value {
        let shape = spatialShape(of: input, for: "padding")
        return append(.pad(padding, value: value), [input],
                      [shape[0], shape[1] + padding.top + padding.bottom, shape[2] + padding.left + padding.right])
    }

    /// The values `value`'s node reads.
    public func inputs(of value: Value) -> [Value] {
        nodes[value.index].inputs
    }

    /// The operation that produces `value`.
    public func operation(of value: Value) -> Operation {
        nodes[value.index].operation
    }

    /// Replaces the operation of an existing node by one that gives the same shape from the same inputs
    /// (fusing an activation, a bias or a batch norm into it).
    public mutating func replaceOperation(of value: Value, with operation: Operation) {
        let node = nodes[value.index]
        nodes[value.index] = Node(operation: operation, inputs: node.inputs, shape: node.shape)
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

    /// Normalisation over the channels at each position of a [C, H, W] value.
    public mutating func layerNormalization(_ input: Value, _ normalization: LayerNormalization) -> Value {
        let shape = spatialShape(of: input, for: "layer normalisation")
        precondition(shape[0] == normalization.channels, "layer normalisation of \(normalization.channels) channels on \(shape)")
        return append(.layerNormalization(normalization), [input], shape)
    }

    /// Multi-head self-attention on tokens: [3C, T, 1] (queries, keys, values) → [C, T, 1].
    public mutating func attention(_ input: Value, heads: Int) -> Value {
        let shape = spatialShape(of: input, for: "attention")
        precondition(shape[2] == 1 && shape[0] % (3 * heads) == 0, "attention needs [3C, T, 1] with C divisible by \(heads) heads, got \(shape)")
        return append(.attention(Attention(heads: heads)), [input], [shape[0] / 3, shape[1], 1])
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
