// ImageNet-C's blurs: defocus (an anti-aliased disk, OpenCV's filter2D), glass (blur, local pixel shuffling, blur),
// motion (shifted copies along a random direction), zoom (the mean of centre zooms) and Gaussian blur.
import Engine
import Foundation
import Imaging

extension CorruptionRun {
    /// Each channel correlated with a disk of `radius` pixels, anti-aliased by OpenCV's GaussianBlur of σ `aliasBlur`.
    func defocusBlur(radius: Int, aliasBlur: Double) -> RGBImage {
        let kernel = Self.disk(radius: radius, aliasBlur: aliasBlur)
        let pixels = FloatImage(image, dividedBy: 255)
        return pixels.correlated(with: kernel, boundary: .reflect101).map { min(max($0, 0), 1) }.rgbImage()
    }

    /// scikit-image's Gaussian blur of σ `sigma`, each pixel then replaced `iterations` times by a neighbour up to
    /// `reach` pixels away (the reference meant to swap the two, but NumPy's views make its swap a copy; this copies
    /// too), then blurred again.
    mutating func glassBlur(sigma: Double, reach: Int, iterations: Int) -> RGBImage {
        let blurred = FloatImage(image, dividedBy: 255).gaussianFiltered(sigma: sigma)
        var bytes = blurred.map { Double(UInt8(min(max($0 * 255, 0), 255))) }
        let (width, height) = (image.width, image.height)
        for _ in 0 ..< iterations {
            for row in Swift.stride(from: height - reach, to: reach, by: -1) {
                for column in Swift.stride(from: width - reach, to: reach, by: -1) {
                    let dx = random.integer(-reach, reach), dy = random.integer(-reach, reach)
                    let from = bytes.index(row + dy, column + dx), to = bytes.index(row, column)
                    bytes.values[to] = bytes.values[from]
                    bytes.values[to + 1] = bytes.values[from + 1]
                    bytes.values[to + 2] = bytes.values[from + 2]
                }
            }
        }
        return bytes.map { $0 / 255 }.gaussianFiltered(sigma: sigma).map { min(max($0, 0), 1) }.rgbImage()
    }

    /// The reference's motion blur: shifted copies of the image along a direction drawn in ±45°, weighted by a
    /// half-Gaussian of σ `sigma` over 2 · radius + 1 steps.
    mutating func motionBlur(radius: Int, sigma: Double) -> RGBImage {
        let angle = random.uniform(-45, 45)
        return FloatImage(image, dividedBy: 1).motionBlurred(radius: radius, sigma: sigma, degrees: angle)
            .map { min(max($0, 0), 255) }.rgbImage(times: 1)
    }

    /// The mean of the image and its centre zoomed by each factor, in single precision as the reference computes it.
    func zoomBlur(_ factors: [Double]) -> RGBImage {
        let pixels = FloatImage(image, dividedBy: 255).asFloat32()
        var sum = [Float](repeating: 0, count: pixels.values.count)
        for factor in factors {
            let zoomed = pixels.clippedZoom(by: factor).cropped(rows: 0 ..< image.height, columns: 0 ..< image.width)
            for index in sum.indices { sum[index] += Float(zoomed.values[index]) }
        }
        let count = Float(factors.count + 1)
        let values = zip(pixels.values, sum).map { original, zoomed in
            Double(min(max((Float(original) + zoomed) / count, 0), 1) * 255)
        }
        return FloatImage(width: image.width, height: image.height, channels: 3, values: values).rgbImage(times: 1)
    }

    /// scikit-image's `gaussian` of σ `sigma` on every channel.
    func gaussianBlur(_ sigma: Double) -> RGBImage {
        FloatImage(image, dividedBy: 255).gaussianFiltered(sigma: sigma).map { min(max($0, 0), 1) }.rgbImage()
    }

    /// The reference's `disk`: a binary disk on a grid of ±max(8, radius), normalised in single precision, then
    /// blurred by OpenCV's GaussianBlur (3×3, or 5×5 beyond radius 8; σ `aliasBlur`; edges reflected without repeat).
    static func disk(radius: Int, aliasBlur: Double) -> FloatImage {
        let half = max(8, radius)
        let side = 2 * half + 1
        var disk = FloatImage(width: side, height: side)
        for row in 0 ..< side {
            for column in 0 ..< side where (row - half) * (row - half) + (column - half) * (column - half) <= radius * radius {
                disk.values[row * side + column] = 1
            }
        }
        let area = Float(disk.values.reduce(0, +))
        disk = disk.map { Double(Float($0) / area) }
        let taps = radius <= 8 ? 3 : 5
        // OpenCV's getGaussianKernel for σ > 0, stored in single precision.
        let centre = Double(taps - 1) / 2
        let weights = (0 ..< taps).map { exp(-(Double($0) - centre) * (Double($0) - centre) / (2 * aliasBlur * aliasBlur)) }
        let total = weights.reduce(0, +)
        let kernel = weights.map { Double(Float($0 / total)) }
        let halfKernel = Array(kernel[(taps / 2)...])
        return disk.correlatedSymmetric(halfKernel: halfKernel, alongRows: false, boundary: .reflect101)
            .correlatedSymmetric(halfKernel: halfKernel, alongRows: true, boundary: .reflect101).asFloat32()
    }
}

extension FloatImage {
    /// OpenCV's `filter2D` of every channel with `kernel` (a single-channel odd square, anchored at its centre;
    /// a correlation, as OpenCV's is).
    func correlated(with kernel: FloatImage, boundary: Boundary) -> FloatImage {
        let half = kernel.width / 2
        var result = FloatImage(width: width, height: height, channels: channels)
        let rowIndices = (-half ..< height + half).map { boundary.index($0, count: height) }
        let columnIndices = (-half ..< width + half).map { boundary.index($0, count: width) }
        values.withUnsafeBufferPointer { input in
            kernel.values.withUnsafeBufferPointer { weights in
                result.values.withUnsafeMutableBufferPointer { output in
                    for row in 0 ..< height {
                        for column in 0 ..< width {
                            for channel in 0 ..< channels {
                                var sum = 0.0
                                for kernelRow in 0 ..< kernel.height {
                                    let sourceRow = rowIndices[row + kernelRow] * width
                                    let weightRow = kernelRow * kernel.width
                                    for kernelColumn in 0 ..< kernel.width {
                                        let source = (sourceRow + columnIndices[column + kernelColumn]) * channels + channel
                                        sum += input[source] * weights[weightRow + kernelColumn]
                                    }
                                }
                                output[(row * width + column) * channels + channel] = sum
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The reference's `_motion_blur`: the sum over i < 2 · radius + 1 of copies shifted i steps along `degrees`
    /// (rounded as it rounds, edges repeated), weighted by exp(−i²/2σ²) normalised; it stops when a shift leaves the image.
    func motionBlurred(radius: Int, sigma: Double, degrees: Double) -> FloatImage {
        let steps = 2 * radius + 1
        let weights = (0 ..< steps).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) / ((2 * Double.pi).squareRoot() * sigma) }
        let total = weights.reduce(0, +)
        let radians = degrees * Double.pi / 180
        let point = (Double(steps) * sin(radians), Double(steps) * cos(radians))
        let length = (point.0 * point.0 + point.1 * point.1).squareRoot()
        var result = FloatImage(width: width, height: height, channels: channels)
        for step in 0 ..< steps {
            let dy = -Int((Double(step) * point.0 / length - 0.5).rounded(.up))
            let dx = -Int((Double(step) * point.1 / length - 0.5).rounded(.up))
            if abs(dy) >= height || abs(dx) >= width { break }
            let weight = weights[step] / total
            for row in 0 ..< height {
                let sourceRow = min(max(row - dy, 0), height - 1)
                for column in 0 ..< width {
                    let source = index(sourceRow, min(max(column - dx, 0), width - 1)), target = index(row, column)
                    for channel in 0 ..< channels { result.values[target + channel] += weight * values[source + channel] }
                }
            }
        }
        return result
    }
}
