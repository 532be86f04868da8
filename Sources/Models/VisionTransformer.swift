// torchvision's Vision Transformers (ViT-B/16, B/32, L/16) with torchvision's key names, as a Graph. Tokens are held
// as a [channels, tokens, 1] value, so per-token linear layers are 1×1 convolutions and LayerNorm is over channels.
import Engine

public struct VisionTransformer: Sendable {
    public let name: String
    let patch: Int
    let layers: Int
    let width: Int
    let heads: Int
    let mlpWidth: Int

    static let epsilon: Float = 1e-6
    static let inputSize = 224

    /// torchvision's variants by name: patch size, encoder layers, width, heads, MLP width.
    public static let variants: [String: (patch: Int, layers: Int, width: Int, heads: Int, mlp: Int)] = [
        "b_16": (16, 12, 768, 12, 3072), "b_32": (32, 12, 768, 12, 3072), "l_16": (16, 24, 1024, 16, 4096),
    ]

    /// nil for a variant torchvision does not define.
    public init?(variant: String) {
        guard let layout = Self.variants[variant] else { return nil }
        name = "vit_\(variant)"
        (patch, layers, width, heads, mlpWidth) = (layout.patch, layout.layers, layout.width, layout.heads, layout.mlp)
    }

    /// Patches plus the class token.
    var tokens: Int { (Self.inputSize / patch) * (Self.inputSize / patch) + 1 }

    func define(_ reader: inout ParameterReader) -> Graph {
        var builder = GraphBuilder(name: name, inputShape: [3, Self.inputSize, Self.inputSize])
        let classToken = reader.tensor("class_token", shape: [1, 1, width])
        let patchWeight = reader.tensor("conv_proj.weight", shape: [width, 3, patch, patch])
        let patchBias = reader.tensor("conv_proj.bias", shape: [width])
        let positions = reader.tensor("encoder.pos_embedding", shape: [1, tokens, width])
        var x = builder.convolution(builder.input, Convolution(weight: patchWeight, bias: patchBias, stride: Size2D(patch, patch)))
        // [C, h, w] → [C, h·w, 1]: patches in row-major order, as torchvision flattens them.
        x = builder.reshape(x, to: [width, tokens - 1, 1])
        // The class token goes first: a zero row on top, then one constant adds it and every token's position.
        x = builder.pad(x, Padding2D(top: 1, left: 0, bottom: 0, right: 0))
        var embedding = [Float](repeating: 0, count: width * tokens)
        for token in 0..<tokens {
            for channel in 0..<width {
                embedding[channel * tokens + token] = positions.scalars[token * width + channel] + (token == 0 ? classToken.scalars[channel] : 0)
            }
        }
        x = builder.add(x, builder.constant(Tensor(shape: [width, tokens, 1], scalars: embedding)))
        for layer in 0..<layers { x = encoderLayer(&builder, x, prefix: "encoder.layers.encoder_layer_\(layer)", reader: &reader) }
        // The class token alone (a 1×1 window every `tokens` rows picks the first), then the final LayerNorm, which
        // works on each token by itself.
        x = builder.maxPool(x, Pooling(kernel: Size2D(1, 1), stride: Size2D(tokens, 1)))
        x = normalization(&builder, x, "encoder.ln", reader: &reader)
        x = builder.linear(x, outputs: 1000, prefix: "heads.head", reader: &reader)
        return builder.build(output: x)
    }

    /// x + attention(LN(x)), then + MLP(LN(·)) with GELU, as torchvision's EncoderBlock.
    func encoderLayer(_ builder: inout GraphBuilder, _ input: Value, prefix: String, reader: inout ParameterReader) -> Value {
        var x = normalization(&builder, input, prefix + ".ln_1", reader: &reader)
        let attention = prefix + ".self_attention"
        x = builder.pointwiseLinear(x, weightKey: attention + ".in_proj_weight", biasKey: attention + ".in_proj_bias", outputs: 3 * width,
                                    activation: .identity, reader: &reader)
        x = builder.attention(x, heads: heads)
        x = builder.pointwiseLinear(x, weightKey: attention + ".out_proj.weight", biasKey: attention + ".out_proj.bias", outputs: width,
                                    activation: .identity, reader: &reader)
        let attended = builder.add(x, input)
        x = normalization(&builder, attended, prefix + ".ln_2", reader: &reader)
        x = builder.pointwiseLinear(x, weightKey: prefix + ".mlp.0.weight", biasKey: prefix + ".mlp.0.bias", outputs: mlpWidth,
                                    activation: .gelu, reader: &reader)
        x = builder.pointwiseLinear(x, weightKey: prefix + ".mlp.3.weight", biasKey: prefix + ".mlp.3.bias", outputs: width,
                                    activation: .identity, reader: &reader)
        return builder.add(x, attended)
    }

    func normalization(_ builder: inout GraphBuilder, _ input: Value, _ name: String, reader: inout ParameterReader) -> Value {
        builder.layerNormalization(input, name: name, epsilon: Self.epsilon, reader: &reader)
    }
}
