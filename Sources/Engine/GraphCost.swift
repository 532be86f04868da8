// How much arithmetic a Graph asks for, per image: the multiply-accumulates of its convolutions and linear layers
// (the work that dominates a CNN). Not a timing model: pooling, additions and activations are left out.

extension Graph {
    /// Multiply-accumulates of every convolution and linear layer for one image.
    public var multiplyAccumulates: Int {
        nodes.reduce(0) { total, node in
            switch node.operation {
            case .convolution(let convolution):
                // Each output value reads (input channels per group) × kernel height × kernel width inputs.
                let outputValues = node.shape.reduce(1, *)
                let perOutput = convolution.inputChannels / convolution.groups * convolution.kernel.height * convolution.kernel.width
                return total + outputValues * perOutput
            case .linear(let linear):
                return total + linear.outputFeatures * linear.inputFeatures
            case .attention:
                // Q Kᵀ and P V: T × T × C each over all heads.
                let (channels, tokens) = (node.shape[0], node.shape[1])
                return total + 2 * tokens * tokens * channels
            case .input, .maxPool, .averagePool, .globalAveragePool, .concat, .binary, .constant, .activation, .reshape, .pad, .softmax,
                 .layerNormalization:
                return total
            }
        }
    }

    /// Floating-point operations of one image's forward pass: two per multiply-accumulate.
    public var floatingPointOperations: Int { 2 * multiplyAccumulates }
}
