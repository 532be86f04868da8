// Occlusion sensitivity: what the model looks at. A grey patch slides over the image the model sees; every
// occluded copy is classified (in batches), and the drop of the chosen class's probability at each position
// becomes a heatmap, drawn over the image with a colour scale. Rendering to a file is the caller's.
import Engine
import Foundation
import Imaging
import Models

/// Where hiding part of the image lowers the model's confidence in a class.
public struct OcclusionMap: Sendable {
    public let classIndex: Int
    public let label: String
    /// The class's probability on the whole image.
    public let baseProbability: Double
    /// Side and step of the square grey patch, in input pixels.
    public let patch: Int
    public let stride: Int
    /// Patch positions across and down.
    public let columns: Int
    public let rows: Int
    /// Per position (row-major): base probability minus the probability with the patch there. Positive: that
    /// part of the image supported the class.
    public let drops: [Double]
    /// The model's input size.
    public let width: Int
    public let height: Int

    /// Top-left corner of position `index`, in input pixels.
    public func origin(of index: Int) -> (x: Int, y: Int) {
        ((index % columns) * stride, (index / columns) * stride)
    }

    /// Per input pixel, the mean drop of every patch that covers it (row-major, width × height).
    public var heat: [Double] {
        var sum = [Double](repeating: 0, count: width * height)
        var count = [Int](repeating: 0, count: width * height)
        for (index, drop) in drops.enumerated() {
            let (left, top) = origin(of: index)
            for y in top..<min(top + patch, height) {
                for x in left..<min(left + patch, width) {
                    sum[y * width + x] += drop
                    count[y * width + x] += 1
                }
            }
        }
        return zip(sum, count).map { $1 == 0 ? 0 : $0 / Double($1) }
    }

    /// `image` (the model's input, width × height) with the heat drawn over it, the largest drop opaque red and
    /// no drop transparent, and a colour scale along the right edge (top: the largest drop, bottom: none).
    public func overlay(on image: RGBImage) -> RGBImage {
        precondition(image.width == width && image.height == height, "the overlay goes on the model's input image")
        let heat = heat
        let largest = max(heat.max() ?? 0, 1e-9)
        let scaleWidth = max(6, width / 24)
        let outputWidth = width + scaleWidth + 2
        var pixels = [UInt8](repeating: 255, count: outputWidth * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let strength = max(0, heat[y * width + x]) / largest
                let colour = Self.colour(strength)
                let alpha = 0.65 * strength
                for channel in 0..<3 {
                    let base = Double(image.pixels[(y * width + x) * 3 + channel])
                    pixels[(y * outputWidth + x) * 3 + channel] = UInt8(max(0, min(255, (base * (1 - alpha) + colour[channel] * alpha).rounded())))
                }
            }
            let colour = Self.colour(1 - Double(y) / Double(max(height - 1, 1)))
            for x in (width + 2)..<outputWidth {
                for channel in 0..<3 { pixels[(y * outputWidth + x) * 3 + channel] = UInt8(colour[channel].rounded()) }
            }
        }
        return RGBImage(width: outputWidth, height: height, pixels: pixels)
    }

    /// Dark blue (0) through purple and orange to yellow (1).
    static func colour(_ strength: Double) -> [Double] {
        let stops: [[Double]] = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]]
        let position = max(0, min(1, strength)) * Double(stops.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, stops.count - 1)
        let fraction = position - Double(lower)
        return (0..<3).map { stops[lower][$0] * (1 - fraction) + stops[upper][$0] * fraction }
    }
}

extension Classifier {
    /// The default patch: a fifth of the input side; the default stride gives about 10 × 10 positions.
    public static func defaultOcclusion(side: Int) -> (patch: Int, stride: Int) {
        let patch = max(1, side / 5)
        return (patch, max(1, (side - patch) / 9))
    }

    /// Slides a mid-grey patch over the image this model sees and measures the drop of `classIndex`'s probability
    /// (default: the model's first choice). `progress` hears (positions done, positions) after each batch.
    public func occlusion(of image: RGBImage, classIndex: Int? = nil, patch: Int? = nil, stride: Int? = nil, batchSize: Int = 8,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> (map: OcclusionMap, input: RGBImage) {
        let input = try model.preprocessing.inputImage(from: image)
        let exact = model.preprocessing.withoutResizing()
        let (defaultPatch, defaultStride) = Self.defaultOcclusion(side: min(input.width, input.height))
        let patch = min(patch ?? defaultPatch, input.width, input.height)
        let stride = max(stride ?? defaultStride, 1)
        let columns = (input.width - patch) / stride + 1, rows = (input.height - patch) / stride + 1
        let whole = try exact.tensor(from: input)
        let base = try classify(Tensor(shape: [1] + whole.shape, scalars: whole.scalars), top: 1)[0]
        let target = classIndex ?? base.predictions[0].index
        precondition(base.probabilities.indices.contains(target), "class \(target) is not an output of \(model.name)")
        var drops: [Double] = []
        drops.reserveCapacity(columns * rows)
        let positions = columns * rows
        var start = 0
        while start < positions {
            let count = min(batchSize, positions - start)
            var batch = Tensor(zeros: [count] + exact.tensorShape)
            for offset in 0..<count {
                let index = start + offset
                try exact.write(Self.occluded(input, x: (index % columns) * stride, y: (index / columns) * stride, side: patch),
                                into: &batch, at: offset)
            }
            drops += try classify(batch, top: 0).map { base.probabilities[target] - $0.probabilities[target] }
            start += count
            progress(start, positions)
        }
        let map = OcclusionMap(classIndex: target, label: labels[target].name, baseProbability: base.probabilities[target], patch: patch,
                               stride: stride, columns: columns, rows: rows, drops: drops, width: input.width, height: input.height)
        return (map, input)
    }

    /// `image` with a mid-grey (128) square of `side` at (x, y).
    static func occluded(_ image: RGBImage, x: Int, y: Int, side: Int) -> RGBImage {
        var pixels = image.pixels
        for row in y..<min(y + side, image.height) {
            let start = (row * image.width + x) * 3, end = (row * image.width + min(x + side, image.width)) * 3
            for index in start..<end { pixels[index] = 128 }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }
}
