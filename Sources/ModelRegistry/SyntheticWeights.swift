// Stand-in weights for timing a network whose real checkpoint is absent: every key the model reads, filled
// deterministically with small values. Speed does not depend on the values; predictions made with these mean nothing.
import Engine
import Models
import Weights

public enum SyntheticWeights {
    public static func stateDict(for model: ModelDescriptor) -> StateDict {
        var tensors: [String: Tensor] = [:]
        for (key, shape) in model.parameters().required {
            let count = Tensor.count(of: shape)
            // Running variances must stay positive for the batch-norm fold; everything else is a small ramp.
            let scalars = key.hasSuffix("running_var")
                ? [Float](repeating: 1, count: count)
                : (0..<count).map { Float(($0 * 7919) % 2001 - 1000) * 1e-5 }
            tensors[key] = Tensor(shape: shape, scalars: scalars)
        }
        return StateDict(tensors: tensors)
    }
}
