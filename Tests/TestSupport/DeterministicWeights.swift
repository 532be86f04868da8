// ../shared/fixtures/detweights.py in Swift: FNV-1a of the key seeds splitmix64, giving the same float32 weights
// the PyTorch fixtures were computed with.
import Engine

public enum DeterministicWeights {
    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// The uniform draws in [-1, 1) for `count` elements of `name`, in double precision.
    static func uniform(_ name: String, count: Int) -> [Double] {
        let seed = fnv1a64(name)
        return (0..<count).map { index in
            var generator = SplitMix64(seed: seed &+ UInt64(index))
            return Double(generator.next() >> 40) / Double(1 << 24) * 2 - 1
        }
    }

    /// The tensor stored under `name`; `isBatchNorm` says whether its owner is a normalisation layer (batch, layer or
    /// group norm). The formula's extension: a leaf ending in `_weight` or `_bias` counts as `weight` or `bias`, and any
    /// other key (a layer scale, a class token, a position embedding) is 0.02·u.
    public static func tensor(_ name: String, shape: [Int], isBatchNorm: Bool) -> Tensor {
        let count = Tensor.count(of: shape)
        var leaf = name.split(separator: ".").last.map(String.init) ?? name
        if leaf.hasSuffix("_weight") { leaf = "weight" } else if leaf.hasSuffix("_bias") { leaf = "bias" }
        if leaf == "num_batches_tracked" { return Tensor(zeros: shape) }
        let draws = uniform(name, count: count)
        let values: [Double]
        if isBatchNorm {
            switch leaf {
            case "weight", "running_var": values = draws.map { 1 + 0.25 * $0 }
            case "bias", "running_mean": values = draws.map { 0.1 * $0 }
            default: preconditionFailure("unknown normalisation key \(name)")
            }
        } else if leaf == "weight" {
            let fanIn = Double(count) / Double(shape[0])
            values = draws.map { $0 * (6 / fanIn).squareRoot() }
        } else if leaf == "bias" {
            values = draws.map { $0 * 0.01 }
        } else {
            values = draws.map { $0 * 0.02 }
        }
        return Tensor(shape: shape, scalars: values.map { Float($0) })
    }
}
