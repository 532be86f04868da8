// ImageNet-C's weather: snow (a zoomed, thresholded, motion-blurred noise layer), frost (ice textures blended in),
// fog (a diamond-square plasma fractal added and the range compressed) and the held-out spatter (water or mud).
import Engine
import Foundation
import Imaging

extension CorruptionRun {
    struct SnowSettings {
        let mean, deviation, zoom, threshold: Double
        let blurRadius: Int
        let blurSigma, keep: Double
    }

    mutating func snow(_ settings: SnowSettings) -> RGBImage {
        let pixels = FloatImage(image, dividedBy: 255).asFloat32()
        let (width, height) = (image.width, image.height)
        var layer = FloatImage(width: width, height: height, channels: 1,
                               values: (0 ..< width * height).map { _ in settings.mean + settings.deviation * random.normal() })
        layer = layer.clippedZoom(by: settings.zoom).map { $0 < settings.threshold ? 0 : min(max($0, 0), 1) }
        let angle = random.uniform(-135, -45)
        layer = layer.motionBlurred(radius: settings.blurRadius, sigma: settings.blurSigma, degrees: angle)
            .map { ($0 * 255).rounded(.toNearestOrEven) / 255 }
            .cropped(rows: 0 ..< height, columns: 0 ..< width)
        var result = pixels
        for row in 0 ..< height {
            for column in 0 ..< width {
                let start = pixels.index(row, column)
                let gray = Double(Float(0.299 * pixels.values[start] + 0.587 * pixels.values[start + 1] + 0.114 * pixels.values[start + 2]))
                // The layer and its half-turn: flakes falling from both sides.
                let flakes = layer.values[row * width + column] + layer.values[(height - 1 - row) * width + (width - 1 - column)]
                for channel in 0 ..< 3 {
                    let value = pixels.values[start + channel]
                    let whitened = settings.keep * value + (1 - settings.keep) * max(value, gray * 1.5 + 0.5)
                    result.values[start + channel] = min(max(whitened + flakes, 0), 1)
                }
            }
        }
        return result.rgbImage()
    }

    /// factor · image + weight · a random crop of one of five ice textures enlarged to cover the image, then by 1.1.
    mutating func frost(factor: Double, weight: Double, textures: FrostTextures) throws(CorruptionError) -> RGBImage {
        let choice = random.integer(0, 5)
        let texture: RGBImage
        switch textures {
        case .procedural: texture = FrostTextures.procedural(number: choice)
        case .photographs(let photographs, _):
            guard photographs.count >= 5 else { throw .failed(corruption, reason: "frost needs five texture photographs") }
            texture = photographs[choice]
        }
        let scale = max(1, Double(image.height) / Double(texture.height), Double(image.width) / Double(texture.width)) * 1.1
        let enlarged = texture.resized(width: Int((Double(texture.width) * scale).rounded(.up)),
                                       height: Int((Double(texture.height) * scale).rounded(.up)), filter: .bicubic)
        let top = random.integer(0, max(1, enlarged.height - image.height))
        let left = random.integer(0, max(1, enlarged.width - image.width))
        let ice = enlarged.cropped(to: PixelRectangle(x: left, y: top, width: image.width, height: image.height))
        let values = zip(image.pixels, ice.pixels).map { min(max(factor * Double($0) + weight * Double($1), 0), 255) }
        return FloatImage(width: image.width, height: image.height, channels: 3, values: values).rgbImage(times: 1)
    }

    /// x + strength · plasma fractal, scaled by max / (max + strength).
    mutating func fog(strength: Double, decay: Double) -> RGBImage {
        var pixels = FloatImage(image, dividedBy: 255)
        let brightest = pixels.values.max() ?? 0
        let side = Self.nextPowerOfTwo(max(image.width, image.height))
        let plasma = Self.plasmaFractal(side: side, decay: decay, random: &random)
        for row in 0 ..< image.height {
            for column in 0 ..< image.width {
                let haze = strength * plasma[row * side + column]
                for channel in 0 ..< 3 {
                    let index = pixels.index(row, column, channel)
                    pixels.values[index] = min(max((pixels.values[index] + haze) * brightest / (brightest + strength), 0), 1)
                }
            }
        }
        return pixels.rgbImage()
    }

    static func nextPowerOfTwo(_ value: Int) -> Int {
        var power = 1
        while power < value { power *= 2 }
        return power
    }

    /// The reference's diamond-square height map (after FLHerne's mapgen): side × side values in 0...1, row-major;
    /// the random offsets at each step are wibble · U(−wibble, wibble), wibble starting at 100 and divided by
    /// `decay` each halving.
    static func plasmaFractal(side: Int, decay: Double, random: inout SplitMix64) -> [Double] {
        var map = [Double](repeating: 0, count: side * side)
        var step = side
        var wibble = 100.0
        while step >= 2 {
            let half = step / 2, cells = side / step
            func grid(_ row: Int, _ column: Int) -> Double { map[((row + cells) % cells) * step * side + ((column + cells) % cells) * step] }
            func centre(_ row: Int, _ column: Int) -> Double {
                map[(((row + cells) % cells) * step + half) * side + ((column + cells) % cells) * step + half]
            }
            func jitter(_ sum: Double, _ random: inout SplitMix64) -> Double { sum / 4 + wibble * random.uniform(-wibble, wibble) }
            // Squares: each centre from its four corners.
            var centres = [Double](repeating: 0, count: cells * cells)
            for row in 0 ..< cells {
                for column in 0 ..< cells {
                    centres[row * cells + column] = grid(row, column) + grid(row + 1, column) + grid(row, column + 1) + grid(row + 1, column + 1)
                }
            }
            for row in 0 ..< cells {
                for column in 0 ..< cells {
                    map[(row * step + half) * side + column * step + half] = jitter(centres[row * cells + column], &random)
                }
            }
            // Diamonds: the midpoints of the top edges, then of the left edges, as the reference's rolls pair them.
            var top = [Double](repeating: 0, count: cells * cells), left = top
            for row in 0 ..< cells {
                for column in 0 ..< cells {
                    top[row * cells + column] = centre(row, column) + centre(row - 1, column) + grid(row, column) + grid(row, column + 1)
                    left[row * cells + column] = centre(row, column) + centre(row, column - 1) + grid(row, column) + grid(row + 1, column)
                }
            }
            for row in 0 ..< cells {
                for column in 0 ..< cells {
                    map[row * step * side + column * step + half] = jitter(top[row * cells + column], &random)
                }
            }
            for row in 0 ..< cells {
                for column in 0 ..< cells {
                    map[(row * step + half) * side + column * step] = jitter(left[row * cells + column], &random)
                }
            }
            step /= 2
            wibble /= decay
        }
        let low = map.min() ?? 0
        let high = (map.max() ?? 0) - low
        return map.map { high > 0 ? ($0 - low) / high : 0 }
    }
}
