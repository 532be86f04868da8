// ImageNet-C's noises, drawn from Blindspot's seeded generator (the reference draws from NumPy's, so they match it
// in distribution, not in bytes): Gaussian, shot (Poisson), impulse (salt and pepper) and speckle noise.
import Engine
import Foundation
import Imaging

extension CorruptionRun {
    /// x + N(0, σ²) on values in 0...1.
    mutating func gaussianNoise(_ sigma: Double) -> RGBImage {
        noisy { value, random in value + random.normal() * sigma }
    }

    /// Poisson(x · photons) / photons.
    mutating func shotNoise(_ photons: Double) -> RGBImage {
        // One table of cumulative probabilities per 8-bit value: a draw is the first count whose cumulative
        // probability exceeds a uniform number.
        let tables = (0 ... 255).map { Self.poissonCumulative(mean: Double($0) / 255 * photons) }
        var result = FloatImage(width: image.width, height: image.height, channels: 3)
        for (index, byte) in image.pixels.enumerated() {
            let table = tables[Int(byte)]
            let uniform = random.nextUnit()
            var count = 0
            while count < table.count - 1 && table[count] <= uniform { count += 1 }
            result.values[index] = min(Double(count) / photons, 1)
        }
        return result.rgbImage()
    }

    /// scikit-image's `random_noise(mode='s&p')`: each value, with probability `amount`, becomes 0 or 1 (even odds).
    mutating func impulseNoise(_ amount: Double) -> RGBImage {
        noisy { value, random in
            let flipped = random.nextUnit() < amount
            let salted = random.nextUnit() < 0.5
            return flipped ? (salted ? 1 : 0) : value
        }
    }

    /// x + x · N(0, σ²).
    mutating func speckleNoise(_ sigma: Double) -> RGBImage {
        noisy { value, random in value + value * random.normal() * sigma }
    }

    /// Every value in 0...1 through `draw`, clipped.
    private mutating func noisy(_ draw: (Double, inout SplitMix64) -> Double) -> RGBImage {
        var result = FloatImage(image, dividedBy: 255)
        for index in result.values.indices {
            result.values[index] = min(max(draw(result.values[index], &random), 0), 1)
        }
        return result.rgbImage()
    }

    /// P(X ≤ k) for k = 0, 1, … until it is 1 to double precision (the last entry is 1).
    static func poissonCumulative(mean: Double) -> [Double] {
        guard mean > 0 else { return [1] }
        var probability = exp(-mean), total = probability
        var table = [total]
        var count = 0.0
        while total < 1 - 1e-15 && table.count < 1000 {
            count += 1
            probability *= mean / count
            total += probability
            table.append(total)
        }
        table[table.count - 1] = 1
        return table
    }
}
