// torchvision's ConvNeXt-Tiny/Small/Base/Large with torchvision's key names, as a Graph: a 4×4 patchify stem, blocks of
// depthwise 7×7 → LayerNorm over channels → 1×1 expansion with GELU → 1×1 projection scaled by the layer scale
// (folded into it at load) plus the input, LayerNorm2d + 2×2 convolutions between stages, LayerNorm2d before the head.
import Engine

public struct ConvNeXt: Sendable {
    public let variant: String
    /// Blocks per stage.
    let depths: [Int]
    /// Channels per stage.
    let widths: [Int]

    static let epsilon: Float = 1e-6
    static let inputSize = 224

    /// torchvision's variants by name.
    public static let variants: [String: (depths: [Int], widths: [Int])] = [
        "tiny": ([3, 3, 9, 3], [96, 192, 384, 768]), "small": ([3, 3, 27, 3], [96, 192, 384, 768]),
        "base": ([3, 3, 27, 3], [128, 256, 512, 1024]), "large": ([3, 3, 27, 3], [192, 384, 768, 1536]),
    ]

    /// nil for a variant torchvision does not define.
    public init?(variant: String) {
        guard let layout = Self.variants[variant] else { return nil }
        self.variant = variant
        depths = layout.depths
        widths = layout.widths
    }

    func define(_ reader: inout ParameterReader) -> Graph {
        var builder = GraphBuilder(name: "convnext_\(variant)", inputShape: [3, Self.inputSize, Self.inputSize])
        var x = convolution(&builder, builder.input, "features.0.0", outputs: widths[0], kernel: 4, stride: 4, padding: 0, groups: 1, reader: &reader)
        x = normalization(&builder, x, "features.0.1", reader: &reader)
        for (stage, depth) in depths.enumerated() {
            if stage > 0 {
                let prefix = "features.\(2 * stage)"
                x = normalization(&builder, x, prefix + ".0", reader: &reader)
                x = convolution(&builder, x, prefix + ".1", outputs: widths[stage], kernel: 2, stride: 2, padding: 0, groups: 1, reader: &reader)
            }
            for index in 0..<depth { x = block(&builder, x, prefix: "features.\(2 * stage + 1).\(index)", reader: &reader) }
        }
        x = builder.globalAveragePool(x)
        x = normalization(&builder, x, "classifier.0", reader: &reader)
        x = builder.linear(x, outputs: 1000, prefix: "classifier.2", reader: &reader)
        return builder.build(output: x)
    }

    /// torchvision's CNBlock: input + layer_scale · (Linear(GELU(Linear(LayerNorm(depthwise 7×7(input)))))), the linear
    /// layers running on every position (1×1 convolutions here) and stochastic depth the identity at inference.
    func block(_ builder: inout GraphBuilder, _ input: Value, prefix: String, reader: inout ParameterReader) -> Value {
        let width = builder.shape(of: input)[0]
        let scale = reader.tensor(prefix + ".layer_scale", shape: [width, 1, 1])
        var x = convolution(&builder, input, prefix + ".block.0", outputs: width, kernel: 7, stride: 1, padding: 3, groups: width, reader: &reader)
        x = normalization(&builder, x, prefix + ".block.2", reader: &reader)
        x = builder.pointwiseLinear(x, weightKey: prefix + ".block.3.weight", biasKey: prefix + ".block.3.bias", outputs: 4 * width,
                                    activation: .gelu, reader: &reader)
        x = builder.pointwiseLinear(x, weightKey: prefix + ".block.5.weight", biasKey: prefix + ".block.5.bias", outputs: width,
                                    scale: scale.scalars, activation: .identity, reader: &reader)
        return builder.add(x, input)
    }

    /// A square convolution with a bias, `name.weight` and `name.bias`.
    func convolution(_ builder: inout GraphBuilder, _ input: Value, _ name: String, outputs: Int, kernel: Int, stride: Int, padding: Int,
                     groups: Int, reader: inout ParameterReader) -> Value {
        let inputs = builder.shape(of: input)[0]
        let weight = reader.tensor(name + ".weight", shape: [outputs, inputs / groups, kernel, kernel])
        let bias = reader.tensor(name + ".bias", shape: [outputs])
        return builder.convolution(input, Convolution(weight: weight, bias: bias, stride: Size2D(stride, stride),
                                                      padding: Padding2D(symmetric: padding, padding), groups: groups))
    }

    func normalization(_ builder: inout GraphBuilder, _ input: Value, _ name: String, reader: inout ParameterReader) -> Value {
        builder.layerNormalization(input, name: name, epsilon: Self.epsilon, reader: &reader)
    }
}
