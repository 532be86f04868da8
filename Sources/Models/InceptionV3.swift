// torchvision's Inception v3 (aux head off at inference) with torchvision's key names, as a Graph.
// Every BasicConv2d is convolution → batch norm (ε = 0.001, folded at load) → ReLU; the auxiliary classifier's keys are ignored.
import Engine

enum InceptionV3 {
    static let inputSize = 299

    static func define(_ reader: inout ParameterReader) -> Graph {
        var network = InceptionBuilder(builder: GraphBuilder(name: "inception_v3", inputShape: [3, inputSize, inputSize]))
        var x = network.builder.input
        x = network.basic(x, "Conv2d_1a_3x3", 32, kernel: Size2D(3, 3), stride: Size2D(2, 2), reader: &reader)
        x = network.basic(x, "Conv2d_2a_3x3", 32, kernel: Size2D(3, 3), reader: &reader)
        x = network.basic(x, "Conv2d_2b_3x3", 64, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), reader: &reader)
        x = network.builder.maxPool(x, InceptionBuilder.reduction)
        x = network.basic(x, "Conv2d_3b_1x1", 80, kernel: Size2D(1, 1), reader: &reader)
        x = network.basic(x, "Conv2d_4a_3x3", 192, kernel: Size2D(3, 3), reader: &reader)
        x = network.builder.maxPool(x, InceptionBuilder.reduction)
        x = network.blockA(x, "Mixed_5b", poolFeatures: 32, reader: &reader)
        x = network.blockA(x, "Mixed_5c", poolFeatures: 64, reader: &reader)
        x = network.blockA(x, "Mixed_5d", poolFeatures: 64, reader: &reader)
        x = network.blockB(x, "Mixed_6a", reader: &reader)
        x = network.blockC(x, "Mixed_6b", channels7x7: 128, reader: &reader)
        x = network.blockC(x, "Mixed_6c", channels7x7: 160, reader: &reader)
        x = network.blockC(x, "Mixed_6d", channels7x7: 160, reader: &reader)
        x = network.blockC(x, "Mixed_6e", channels7x7: 192, reader: &reader)
        x = network.blockD(x, "Mixed_7a", reader: &reader)
        x = network.blockE(x, "Mixed_7b", reader: &reader)
        x = network.blockE(x, "Mixed_7c", reader: &reader)
        x = network.builder.globalAveragePool(x)
        x = network.builder.linear(x, outputs: 1000, prefix: "fc", reader: &reader)
        return network.builder.build(output: x)
    }
}

/// The Inception blocks A–E of torchvision's `inception.py`, in its branch order.
private struct InceptionBuilder {
    var builder: GraphBuilder

    static let reduction = Pooling(kernel: Size2D(3, 3), stride: Size2D(2, 2))
    static let branchPool = Pooling(kernel: Size2D(3, 3), stride: Size2D(1, 1), padding: Padding2D(symmetric: 1, 1))
    static let row7 = (kernel: Size2D(1, 7), padding: Padding2D(symmetric: 0, 3))
    static let column7 = (kernel: Size2D(7, 1), padding: Padding2D(symmetric: 3, 0))
    static let row3 = (kernel: Size2D(1, 3), padding: Padding2D(symmetric: 0, 1))
    static let column3 = (kernel: Size2D(3, 1), padding: Padding2D(symmetric: 1, 0))

    /// torchvision's BasicConv2d named `name`: `name.conv.weight` and `name.bn.*`.
    mutating func basic(_ input: Value, _ name: String, _ outputs: Int, kernel: Size2D, stride: Size2D = Size2D(1, 1),
                        padding: Padding2D = .zero, reader: inout ParameterReader) -> Value {
        builder.convolutionBatchNorm(input, ConvolutionShape(outputChannels: outputs, kernel: kernel, stride: stride, padding: padding),
                                     keys: ConvolutionKeys(weight: name + ".conv.weight", batchNorm: name + ".bn"),
                                     epsilon: 0.001, activation: .relu, reader: &reader)
    }

    mutating func blockA(_ x: Value, _ name: String, poolFeatures: Int, reader: inout ParameterReader) -> Value {
        let branch1x1 = basic(x, name + ".branch1x1", 64, kernel: Size2D(1, 1), reader: &reader)
        var branch5x5 = basic(x, name + ".branch5x5_1", 48, kernel: Size2D(1, 1), reader: &reader)
        branch5x5 = basic(branch5x5, name + ".branch5x5_2", 64, kernel: Size2D(5, 5), padding: Padding2D(symmetric: 2, 2), reader: &reader)
        var branch3x3 = basic(x, name + ".branch3x3dbl_1", 64, kernel: Size2D(1, 1), reader: &reader)
        branch3x3 = basic(branch3x3, name + ".branch3x3dbl_2", 96, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), reader: &reader)
        branch3x3 = basic(branch3x3, name + ".branch3x3dbl_3", 96, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), reader: &reader)
        let branchPool = basic(builder.averagePool(x, Self.branchPool), name + ".branch_pool", poolFeatures, kernel: Size2D(1, 1), reader: &reader)
        return builder.concat([branch1x1, branch5x5, branch3x3, branchPool])
    }

    mutating func blockB(_ x: Value, _ name: String, reader: inout ParameterReader) -> Value {
        let branch3x3 = basic(x, name + ".branch3x3", 384, kernel: Size2D(3, 3), stride: Size2D(2, 2), reader: &reader)
        var double = basic(x, name + ".branch3x3dbl_1", 64, kernel: Size2D(1, 1), reader: &reader)
        double = basic(double, name + ".branch3x3dbl_2", 96, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), reader: &reader)
        double = basic(double, name + ".branch3x3dbl_3", 96, kernel: Size2D(3, 3), stride: Size2D(2, 2), reader: &reader)
        return builder.concat([branch3x3, double, builder.maxPool(x, Self.reduction)])
    }

    mutating func blockC(_ x: Value, _ name: String, channels7x7 channels: Int, reader: inout ParameterReader) -> Value {
        let branch1x1 = basic(x, name + ".branch1x1", 192, kernel: Size2D(1, 1), reader: &reader)
        var branch7x7 = basic(x, name + ".branch7x7_1", channels, kernel: Size2D(1, 1), reader: &reader)
        branch7x7 = basic(branch7x7, name + ".branch7x7_2", channels, kernel: Self.row7.kernel, padding: Self.row7.padding, reader: &reader)
        branch7x7 = basic(branch7x7, name + ".branch7x7_3", 192, kernel: Self.column7.kernel, padding: Self.column7.padding, reader: &reader)
        var double = basic(x, name + ".branch7x7dbl_1", channels, kernel: Size2D(1, 1), reader: &reader)
        double = basic(double, name + ".branch7x7dbl_2", channels, kernel: Self.column7.kernel, padding: Self.column7.padding, reader: &reader)
        double = basic(double, name + ".branch7x7dbl_3", channels, kernel: Self.row7.kernel, padding: Self.row7.padding, reader: &reader)
        double = basic(double, name + ".branch7x7dbl_4", channels, kernel: Self.column7.kernel, padding: Self.column7.padding, reader: &reader)
        double = basic(double, name + ".branch7x7dbl_5", 192, kernel: Self.row7.kernel, padding: Self.row7.padding, reader: &reader)
        let branchPool = basic(builder.averagePool(x, Self.branchPool), name + ".branch_pool", 192, kernel: Size2D(1, 1), reader: &reader)
        return builder.concat([branch1x1, branch7x7, double, branchPool])
    }

    mutating func blockD(_ x: Value, _ name: String, reader: inout ParameterReader) -> Value {
        var branch3x3 = basic(x, name + ".branch3x3_1", 192, kernel: Size2D(1, 1), reader: &reader)
        branch3x3 = basic(branch3x3, name + ".branch3x3_2", 320, kernel: Size2D(3, 3), stride: Size2D(2, 2), reader: &reader)
        var branch7x7 = basic(x, name + ".branch7x7x3_1", 192, kernel: Size2D(1, 1), reader: &reader)
        branch7x7 = basic(branch7x7, name + ".branch7x7x3_2", 192, kernel: Self.row7.kernel, padding: Self.row7.padding, reader: &reader)
        branch7x7 = basic(branch7x7, name + ".branch7x7x3_3", 192, kernel: Self.column7.kernel, padding: Self.column7.padding, reader: &reader)
        branch7x7 = basic(branch7x7, name + ".branch7x7x3_4", 192, kernel: Size2D(3, 3), stride: Size2D(2, 2), reader: &reader)
        return builder.concat([branch3x3, branch7x7, builder.maxPool(x, Self.reduction)])
    }

    mutating func blockE(_ x: Value, _ name: String, reader: inout ParameterReader) -> Value {
        let branch1x1 = basic(x, name + ".branch1x1", 320, kernel: Size2D(1, 1), reader: &reader)
        let branch3x3 = basic(x, name + ".branch3x3_1", 384, kernel: Size2D(1, 1), reader: &reader)
        let split3x3 = builder.concat([
            basic(branch3x3, name + ".branch3x3_2a", 384, kernel: Self.row3.kernel, padding: Self.row3.padding, reader: &reader),
            basic(branch3x3, name + ".branch3x3_2b", 384, kernel: Self.column3.kernel, padding: Self.column3.padding, reader: &reader),
        ])
        var double = basic(x, name + ".branch3x3dbl_1", 448, kernel: Size2D(1, 1), reader: &reader)
        double = basic(double, name + ".branch3x3dbl_2", 384, kernel: Size2D(3, 3), padding: Padding2D(symmetric: 1, 1), reader: &reader)
        let splitDouble = builder.concat([
            basic(double, name + ".branch3x3dbl_3a", 384, kernel: Self.row3.kernel, padding: Self.row3.padding, reader: &reader),
            basic(double, name + ".branch3x3dbl_3b", 384, kernel: Self.column3.kernel, padding: Self.column3.padding, reader: &reader),
        ])
        let branchPool = basic(builder.averagePool(x, Self.branchPool), name + ".branch_pool", 192, kernel: Size2D(1, 1), reader: &reader)
        return builder.concat([branch1x1, split3x3, splitDouble, branchPool])
    }
}
