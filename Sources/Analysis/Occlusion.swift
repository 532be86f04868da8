// Occlusion sensitivity: a grey patch slides over the image the model sees (or SLIC superpixels are greyed one at a
// time), each occluded copy is classified in batches, and each region's drop in the class's probability becomes a
// heatmap drawn over the image with a colour scale. Writing files is the caller's.
import Engine
import Foundation
import Imaging
import Inference
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

    public init(classIndex: Int, label: String, baseProbability: Double, regions: Regions, drops: [Double], width: Int, height: Int) {
        (self.classIndex, self.label, self.baseProbability, self.regions, self.drops, self.width, self.height)
            = (classIndex, label, baseProbability, regions, drops, width, height)
    }

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

    /// The largest drop of any region, in probability (0–1); 0 when hiding any part only raises the class.
    public var maxDrop: Double { max(0, drops.max() ?? 0) }

    /// The colour scale: from no drop to `maximum` (a round number of probability points at or above the largest
    /// drop), or muted when no region moves the probability by a noticeable amount.
    public var scale: HeatScale { HeatScale(maxDrop: maxDrop) }

    /// What the picture shows, in one sentence fit for a caption, a terminal and the JSON answer.
    public var caption: String {
        let scale = scale
        let largest = HeatScale.points(maxDrop)
        if scale.isMuted {
            return "Hiding any single part changes '\(label)' (\(Percent.text(baseProbability))) by less than "
                + "\(HeatScale.points(HeatScale.noticeableDrop)) point: the largest drop is \(largest) points, so nothing is coloured."
        }
        return "Yellow: hiding that part lowers '\(label)' (\(Percent.text(baseProbability))) by up to \(largest) points; "
            + "uncoloured: hiding it changes nothing. The scale runs from 0 to \(HeatScale.points(scale.maximum)) points."
    }

    /// The longer side of the rendered overlay: at least 512 px, so a 224-pixel input is not a postage stamp.
    public static let overlayLongerSide = 512

    /// `image` (the model's input, width × height) enlarged to `overlayLongerSide`, with the heat drawn over it on the
    /// absolute `scale` (colour and opacity grow with the drop; no drop leaves the image as it is), and on the right a
    /// colour bar labelled in probability points from 0 to the scale's maximum. Under a muted scale the image is greyed
    /// and nothing is coloured. Superpixels also get thin dark boundaries, so the regions show.
    public func overlay(on image: RGBImage) throws(ImageError) -> RGBImage {
        guard image.width == width, image.height == height else {
            throw ImageError.sizeMismatch(width: image.width, height: image.height, expectedWidth: width, expectedHeight: height)
        }
        let factor = max(1, Double(Self.overlayLongerSide) / Double(max(width, height)))
        let outWidth = Int((Double(width) * factor).rounded()), outHeight = Int((Double(height) * factor).rounded())
        let base = factor > 1 ? image.resized(width: outWidth, height: outHeight, filter: .bilinear) : image
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
        // What is laid over each input pixel, worked out once per input pixel rather than per output pixel.
        let scale = scale
        var colours = [Double](repeating: 0, count: width * height * 3)
        var alphas = [Double](repeating: 0, count: width * height)
        if !scale.isMuted {
            for (index, drop) in heat.enumerated() {
                let (colour, alpha) = HeatScale.tint(scale.strength(of: drop))
                for channel in 0..<3 { colours[index * 3 + channel] = colour[channel] }
                alphas[index] = alpha
            }
        }
        var picture = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for y in 0..<outHeight {
            let sourceY = min(height - 1, Int(Double(y) / factor))
            for x in 0..<outWidth {
                let source = sourceY * width + min(width - 1, Int(Double(x) / factor))
                let at = (y * outWidth + x) * 3
                let grey = 0.299 * Double(base.pixels[at]) + 0.587 * Double(base.pixels[at + 1]) + 0.114 * Double(base.pixels[at + 2])
                for channel in 0..<3 {
                    var blended = scale.isMuted ? 128 + (grey - 128) * 0.6
                        : Double(base.pixels[at + channel]) * (1 - alphas[source]) + colours[source * 3 + channel] * alphas[source]
                    if boundary[source] { blended *= 0.45 }
                    picture[at + channel] = UInt8(max(0, min(255, blended.rounded())))
                }
            }
        }
        return try scale.legend(beside: RGBImage(width: outWidth, height: outHeight, pixels: picture))
    }
}

/// The colour scale of a heatmap, in absolute probability points: from no drop to a round number of points, labelled.
public struct HeatScale: Sendable, Equatable {
    /// Drops below this (1 point) are not worth colouring: the map is drawn muted instead.
    public static let noticeableDrop = 0.01
    /// The top of the scale as a probability (0–1): 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten points, the
    /// first at or above the largest drop; 1 point when muted.
    public let maximum: Double
    /// True when no region's drop reaches `noticeableDrop`.
    public let isMuted: Bool

    public init(maxDrop: Double) {
        isMuted = !(maxDrop >= Self.noticeableDrop)
        guard !isMuted else {
            maximum = Self.noticeableDrop
            return
        }
        let points = maxDrop * 100
        let decade = pow(10, (log10(points)).rounded(.down))
        let step = [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].first { $0 * decade >= points * (1 - 1e-9) } ?? 10
        maximum = min(1, step * decade / 100)
    }

    /// The width of the legend panel right of the picture.
    public static let panelWidth = 100

    /// 0 (no drop, or a rise) to 1 (the scale's maximum) for a drop.
    public func strength(of drop: Double) -> Double {
        isMuted ? 0 : max(0, min(1, drop / maximum))
    }

    /// `rgb` with the scale's colour for `strength` over it: the colour's opacity grows with the strength, so
    /// no drop leaves the picture as it is.
    static func blend(_ rgb: [Double], strength: Double) -> [Double] {
        let (colour, alpha) = tint(strength)
        return (0..<3).map { rgb[$0] * (1 - alpha) + colour[$0] * alpha }
    }

    /// The colour laid over a pixel of `strength`, and its opacity.
    static func tint(_ strength: Double) -> (colour: [Double], alpha: Double) {
        (colour(strength), 0.75 * strength)
    }

    /// Dark blue (0) through purple and orange to yellow (1).
    static func colour(_ strength: Double) -> [Double] {
        let position = max(0, min(1, strength)) * Double(stops.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, stops.count - 1)
        let fraction = position - Double(lower)
        return (0..<3).map { stops[lower][$0] * (1 - fraction) + stops[upper][$0] * fraction }
    }

    private static let stops: [[Double]] = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]]

    /// The colour bar's labels in points and where they stand on it (0: bottom, 1: top): the maximum, half and 0, or
    /// "< 1" in the middle of a muted bar.
    public var labels: [(text: String, position: Double)] {
        isMuted ? [("< 1", 0.5)] : [(Self.points(maximum), 1), (Self.points(maximum / 2), 0.5), ("0", 0)]
    }

    /// "23.4", "0.04", "100": probability points with the digits that matter.
    public static func points(_ probability: Double) -> String {
        let points = probability * 100
        if points == 0 { return "0" }
        guard points >= 0.1 else { return String(format: "%.1g", points) }
        // One decimal from 10 points up, two below; trailing zeros (and a bare point) dropped.
        return String(format: points >= 10 ? "%.1f" : "%.2f", points).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }

    /// `picture` with the colour bar to its right on a white panel: drawn over mid-grey the way the heat is drawn over
    /// the image, labelled "0" at the bottom, half and the maximum in points, and "pts drop" on top. Muted: a grey bar
    /// labelled "under 1 point".
    func legend(beside picture: RGBImage) throws(ImageError) -> RGBImage {
        let barWidth = 18, margin = 10, panelWidth = Self.panelWidth
        let width = picture.width + panelWidth, height = picture.height
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<picture.width {
                for channel in 0..<3 { pixels[(y * width + x) * 3 + channel] = picture.pixels[(y * picture.width + x) * 3 + channel] }
            }
        }
        let title = try TextMask("drop, pts", points: 12)
        let top = margin + title.height + 14, bottom = height - margin - 8
        let barLeft = picture.width + margin
        for y in top...max(top, bottom) {
            let strength = isMuted ? 0 : 1 - Double(y - top) / Double(max(1, bottom - top))
            let colour = Self.blend([128, 128, 128], strength: strength)
            for x in barLeft..<(barLeft + barWidth) {
                for channel in 0..<3 { pixels[(y * width + x) * 3 + channel] = UInt8(colour[channel].rounded()) }
            }
        }
        var drawn = RGBImage(width: width, height: height, pixels: pixels)
        let ink: [UInt8] = [30, 30, 30]
        drawn = drawn.drawing(title, x: picture.width + 4, y: margin, colour: ink)
        for (text, position) in labels {
            let mask = try TextMask(text, points: 12)
            let centre = top + Int(Double(bottom - top) * (1 - position))
            drawn = drawn.drawing(mask, x: barLeft + barWidth + 5, y: min(height - mask.height, max(0, centre - mask.height / 2)), colour: ink)
        }
        return drawn
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
