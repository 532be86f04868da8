// The network description every backend executes: a list of nodes over the primitives CNN classifiers need.
// Shapes here exclude the batch dimension ([C, H, W] or [C]); the batch size is chosen when a graph runs.
// Batch norm is folded into convolutions before a graph is built, so there is no batch-norm node.
import Foundation

/// The activation fused after a convolution, a binary operation or a linear layer, or applied on its own.
public enum Activation: Sendable, Equatable, Hashable {
    case identity
    case relu
    /// min(max(x, 0), 6)
    case relu6
    /// min(max(x, lower), upper)
    case clip(lower: Float, upper: Float)
    /// x for x ≥ 0, slope·x below.
    case leakyRelu(slope: Float)
    /// 1 / (1 + e^−x)
    case sigmoid
    /// max(0, min(1, alpha·x + beta)), ONNX's HardSigmoid.
    case hardSigmoid(alpha: Float, beta: Float)
    /// x · relu6(x + 3) / 6
    case hardSwish
    /// x · Φ(x) = x/2 · (1 + erf(x/√2)), the exact GELU (PyTorch's default).
    case gelu
    /// x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))), the GELU of PyTorch's approximate = "tanh".
    case geluTanh
    case tanh

    public func apply(_ value: Float) -> Float {
        switch self {
        case .identity: return value
        case .relu: return max(value, 0)
        case .relu6: return min(max(value, 0), 6)
        case .clip(let lower, let upper): return min(max(value, lower), upper)
        case .leakyRelu(let slope): return value >= 0 ? value : slope * value
        case .sigmoid: return 1 / (1 + exp(-value))
        case .hardSigmoid(let alpha, let beta): return max(0, min(1, alpha * value + beta))
        case .hardSwish: return value * min(max(value + 3, 0), 6) / 6
        case .gelu: return Float(Double(value) / 2 * (1 + erf(Double(value) / 2.0.squareRoot())))
        case .geluTanh:
            let x = Double(value)
            return Float(x / 2 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))))
        case .tanh: return Float(Foundation.tanh(Double(value)))
        }
    }
}

/// An element-wise operation on two values; the second may be broadcast (PyTorch's and ONNX's rules).
public enum BinaryOperator: String, Sendable, Equatable, CaseIterable {
    case add, subtract, multiply, divide

    public func apply(_ left: Float, _ right: Float) -> Float {
        switch self {
        case .add: return left + right
        case .subtract: return left - right
        case .multiply: return left * right
        case .divide: return left / right
        }
    }
}

/// A height and width pair (kernel sizes, strides, dilations, spatial sizes).
public struct Size2D: Sendable, Equatable, Hashable {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(square side: Int) {
        self.init(side, side)
    }
}

/// Explicit zero padding on each side; asymmetric padding expresses TensorFlow's "SAME".
public struct Padding2D: Sendable, Equatable, Hashable {
    public var top: Int
    public var left: Int
    public var bottom: Int
    public var right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        precondition(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "padding must be non-negative")
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// The same padding on both sides of each axis, as PyTorch's `padding=(h, w)`.
    public init(symmetric height: Int, _ width: Int) {
        self.init(top: height, left: width, bottom: height, right: width)
    }

    public static let zero = Padding2D(top: 0, left: 0, bottom: 0, right: 0)

    /// TensorFlow "SAME" padding for one axis: output = ceil(input / stride), the extra pixel goes after.
    public static func same(input: Size2D, kernel: Size2D, stride: Size2D, dilation: Size2D = Size2D(1, 1)) -> Padding2D {
        func axis(_ input: Int, _ kernel: Int, _ stride: Int, _ dilation: Int) -> (Int, Int) {
            let output = (input + stride - 1) / stride
            let total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0)
            return (total / 2, total - total / 2)
        }
        let (top, bottom) = axis(input.height, kernel.height, stride.height, dilation.height)
        let (left, right) = axis(input.width, kernel.width, stride.width, dilation.width)
        return Padding2D(top: top, left: left, bottom: bottom, right: right)
    }
}

/// A 2-D convolution with its (already folded) weights, as PyTorch's `F.conv2d` followed by an activation.
public struct Convolution: Sendable {
    /// [outputChannels, inputChannels / groups, kernelHeight, kernelWidth]; empty in a graph whose weights a
    /// backend has taken (`Graph.separatingWeights()`).
    public internal(set) var weight: Tensor
    /// The weight's shape, kept when the weight itself has been taken.
    public let weightShape: [Int]
    /// [outputChannels], or nil for no bias.
    public let bias: Tensor?
    public let stride: Size2D
    public let padding: Padding2D
    public let dilation: Size2D
    public let groups: Int
    public let activation: Activation

    public init(weight: Tensor, bias: Tensor?, stride: Size2D = Size2D(1, 1), padding: Padding2D = .zero,
                dilation: Size2D = Size2D(1, 1), groups: Int = 1, activation: Activation = .identity) {
        precondition(weight.rank == 4, "convolution weight must be [out, in/groups, kh, kw], got \(weight.shape)")
        precondition(groups >= 1 && weight.shape[0] % groups == 0, "output channels \(weight.shape[0]) not divisible by groups \(groups)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "bias \(bias.shape) does not match \(weight.shape[0]) outputs") }
        self.weight = weight
        self.weightShape = weight.shape
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.activation = activation
    }

    public var outputChannels: Int { weightShape[0] }
    public var inputChannels: Int { weightShape[1] * groups }
    public var kernel: Size2D { Size2D(weightShape[2], weightShape[3]) }

    public func outputSize(input: Size2D) -> Size2D {
        func axis(_ input: Int, _ before: Int, _ after: Int, _ kernel: Int, _ stride: Int, _ dilation: Int) -> Int {
            (input + before + after - dilation * (kernel - 1) - 1) / stride + 1
        }
        return Size2D(axis(input.height, padding.top, padding.bottom, kernel.height, stride.height, dilation.height),
                      axis(input.width, padding.left, padding.right, kernel.width, stride.width, dilation.width))
    }
}

/// Max or average pooling with PyTorch's semantics (padding, ceil_mode, count_include_pad).
public struct Pooling: Sendable, Equatable {
    public let kernel: Size2D
    public let stride: Size2D
    public let padding: Padding2D
    public let ceilMode: Bool
    /// Average pooling only: whether padded positions count in the divisor (PyTorch's `count_include_pad`).
    public let countIncludesPadding: Bool

    public init(kernel: Size2D, stride: Size2D, padding: Padding2D = .zero, ceilMode: Bool = false, countIncludesPadding: Bool = true) {
        precondition(kernel.height >= 1 && kernel.width >= 1 && stride.height >= 1 && stride.width >= 1)
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludesPadding = countIncludesPadding
    }

    /// PyTorch's output size: floor or ceil of (input + padding - kernel) / stride + 1, where in ceil mode the
    /// last window must start inside the input or its leading padding.
    public func outputSize(input: Size2D) -> Size2D {
        func axis(_ input: Int, _ before: Int, _ after: Int, _ kernel: Int, _ stride: Int) -> Int {
            let span = input + before + after - kernel
            var output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
            if ceilMode && (output - 1) * stride >= input + before { output -= 1 }
            return output
        }
        return Size2D(axis(input.height, padding.top, padding.bottom, kernel.height, stride.height),
                      axis(input.width, padding.left, padding.right, kernel.width, stride.width))
    }
}

/// A fully connected layer: y = x Wᵀ + b, then an activation.
public struct Linear: Sendable {
    /// [outputFeatures, inputFeatures]; empty in a graph whose weights a backend has taken.
    public internal(set) var weight: Tensor
    /// The weight's shape, kept when the weight itself has been taken.
    public let weightShape: [Int]
    /// [outputFeatures], or nil.
    public let bias: Tensor?
    public let activation: Activation

    public init(weight: Tensor, bias: Tensor?, activation: Activation = .identity) {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "bias \(bias.shape) does not match \(weight.shape[0]) outputs") }
        self.weight = weight
        self.weightShape = weight.shape
        self.bias = bias
        self.activation = activation
    }

    public var outputFeatures: Int { weightShape[0] }
    public var inputFeatures: Int { weightShape[1] }
}

/// Normalisation over the channels at each position of a [C, H, W] value (ConvNeXt's LayerNorm2d, and its LayerNorm
/// over the last axis of channels-last data): y = (x − mean) / √(variance + ε) · weight + bias, per channel.
public struct LayerNormalization: Sendable {
    /// [C] each.
    public let weight: Tensor
    public let bias: Tensor
    public let epsilon: Float

    public init(weight: Tensor, bias: Tensor, epsilon: Float) {
        precondition(weight.rank == 1 && bias.shape == weight.shape, "layer normalisation's weight and bias must be [C], got \(weight.shape) and \(bias.shape)")
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    public var channels: Int { weight.count }
}

/// Multi-head self-attention on tokens held as a [3C, T, 1] value (T tokens of C channels, as a 1×1 convolution's
/// output leaves them): channels [0, C) are the queries, [C, 2C) the keys and [2C, 3C) the values, each split into
/// `heads` heads of C / heads channels. Each head computes softmax(Q Kᵀ / √(C / heads)) V; the heads' outputs are
/// side by side in the [C, T, 1] result, as PyTorch's MultiheadAttention has them before its output projection.
public struct Attention: Sendable, Equatable {
    public let heads: Int

    public init(heads: Int) {
        precondition(heads >= 1, "attention needs at least one head")
        self.heads = heads
    }
}

/// The primitives. Each consumes the node's inputs in order.
public enum Operation: Sendable {
    /// The graph's input, [C, H, W] per image.
    case input
    case convolution(Convolution)
    case maxPool(Pooling)
    case averagePool(Pooling)
    /// Mean over H and W: [C, H, W] → [C, 1, 1].
    case globalAveragePool
    /// Concatenation of all inputs along the channel axis.
    case concat
    /// Element-wise `left op right`, then an activation. The right input has the left's shape or is broadcast
    /// along its dimensions of size 1 (per channel, per image, or a scalar); the result has the left's shape.
    case binary(BinaryOperator, Activation)
    /// A constant tensor, the same for every image of a batch; only the right side of a binary operation reads it.
    case constant(Tensor)
    /// An activation on its own (where nothing it could be fused into comes before it).
    case activation(Activation)
    /// The same scalars in row-major order under the node's shape ([C, H, W] ↔ [C·H·W]).
    case reshape
    /// Constant padding around the spatial dimensions of a [C, H, W] value.
    case pad(Padding2D, value: Float)
    /// [C] or [C, 1, 1] → [outputFeatures].
    case linear(Linear)
    /// Softmax over the features of a [C] value.
    case softmax
    /// Normalisation over the channels at each position.
    case layerNormalization(LayerNormalization)
    /// Multi-head self-attention: [3C, T, 1] → [C, T, 1].
    case attention(Attention)
}

/// A value produced by a node, named by the node's position.
public struct Value: Sendable, Hashable {
    public let index: Int
}

public struct Node: Sendable {
    public let operation: Operation
    public let inputs: [Value]
    /// The per-image output shape: [C, H, W] or [C].
    public let shape: [Int]
}

/// A network ready for a backend: nodes in execution order, the first one being the input.
public struct Graph: Sendable {
    public let name: String
    public let nodes: [Node]
    public let output: Value

    public var input: Value { Value(index: 0) }
    public var inputShape: [Int] { nodes[0].shape }
    public var outputShape: [Int] { nodes[output.index].shape }

    /// For each value, the index of the last node that reads it (the output is read by the caller: `nodes.count`).
    public func lastUses() -> [Int] {
        var last = Array(0..<nodes.count)
        for (position, node) in nodes.enumerated() {
            for value in node.inputs { last[value.index] = max(last[value.index], position) }
        }
        last[output.index] = nodes.count
        return last
    }
}

extension Graph {
    /// This graph without the weights of its convolutions and linear layers (their `weightShape` kept, their `weight`
    /// empty), and those weights by node. For a backend that converts weights into layouts of its own: holding the
    /// plain copies apart lets it free each one once converted, instead of keeping the whole network twice. Only
    /// such a backend can run the weightless graph.
    public func separatingWeights() -> (weightless: Graph, weights: [Int: [Float]]) {
        var weights: [Int: [Float]] = [:]
        let empty = Tensor(shape: [0], scalars: [])
        let weightless = nodes.enumerated().map { position, node -> Node in
            switch node.operation {
            case .convolution(var convolution):
                weights[position] = convolution.weight.scalars
                convolution.weight = empty
                return Node(operation: .convolution(convolution), inputs: node.inputs, shape: node.shape)
            case .linear(var linear):
                weights[position] = linear.weight.scalars
                linear.weight = empty
                return Node(operation: .linear(linear), inputs: node.inputs, shape: node.shape)
            default:
                return node
            }
        }
        return (Graph(name: name, nodes: weightless, output: output), weights)
    }
}

extension Graph {
    /// The graph cut before its classifier, when its output is a linear layer: `trunk` ends at that layer's input (the
    /// penultimate features, after global pooling), `classifier` is the layer alone on a [C, 1, 1] input. Running the
    /// two one after the other gives the logits and the features from one forward pass. Nil for any other output.
    public func splitAtClassifier() -> (trunk: Graph, classifier: Graph)? {
        let last = nodes[output.index]
        guard case .linear(let linear) = last.operation, let features = last.inputs.first, features.index > 0 else { return nil }
        let trunk = Graph(name: name + ".features", nodes: Array(nodes[...features.index]), output: features)
        let featureCount = trunk.outputShape.reduce(1, *)
        guard featureCount == linear.inputFeatures else { return nil }
        let classifier = Graph(name: name + ".classifier",
                               nodes: [Node(operation: .input, inputs: [], shape: [featureCount, 1, 1]),
                                       Node(operation: .linear(linear), inputs: [Value(index: 0)], shape: last.shape)],
                               output: Value(index: 1))
        return (trunk, classifier)
    }
}
