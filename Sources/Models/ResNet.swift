// torchvision's ResNet-18/34/50/101/152 with torchvision's key names, as a Graph: basic or bottleneck blocks (the
// stride on the 3×3 convolution, "ResNet v1.5"), batch norm (ε = 1e-5) folded at load, a 1×1 projection where shapes change.
import Engine

public struct ResNet: Sendable {
    public enum Block: Sendable {
        /// Two 3×3 convolutions (ResNet-18, -34).
        case basic
        /// 1×1 → 3×3 → 1×1 with four times the width out (ResNet-50 and deeper).
        case bottleneck

        var expansion: Int { self == .basic ? 1 : 4 }
    }

    public let depth: Int
    let block: Block
    /// Blocks in each of the four stages.
    let stages: [Int]

    static let epsilon = 1e-5
    static let inputSize = 224

    /// The layouts torchvision defines, by depth.
    public static let depths: [Int: (block: Block, stages: [Int])] = [
        18: (.basic, [2, 2, 2, 2]), 34: (.basic, [3, 4, 6, 3]), 50: (.bottleneck, [3, 4, 6, 3]),
        101: (.bottleneck, [3, 4, 23, 3]), 152: (.bottleneck, [3, 8, 36, 3]),
    ]

    /// nil for a depth torchvision does not define.
    public init?(depth: Int) {
        guard let layout = Self.depths[depth] else { return nil }
        self.depth = depth
        block = layout.block
        stages = layout.stages
    }

    func define(_ reader: inout ParameterReader) -> Graph {
        var builder = GraphBuilder(name: "resnet\(depth)", inputShape: [3, Self.inputSize, Self.inputSize])
        var x = convolution(&builder, builder.input, "conv1", "bn1", outputs: 64, kernel: 7, stride: 2, activation: .relu, reader: &reader)
        x = builder.maxPool(x, Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1)))
        for (stage, blocks) in stages.enumerated() {
            let width = 64 << stage
            for index in 0..<blocks {
                x = residual(&builder, x, prefix: "layer\(stage + 1).\(index)", width: width, stride: stage > 0 && index == 0 ? 2 : 1, reader: &reader)
            }
        }
        x = builder.globalAveragePool(x)
        x = builder.linear(x, outputs: 1000, prefix: "fc", reader: &reader)
        return builder.build(output: x)
    }

    /// One block: its convolutions, and the shortcut (a strided 1×1 projection, `downsample.0/1`, where the shape
    /// changes), added and passed through ReLU.
    func residual(_ builder: inout GraphBuilder, _ input: Value, prefix: String, width: Int, stride: Int, reader: inout ParameterReader) -> Value {
        let outputs = width * block.expansion
        var x = input
        switch block {
        case .basic:
            x = convolution(&builder, x, prefix + ".conv1", prefix + ".bn1", outputs: width, kernel: 3, stride: stride, activation: .relu, reader: &reader)
            x = convolution(&builder, x, prefix + ".conv2", prefix + ".bn2", outputs: width, kernel: 3, stride: 1, activation: .identity, reader: &reader)
        case .bottleneck:
            x = convolution(&builder, x, prefix + ".conv1", prefix + ".bn1", outputs: width, kernel: 1, stride: 1, activation: .relu, reader: &reader)
            x = convolution(&builder, x, prefix + ".conv2", prefix + ".bn2", outputs: width, kernel: 3, stride: stride, activation: .relu, reader: &reader)
            x = convolution(&builder, x, prefix + ".conv3", prefix + ".bn3", outputs: outputs, kernel: 1, stride: 1, activation: .identity, reader: &reader)
        }
        var shortcut = input
        if stride != 1 || builder.shape(of: input)[0] != outputs {
            shortcut = convolution(&builder, input, prefix + ".downsample.0", prefix + ".downsample.1", outputs: outputs, kernel: 1, stride: stride,
                                   activation: .identity, reader: &reader)
        }
        return builder.add(x, shortcut, activation: .relu)
    }

    /// A bias-free square convolution named `name` (`name.weight`), padded to keep the size at stride 1, with the batch
    /// norm `batchNorm` folded in.
    func convolution(_ builder: inout GraphBuilder, _ input: Value, _ name: String, _ batchNorm: String, outputs: Int, kernel: Int, stride: Int,
                     activation: Activation, reader: inout ParameterReader) -> Value {
        builder.convolutionBatchNorm(input, ConvolutionShape(outputChannels: outputs, kernel: Size2D(kernel, kernel), stride: Size2D(stride, stride),
                                                             padding: Padding2D(symmetric: kernel / 2, kernel / 2)),
                                     keys: ConvolutionKeys(weight: name + ".weight", batchNorm: batchNorm), epsilon: Self.epsilon,
                                     activation: activation, reader: &reader)
    }
}
