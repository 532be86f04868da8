// The arrays the reference corrupts: values in float, laid out as NumPy's (height, width, channels), with the
// filters it borrows from SciPy and scikit-image (Gaussian filter, order-1 zoom, map_coordinates) reproduced.
import Engine
import Foundation
import Imaging

/// An image or a single-channel layer as floating-point values, row after row, channels interleaved.
struct FloatImage {
    let width: Int
    let height: Int
    let channels: Int
    var values: [Double]

    init(width: Int, height: Int, channels: Int, values: [Double]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.values = values
    }

    init(width: Int, height: Int, channels: Int = 1, repeating value: Double = 0) {
        self.init(width: width, height: height, channels: channels,
                  values: [Double](repeating: value, count: width * height * channels))
    }

    /// Each 8-bit value divided by `divisor`, as NumPy's `np.array(x) / 255.` (a division: multiplying by 1/255
    /// differs in the last bit, which the final truncation can turn into a whole level).
    init(_ image: RGBImage, dividedBy divisor: Double) {
        self.init(width: image.width, height: image.height, channels: 3, values: image.pixels.map { Double($0) / divisor })
    }

    func index(_ row: Int, _ column: Int, _ channel: Int = 0) -> Int { (row * width + column) * channels + channel }

    subscript(row: Int, column: Int, channel: Int) -> Double {
        get { values[index(row, column, channel)] }
        set { values[index(row, column, channel)] = newValue }
    }

    func map(_ transform: (Double) -> Double) -> FloatImage {
        FloatImage(width: width, height: height, channels: channels, values: values.map(transform))
    }

    /// Element by element with another array of the same shape.
    func combined(with other: FloatImage, _ combine: (Double, Double) -> Double) -> FloatImage {
        FloatImage(width: width, height: height, channels: channels, values: zip(values, other.values).map(combine))
    }

    /// The reference's last step, `np.uint8(np.clip(x, 0, 1) * 255)`: each value times `multiplier`, clipped to
    /// 0...255 and truncated toward zero as NumPy's cast does (not rounded). Three channels.
    func rgbImage(times multiplier: Double = 255) -> RGBImage {
        RGBImage(width: width, height: height, pixels: values.map { UInt8(min(max($0 * multiplier, 0), 255)) })
    }

    /// One channel as a single-channel layer.
    func channel(_ channel: Int) -> FloatImage {
        FloatImage(width: width, height: height, channels: 1,
                   values: Swift.stride(from: channel, to: values.count, by: channels).map { values[$0] })
    }

    /// Rows `rows` and columns `columns` (within the image).
    func cropped(rows: Range<Int>, columns: Range<Int>) -> FloatImage {
        var result: [Double] = []
        result.reserveCapacity(rows.count * columns.count * channels)
        for row in rows {
            let start = index(row, columns.lowerBound)
            result += values[start ..< start + columns.count * channels]
        }
        return FloatImage(width: columns.count, height: rows.count, channels: channels, values: result)
    }

    /// Every value rounded to the Float32 nearest it, as when the reference casts to `np.float32`.
    func asFloat32() -> FloatImage { map { Double(Float($0)) } }
}

/// How a filter reads beyond the edge (SciPy's and OpenCV's names).
enum Boundary {
    /// The edge value repeated (SciPy "nearest", OpenCV BORDER_REPLICATE).
    case nearest
    /// Mirrored about the edge, the edge value repeated: d c b a | a b c d (SciPy "reflect").
    case reflect
    /// Mirrored about the edge value, which is not repeated: d c b | a b c d (OpenCV's default BORDER_REFLECT_101).
    case reflect101

    /// The index inside 0..<count that `position` reads.
    func index(_ position: Int, count: Int) -> Int {
        guard count > 1 else { return 0 }
        switch self {
        case .nearest:
            return min(max(position, 0), count - 1)
        case .reflect:
            let period = 2 * count
            var folded = position % period
            if folded < 0 { folded += period }
            return folded < count ? folded : period - 1 - folded
        case .reflect101:
            let period = 2 * count - 2
            var folded = position % period
            if folded < 0 { folded += period }
            return folded < count ? folded : period - folded
        }
    }
}

extension FloatImage {
    /// SciPy's `correlate1d` along rows (`alongRows`: the kernel runs down each column) or along columns, every
    /// channel on its own, for a symmetric kernel of odd length given from its centre outwards, summed as SciPy
    /// does: centre × w₀, then each pair (left + right) × wⱼ.
    func correlatedSymmetric(halfKernel: [Double], alongRows: Bool, boundary: Boundary) -> FloatImage {
        let radius = halfKernel.count - 1
        var result = self
        let (length, lines) = alongRows ? (height, width) : (width, height)
        let step = alongRows ? width * channels : channels
        var line = [Double](repeating: 0, count: length + 2 * radius)
        values.withUnsafeBufferPointer { input in
            result.values.withUnsafeMutableBufferPointer { output in
                halfKernel.withUnsafeBufferPointer { weights in
                    for lineIndex in 0 ..< lines {
                        for channel in 0 ..< channels {
                            let start = (alongRows ? lineIndex * channels : lineIndex * width * channels) + channel
                            for position in -radius ..< length + radius {
                                line[position + radius] = input[start + boundary.index(position, count: length) * step]
                            }
                            line.withUnsafeBufferPointer { line in
                                for position in 0 ..< length {
                                    let centre = position + radius
                                    var sum = line[centre] * weights[0]
                                    var offset = 1
                                    while offset <= radius {
                                        sum += (line[centre + offset] + line[centre - offset]) * weights[offset]
                                        offset += 1
                                    }
                                    output[start + position * step] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// SciPy's `gaussian_filter` (what scikit-image's `gaussian` calls) over rows then columns, each channel
    /// alone: weights exp(−x²/2σ²) for |x| ≤ ⌊truncate·σ + ½⌋, normalised to sum 1.
    func gaussianFiltered(sigma: Double, truncate: Double = 4, boundary: Boundary = .nearest) -> FloatImage {
        gaussianFiltered(sigmaRows: sigma, sigmaColumns: sigma, truncate: truncate, boundary: boundary)
    }

    func gaussianFiltered(sigmaRows: Double, sigmaColumns: Double, truncate: Double, boundary: Boundary) -> FloatImage {
        var result = self
        for (sigma, alongRows) in [(sigmaRows, true), (sigmaColumns, false)] where sigma > 0 {
            result = result.correlatedSymmetric(halfKernel: Self.gaussianHalfKernel(sigma: sigma, truncate: truncate),
                                                alongRows: alongRows, boundary: boundary)
        }
        return result
    }

    static func gaussianHalfKernel(sigma: Double, truncate: Double) -> [Double] {
        let radius = Int(truncate * sigma + 0.5)
        let full = (-radius ... radius).map { exp(-0.5 / (sigma * sigma) * Double($0 * $0)) }
        let total = full.reduce(0, +)
        return full[radius...].map { $0 / total }
    }

    /// The bilinear blend of four pixels: along each row by `across`, then between the rows by `down`.
    func blend(rows: (Int, Int), columns: (Int, Int), down: Double, across: Double, channel: Int) -> Double {
        let upper = self[rows.0, columns.0, channel] * (1 - across) + self[rows.0, columns.1, channel] * across
        let lower = self[rows.1, columns.0, channel] * (1 - across) + self[rows.1, columns.1, channel] * across
        return upper * (1 - down) + lower * down
    }

    /// SciPy's `zoom(layer, (factor, factor, 1), order=1)`: the result is round(side × factor) a side, and output
    /// pixel i reads input position i · (n − 1) / (m − 1), linearly interpolated.
    func zoomedLinear(by factor: Double) -> FloatImage {
        let newHeight = Int((Double(height) * factor).rounded(.toNearestOrEven))
        let newWidth = Int((Double(width) * factor).rounded(.toNearestOrEven))
        func taps(_ input: Int, _ output: Int) -> [(Int, Int, Double)] {
            let ratio = output > 1 ? Double(input - 1) / Double(output - 1) : 0
            return (0 ..< output).map { position in
                let coordinate = Double(position) * ratio
                let low = min(Int(coordinate), input - 1)
                let high = min(low + 1, input - 1)
                return (low, high, coordinate - Double(low))
            }
        }
        let rowTaps = taps(height, newHeight), columnTaps = taps(width, newWidth)
        var result = FloatImage(width: newWidth, height: newHeight, channels: channels)
        for (row, (top, bottom, down)) in rowTaps.enumerated() {
            for (column, (left, right, across)) in columnTaps.enumerated() {
                for channel in 0 ..< channels {
                    result[row, column, channel] = blend(rows: (top, bottom), columns: (left, right), down: down, across: across, channel: channel)
                }
            }
        }
        return result
    }

    /// The reference's `clipped_zoom`: the centre ⌈side / factor⌉ of each side, zoomed by `factor` (so at least
    /// the original size; the caller crops).
    func clippedZoom(by factor: Double) -> FloatImage {
        let keptRows = Int((Double(height) / factor).rounded(.up)), keptColumns = Int((Double(width) / factor).rounded(.up))
        let top = (height - keptRows) / 2, left = (width - keptColumns) / 2
        return cropped(rows: top ..< top + keptRows, columns: left ..< left + keptColumns).zoomedLinear(by: factor)
    }
}

extension SplitMix64 {
    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUnit() }

    /// A standard normal number (Box–Muller; one of the pair is used).
    mutating func normal() -> Double {
        (-2 * log(nextUnitOpenBelow())).squareRoot() * cos(2 * Double.pi * nextUnit())
    }

    /// NumPy's `randint(low, high)`: an integer in low..<high.
    mutating func integer(_ low: Int, _ high: Int) -> Int { Int.random(in: low ..< high, using: &self) }
}
