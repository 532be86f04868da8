// How 8-bit pixel values become network input floats, per channel, with the reference's exact Float steps.
// Two formulas that are equal in real numbers round differently in Float, so the variant is part of the spec.

public enum Normalization: Sendable, Equatable {
    /// `x = pixel / 255; (x - mean) / standardDeviation`, each step rounded to Float: numpy float32's
    /// `np.asarray(img, np.float32) / 255.0` then `(x - 0.5) / 0.5` (Inception v3: mean 0.5, deviation 0.5).
    case unitScaleThenStandardize(mean: SIMD3<Float>, standardDeviation: SIMD3<Float>)
    /// `(pixel - mean) / standardDeviation` on the 0–255 scale in Float (EfficientNet-Lite: mean 127, deviation 128).
    case standardize(mean: SIMD3<Float>, standardDeviation: SIMD3<Float>)

    /// The input value of every level of every channel: `table[channel * 256 + level]`.
    func lookupTable() -> [Float] {
        (0 ..< 3).flatMap { channel in
            (0 ... 255).map { level in value(of: Float(level), channel: channel) }
        }
    }

    private func value(of level: Float, channel: Int) -> Float {
        switch self {
        case let .unitScaleThenStandardize(mean, standardDeviation):
            let unit = level / 255
            return (unit - mean[channel]) / standardDeviation[channel]
        case let .standardize(mean, standardDeviation):
            return (level - mean[channel]) / standardDeviation[channel]
        }
    }
}
