// Reproducible random tensors for tests, from SplitMix64 (Engine), the same generator as ../shared/fixtures/detweights.py.
import Engine

extension SplitMix64 {
    /// Uniform in [-scale, scale).
    public mutating func uniform(scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }

    public mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in uniform(scale: scale) })
    }
}
