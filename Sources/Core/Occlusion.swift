// Occlusion sensitivity: what the model looks at. A grey patch slides over the image the model sees, or its SLIC
// superpixels are greyed out one at a time; every occluded copy is classified (in batches), and the drop of the chosen
// class's probability for each region becomes a heatmap, drawn over the image with a colour scale. Rendering to a
// file is the caller's.
import Engine
import Foundation
import Imaging
import Models

/// Where hiding part of the image lowers the model's confidence in a class: one drop per region, the regions being
/// the positions of a sliding square or the superpixels of the image.
public struct OcclusionMap: Sendable {
    /// What was greyed out, one region at a time.
    public enum Regions: Sendable {
        /// A square of side `patch` every `stride` input pixels: `columns` positions across, `rows` down, row-major.
        case patches(patch: Int, stride: Int, columns: Int, rows: Int)
        /// One segment index per input pixel (row-major, width × height), segments numbered 0..<count.
        case superpixels(segments: [Int32], count: Int)

        /// How many regions there are (patch positions or segments).
        public var count: Int {
            switch self {
            case let .patches(_, _, columns, rows): columns * rows
            case let .superpixels(_, count): count
            }
        }

        /// The pixels (indices into width × height) that region `index` covers.
        func pixels(of index: Int, width: Int, height: Int) -> [Int] {
            precondition((0..<count).contains(index), "region \(index) is not one of \(count)")
            switch self {
            case let .patches(patch, stride, columns, _):
                let left = (index % columns) * stride, top = (index / columns) * stride
                return (top..<min(top + patch, height)).flatMap { y in (y * width + left)..<(y * width + min(left + patch, width)) }
            case let .superpixels(segments, _):
                let segment = Int32(index)
                return segments.indices.filter { segments[$0] == segment }
            }
        }
    }

    public let classIndex: Int
    public let label: String
    /// The class's probability on the whole image.
    public let baseProbability: Double
    public let regions: Regions
    /// Per region (patch position row-major, or segment index): base probability minus the probability with that
    /// region grey. Positive: that part of the image supported the class.
    public let drops: [Double]
    /// The model's input size.
    public let width: Int
    public let height: Int

    /// The input pixels (indices into width × height) that region `index` covers.
    public func pixels(of index: Int) -> [Int] {
        regions.pixels(of: index, width: width, height: height)
    }

    /// The smallest rectangle of input pixels holding region `index`.
    public func bounds(of index: Int) -> PixelRectangle {
        let pixels = pixels(of: index)
        var left = width, top = height, right = 0, bottom = 0
        for pixel in pixels {
            let x = pixel % width, y = pixel / width
            left = min(left, x)
            right = max(right, x + 1)
            top = min(top, y)
            bottom = max(bottom, y + 1)
        }
        return pixels.isEmpty ? PixelRectangle(x: 0, y: 0, width: 0, height: 0)
                              : PixelRectangle(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Per input pixel (row-major, width × height): for patches the mean drop of every patch that covers it, for
    /// superpixels the drop of its segment.
    public var heat: [Double] {
        switch regions {
        case .patches:
            var sum = [Double](repeating: 0, count: width * height)
            var count = [Int](repeating: 0, count: width * height)
            for (index, drop) in drops.enumerated() {
                for pixel in pixels(of: index) {
                    sum[pixel] += drop
                    count[pixel] += 1
                }
            }
            return zip(sum, count).map { $1 == 0 ? 0 : $0 / Double($1) }
        case let .superpixels(segments, _):
            return segments.map { drops[Int($0)] }
        }
    }

    /// `image` (the model's input, width × height) with the heat drawn over it, the largest drop opaque red and
    /// no drop transparent, and a colour scale along the right edge (top: the largest drop, bottom: none).
    /// Superpixels also get thin dark boundaries, so the regions show.
    public func overlay(on image: RGBImage) -> RGBImage {
        precondition(image.width == width && image.height == height, "the overlay goes on the model's input image")
        let heat = heat
        var boundary = [Bool](repeating: false, count: width * height)
        if case let .superpixels(segments, _) = regions {
            for y in 0..<height {
                for x in 0..<width {
                    let index = y * width + x
                    boundary[index] = (x + 1 < width && segments[index + 1] != segments[index])
                        || (y + 1 < height && segments[index + width] != segments[index])
                }
            }
        }
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
                    var value = base * (1 - alpha) + colour[channel] * alpha
                    if boundary[y * width + x] { value *= 0.45 }
                    pixels[(y * outputWidth + x) * 3 + channel] = UInt8(max(0, min(255, value.rounded())))
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
    /// (default: the model's first choice). With `maximumPositions`, the stride is raised as far as needed to try at most
    /// that many positions (the map says which stride ran). `progress` hears (positions done, positions) after each batch.
    public func occlusion(of image: RGBImage, classIndex: Int? = nil, patch: Int? = nil, stride: Int? = nil, maximumPositions: Int? = nil,
                          batchSize: Int = 8, progress: (Int, Int) -> Void = { _, _ in }) throws -> (map: OcclusionMap, input: RGBImage) {
        let input = try model.preprocessing.inputImage(from: image)
        let (defaultPatch, defaultStride) = Self.defaultOcclusion(side: min(input.width, input.height))
        let patch = min(patch ?? defaultPatch, input.width, input.height)
        func positions(_ stride: Int) -> (columns: Int, rows: Int) { ((input.width - patch) / stride + 1, (input.height - patch) / stride + 1) }
        var stride = max(stride ?? defaultStride, 1)
        while let maximumPositions, positions(stride).columns * positions(stride).rows > max(maximumPositions, 1) { stride += 1 }
        let regions = OcclusionMap.Regions.patches(patch: patch, stride: stride, columns: positions(stride).columns, rows: positions(stride).rows)
        return (try occlusionMap(of: input, regions: regions, classIndex: classIndex, batchSize: batchSize, progress: progress), input)
    }

    /// Cuts the image this model sees into about `segments` SLIC superpixels, greys out one at a time and measures
    /// the drop of `classIndex`'s probability (default: the model's first choice). `progress` hears (segments done,
    /// segments) after each batch.
    public func superpixelOcclusion(of image: RGBImage, classIndex: Int? = nil, segments: Int = 50, batchSize: Int = 8,
                                    progress: (Int, Int) -> Void = { _, _ in }) throws -> (map: OcclusionMap, input: RGBImage) {
        let input = try model.preprocessing.inputImage(from: image)
        let superpixels = Superpixels(segmenting: input, count: segments)
        let regions = OcclusionMap.Regions.superpixels(segments: superpixels.segments, count: superpixels.count)
        return (try occlusionMap(of: input, regions: regions, classIndex: classIndex, batchSize: batchSize, progress: progress), input)
    }

    /// Classifies `input` (the model's input image) whole, then with each region grey in turn, `batchSize` copies at
    /// a time.
    private func occlusionMap(of input: RGBImage, regions: OcclusionMap.Regions, classIndex: Int?, batchSize: Int,
                              progress: (Int, Int) -> Void) throws -> OcclusionMap {
        precondition(batchSize >= 1, "batches need at least one image, got \(batchSize)")
        let exact = model.preprocessing.withoutResizing()
        let whole = try exact.tensor(from: input)
        let base = try classify(Tensor(shape: [1] + whole.shape, scalars: whole.scalars), top: 1)[0]
        let target = classIndex ?? base.predictions[0].index
        precondition(base.probabilities.indices.contains(target), "class \(target) is not an output of \(model.name)")
        let regionCount = regions.count
        var drops: [Double] = []
        drops.reserveCapacity(regionCount)
        var start = 0
        while start < regionCount {
            let count = min(batchSize, regionCount - start)
            var batch = Tensor(zeros: [count] + exact.tensorShape)
            for offset in 0..<count {
                let pixels = regions.pixels(of: start + offset, width: input.width, height: input.height)
                try exact.write(Self.greyed(input, pixels: pixels), into: &batch, at: offset)
            }
            drops += try classify(batch, top: 0).map { base.probabilities[target] - $0.probabilities[target] }
            start += count
            progress(start, regionCount)
        }
        return OcclusionMap(classIndex: target, label: labels[target].name, baseProbability: base.probabilities[target], regions: regions,
                            drops: drops, width: input.width, height: input.height)
    }

    /// `image` with `pixels` (indices into width × height) mid-grey (128).
    static func greyed(_ image: RGBImage, pixels: [Int]) -> RGBImage {
        var values = image.pixels
        for pixel in pixels {
            values[3 * pixel] = 128
            values[3 * pixel + 1] = 128
            values[3 * pixel + 2] = 128
        }
        return RGBImage(width: image.width, height: image.height, pixels: values)
    }
}
