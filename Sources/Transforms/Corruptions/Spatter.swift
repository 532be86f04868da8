// ImageNet-C's held-out spatter: a smoothed, thresholded noise layer becomes water drops (its Canny edges'
// distance map, equalised and embossed, tinted pale turquoise) at severities 1–3, or mud (brown blots) at 4–5.
import Engine
import Foundation
import Imaging

extension CorruptionRun {
    struct SpatterSettings {
        let mean, deviation, sigma, threshold, intensity: Double
        let isMud: Bool
    }

    mutating func spatter(_ settings: SpatterSettings) -> RGBImage {
        let (width, height) = (image.width, image.height)
        let pixels = FloatImage(image, dividedBy: 255).asFloat32()
        let noise = FloatImage(width: width, height: height, channels: 1,
                               values: (0 ..< width * height).map { _ in settings.mean + settings.deviation * random.normal() })
        let liquid = noise.gaussianFiltered(sigma: settings.sigma).map { $0 < settings.threshold ? 0 : $0 }
        var result = pixels
        if settings.isMud {
            let blots = liquid.map { $0 > settings.threshold ? 1 : 0 }.gaussianFiltered(sigma: settings.intensity)
                .map { $0 < 0.8 ? 0 : Double(Float($0)) }
            let brown = [63.0 / 255, 42.0 / 255, 20.0 / 255]
            for (pixel, mud) in blots.values.enumerated() {
                for channel in 0 ..< 3 {
                    let index = pixel * 3 + channel
                    result.values[index] = min(max(pixels.values[index] * (1 - mud) + brown[channel] * mud, 0), 1)
                }
            }
        } else {
            let layer = liquid.values.map { UInt8(truncatingIfNeeded: Int($0 * 255)) }
            let water = Self.waterDrops(layer, width: width, height: height)
            let strongest = water.max() ?? 0
            let turquoise = [175.0 / 255, 238.0 / 255, 238.0 / 255]
            for (pixel, drop) in water.enumerated() {
                let amount = strongest > 0 ? Double(Float(drop) / Float(strongest)) * settings.intensity : 0
                for channel in 0 ..< 3 {
                    let index = pixel * 3 + channel
                    result.values[index] = min(max(pixels.values[index] + amount * turquoise[channel], 0), 1)
                }
            }
        }
        return result.rgbImage()
    }

    /// The reference's water: layer × (its Canny edges' distance map, truncated at 20, box-blurred, equalised,
    /// embossed and box-blurred again), as OpenCV computes each step.
    static func waterDrops(_ layer: [UInt8], width: Int, height: Int) -> [Float] {
        let edges = Gray8(width: width, height: height, values: layer).cannyEdges(low: 50, high: 150)
        let distances = edges.distanceToZero(invertedFrom: 255).map { min($0, 20) }
        let blurred = Gray8.boxBlurred(distances, width: width, height: height).map { UInt8(min(max($0, 0), 255)) }
        let equalised = Gray8(width: width, height: height, values: blurred).equalised()
        let embossed = equalised.filtered([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
        let smoothed = Gray8.boxBlurred(embossed.values.map(Float.init), width: width, height: height)
            .map { Float(UInt8(min(max($0.rounded(.toNearestOrEven), 0), 255))) }
        return zip(layer, smoothed).map { Float($0) * $1 }
    }
}

/// A one-channel 8-bit image and the OpenCV operations spatter needs, with OpenCV's borders.
struct Gray8 {
    let width: Int
    let height: Int
    var values: [UInt8]

    func at(_ row: Int, _ column: Int, _ boundary: Boundary) -> Int {
        Int(values[boundary.index(row, count: height) * width + boundary.index(column, count: width)])
    }

    /// OpenCV's Canny with a 3×3 Sobel (edges replicated) and the L1 gradient: non-maximum suppression in four
    /// directions, then hysteresis from pixels above `high` through 8-connected pixels above `low`. Edges are 255.
    func cannyEdges(low: Int, high: Int) -> Gray8 {
        var dx = [Int](repeating: 0, count: width * height), dy = dx, magnitude = dx
        for row in 0 ..< height {
            for column in 0 ..< width {
                func p(_ r: Int, _ c: Int) -> Int { at(row + r, column + c, .nearest) }
                let gx = (p(-1, 1) + 2 * p(0, 1) + p(1, 1)) - (p(-1, -1) + 2 * p(0, -1) + p(1, -1))
                let gy = (p(1, -1) + 2 * p(1, 0) + p(1, 1)) - (p(-1, -1) + 2 * p(-1, 0) + p(-1, 1))
                let index = row * width + column
                (dx[index], dy[index], magnitude[index]) = (gx, gy, abs(gx) + abs(gy))
            }
        }
        func magnitudeAt(_ row: Int, _ column: Int) -> Int {
            row < 0 || row >= height || column < 0 || column >= width ? 0 : magnitude[row * width + column]
        }
        // 0: candidate, 1: not an edge, 2: edge.
        var labels = [UInt8](repeating: 1, count: width * height)
        var stack: [Int] = []
        let shift = 15, tangent22 = Int(0.4142135623730950488 * Double(1 << shift) + 0.5)
        for row in 0 ..< height {
            for column in 0 ..< width {
                let index = row * width + column
                let m = magnitude[index]
                guard m > low else { continue }
                let xs = abs(dx[index]), ys = abs(dy[index]) << shift
                let tg22x = xs * tangent22
                let isMaximum: Bool
                if ys < tg22x {
                    isMaximum = m > magnitudeAt(row, column - 1) && m >= magnitudeAt(row, column + 1)
                } else if ys > tg22x + (xs << (shift + 1)) {
                    isMaximum = m > magnitudeAt(row - 1, column) && m >= magnitudeAt(row + 1, column)
                } else {
                    let sign = (dx[index] ^ dy[index]) < 0 ? -1 : 1
                    isMaximum = m > magnitudeAt(row - 1, column - sign) && m > magnitudeAt(row + 1, column + sign)
                }
                guard isMaximum else { continue }
                if m > high {
                    labels[index] = 2
                    stack.append(index)
                } else {
                    labels[index] = 0
                }
            }
        }
        while let index = stack.popLast() {
            let (row, column) = (index / width, index % width)
            for r in max(row - 1, 0) ... min(row + 1, height - 1) {
                for c in max(column - 1, 0) ... min(column + 1, width - 1) where labels[r * width + c] == 0 {
                    labels[r * width + c] = 2
                    stack.append(r * width + c)
                }
            }
        }
        return Gray8(width: width, height: height, values: labels.map { $0 == 2 ? 255 : 0 })
    }

    /// OpenCV's `distanceTransform(255 − self, DIST_L2, 5)`: for each pixel the 5×5 chamfer distance (steps 1,
    /// 1.4 and 2.1969) to the nearest pixel equal to `invertedFrom` here (zero after the inversion); beyond the image is far.
    func distanceToZero(invertedFrom zero: UInt8) -> [Float] {
        let far = Float(1e9)
        var distance = values.map { $0 == zero ? Float(0) : far }
        let (a, b, c): (Float, Float, Float) = (1, 1.4, 2.1969)
        let forward: [(Int, Int, Float)] = [(-2, -1, c), (-2, 1, c), (-1, -2, c), (-1, -1, b), (-1, 0, a), (-1, 1, b), (-1, 2, c), (0, -1, a)]
        func pass(_ rows: [Int], _ columns: [Int], _ sign: Int) {
            for row in rows {
                for column in columns {
                    var best = distance[row * width + column]
                    for (r, q, step) in forward {
                        let (y, x) = (row + sign * r, column + sign * q)
                        guard y >= 0, y < height, x >= 0, x < width else { continue }
                        best = min(best, distance[y * width + x] + step)
                    }
                    distance[row * width + column] = best
                }
            }
        }
        pass(Array(0 ..< height), Array(0 ..< width), 1)
        pass(Array((0 ..< height).reversed()), Array((0 ..< width).reversed()), -1)
        return distance
    }

    /// OpenCV's `blur(·, (3, 3))`: the 3×3 mean, edges reflected without repeat.
    static func boxBlurred(_ values: [Float], width: Int, height: Int) -> [Float] {
        var result = values
        for row in 0 ..< height {
            for column in 0 ..< width {
                var sum: Float = 0
                for r in -1 ... 1 {
                    for q in -1 ... 1 {
                        sum += values[Boundary.reflect101.index(row + r, count: height) * width + Boundary.reflect101.index(column + q, count: width)]
                    }
                }
                result[row * width + column] = sum / 9
            }
        }
        return result
    }

    /// OpenCV's `equalizeHist`.
    func equalised() -> Gray8 {
        var histogram = [Int](repeating: 0, count: 256)
        for value in values { histogram[Int(value)] += 1 }
        guard var first = histogram.firstIndex(where: { $0 > 0 }) else { return self }
        let total = values.count
        if histogram[first] == total { return Gray8(width: width, height: height, values: values.map { _ in UInt8(first) }) }
        let scale = Float(255) / Float(total - histogram[first])
        var table = [UInt8](repeating: 0, count: 256)
        var sum = 0
        first += 1
        for value in first ..< 256 {
            sum += histogram[value]
            table[value] = UInt8(min(max((Float(sum) * scale).rounded(.toNearestOrEven), 0), 255))
        }
        return Gray8(width: width, height: height, values: values.map { table[Int($0)] })
    }

    /// OpenCV's `filter2D(·, CV_8U, kernel)` for a 3×3 integer kernel, saturated to 0...255.
    func filtered(_ kernel: [[Int]]) -> Gray8 {
        var result = values
        for row in 0 ..< height {
            for column in 0 ..< width {
                var sum = 0
                for r in -1 ... 1 {
                    for q in -1 ... 1 { sum += kernel[r + 1][q + 1] * at(row + r, column + q, .reflect101) }
                }
                result[row * width + column] = UInt8(min(max(sum, 0), 255))
            }
        }
        return Gray8(width: width, height: height, values: result)
    }
}
