// Steele, Lea and Flood's SplitMix64: a 64-bit state advanced by a constant and scrambled. Fast, seedable with any
// value, and the same sequence on every platform, so noise, bootstrap resamples and test tensors are reproducible.

public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in (0, 1], safe for a logarithm.
    public mutating func nextUnitOpenBelow() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }
}
