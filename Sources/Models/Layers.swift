// Building blocks shared by the model definitions, read from the checkpoint by name: a convolution whose batch norm is
// folded in at load, a linear layer, a linear layer on every position (a 1×1 convolution), a LayerNorm over channels.
import Engine

/// Names the checkpoint keys of one convolution and the batch norm after it.
public struct ConvolutionKeys {
    /// Key of the convolution's weight, e.g. `Mixed_5b.branch1x1.conv.weight`.
    public let weight: String
    /// Prefix of the batch norm's keys, e.g. `Mixed_5b.branch1x1.bn` (its `.weight`, `.bias`, `.running_mean`, …).
    public let batchNorm: String

    public init(weight: String, batchNorm: String) {
        self.weight = weight
        self.batchNorm = batchNorm
    }
}

/// The geometry of one convolution.
public struct ConvolutionShape {
    public var outputChannels: Int
    public var kernel: Size2D
    public var stride = Size2D(1, 1)
    public var padding = Padding2D.zero
    public var groups = 1

    public init(outputChannels: Int, kernel: Size2D, stride: Size2D = Size2D(1, 1), padding: Padding2D = .zero, groups: Int = 1) {
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }
}

extension GraphBuilder {
    /// Convolution (no bias) → batch norm → activation, with the batch norm folded into the convolution's
    /// weights and bias (computed in Double): w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
    public mutating func convolutionBatchNorm(_ input: Value, _ shape: ConvolutionShape, keys: ConvolutionKeys,
                                              epsilon: Double, activation: Activation, reader: inout ParameterReader) -> Value {
        let inputChannels = self.shape(of: input)[0]
        let outputs = shape.outputChannels
        let weight = reader.tensor(keys.weight, shape: [outputs, inputChannels / shape.groups, shape.kernel.height, shape.kernel.width])
        let gamma = reader.normalization(keys.batchNorm + ".weight", shape: [outputs])
        let beta = reader.normalization(keys.batchNorm + ".bias", shape: [outputs])
        let mean = reader.normalization(keys.batchNorm + ".running_mean", shape: [outputs])
        let variance = reader.normalization(keys.batchNorm + ".running_var", shape: [outputs])
        reader.optional(keys.batchNorm + ".num_batches_tracked")

        let perOutput = weight.count / max(outputs, 1)
        var folded = weight.scalars
        var bias = [Float](repeating: 0, count: outputs)
        for output in 0..<outputs {
            let scale = Double(gamma.scalars[output]) / (Double(variance.scalars[output]) + epsilon).squareRoot()
            for index in (output * perOutput)..<((output + 1) * perOutput) {
                folded[index] = Float(Double(folded[index]) * scale)
            }
            bias[output] = Float(Double(beta.scalars[output]) - Double(mean.scalars[output]) * scale)
        }
        return convolution(input, Convolution(weight: Tensor(shape: weight.shape, scalars: folded), bias: Tensor(shape: [outputs], scalars: bias),
                                              stride: shape.stride, padding: shape.padding, groups: shape.groups, activation: activation))
    }

    /// A fully connected layer with a bias, read as `prefix.weight` [out, in] and `prefix.bias` [out].
    public mutating func linear(_ input: Value, outputs: Int, prefix: String, reader: inout ParameterReader) -> Value {
        let features = shape(of: input)[0]
        let weight = reader.tensor(prefix + ".weight", shape: [outputs, features])
        let bias = reader.tensor(prefix + ".bias", shape: [outputs])
        return linear(input, Linear(weight: weight, bias: bias))
    }

    /// A linear layer applied at every position (a token, a pixel), as a 1×1 convolution: `weightKey` [out, in] and
    /// `biasKey` [out], its outputs multiplied by `scale` when given (ConvNeXt's layer scale, folded into both).
    public mutating func pointwiseLinear(_ input: Value, weightKey: String, biasKey: String, outputs: Int, scale: [Float]? = nil,
                                         activation: Activation, reader: inout ParameterReader) -> Value {
        let inputs = shape(of: input)[0]
        var weight = reader.tensor(weightKey, shape: [outputs, inputs]).scalars
        var bias = reader.tensor(biasKey, shape: [outputs]).scalars
        if let scale {
            for output in 0..<outputs {
                bias[output] *= scale[output]
                for index in (output * inputs)..<((output + 1) * inputs) { weight[index] *= scale[output] }
            }
        }
        return convolution(input, Convolution(weight: Tensor(shape: [outputs, inputs, 1, 1], scalars: weight),
                                              bias: Tensor(shape: [outputs], scalars: bias), activation: activation))
    }

    /// LayerNorm over the channels at each position (LayerNorm2d, or LayerNorm on channels-last data or tokens):
    /// `name.weight` and `name.bias`.
    public mutating func layerNormalization(_ input: Value, name: String, epsilon: Float, reader: inout ParameterReader) -> Value {
        let channels = shape(of: input)[0]
        let weight = reader.normalization(name + ".weight", shape: [channels])
        let bias = reader.normalization(name + ".bias", shape: [channels])
        return layerNormalization(input, LayerNormalization(weight: weight, bias: bias, epsilon: epsilon))
    }
}
