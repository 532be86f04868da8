// The background family: when the border of a picture is near-uniform (a studio or sky backdrop), the region of
// that colour connected to the border is repainted. Not segmentation: a textured background is refused.
import Imaging

extension TransformFamily {
    /// The background family's test as a number, 0–1: the fraction of the image's border ring (the pixels at most
    /// `ring - 1` from an edge, ring = 3% of the shorter side rounded, at least 2, at most half the shorter side
    /// rounded up) whose RGB Euclidean distance (0–255 values) to the ring's per-channel median colour is at most 48.
    /// The family applies when it is at least 0.85. A uniform image gives 1.
    public static func borderUniformity(of image: RGBImage) -> Double {
        image.pixels.withUnsafeBufferPointer { BorderRing(of: image, pixels: $0).uniformity }
    }
}

extension Transformation {
    /// The pixels within `Settings.backgroundDistance` of the border's median colour that a 4-connected flood
    /// fill reaches from the matching border pixels, painted `colour`. Throws `notApplicable` when less than
    /// `Settings.uniformBorderFraction` of the border ring matches (`TransformFamily.borderUniformity`).
    func backgroundReplaced(by colour: [UInt8]) throws(TransformError) -> RGBImage {
        let (width, height) = (image.width, image.height)
        return try image.pixels.withUnsafeBufferPointer { input throws(TransformError) in
            let border = BorderRing(of: image, pixels: input)
            guard border.uniformity >= Settings.uniformBorderFraction else {
                let median = border.median
                throw .notApplicable(family: family, reason: """
                    the border is not a plain background: \(Int((border.uniformity * 100).rounded(.down)))% of its outer \
                    \(border.thickness)-pixel ring is within \(Settings.backgroundDistance) of its median colour \
                    (\(median[0]), \(median[1]), \(median[2])), \(Int(Settings.uniformBorderFraction * 100))% is needed
                    """)
            }
            let filled = Self.floodFill(from: border.matching, width: width, height: height) { border.matches($0, in: input) }
            let pixels = filled.withUnsafeBufferPointer { filled in
                [UInt8](unsafeUninitializedCapacity: input.count) { output, count in
                    for pixel in 0 ..< width * height {
                        for channel in 0 ..< 3 {
                            output[pixel * 3 + channel] = filled[pixel] ? colour[channel] : input[pixel * 3 + channel]
                        }
                    }
                    count = input.count
                }
            }
            return RGBImage(width: width, height: height, pixels: pixels)
        }
    }

    /// Which pixels a 4-connected fill reaches from `seeds` (which must match) through pixels that match;
    /// iterative, with an explicit stack.
    private static func floodFill(from seeds: [Int], width: Int, height: Int, through matches: (Int) -> Bool) -> [Bool] {
        var filled = [Bool](repeating: false, count: width * height)
        var stack = [Int]()
        stack.reserveCapacity(width * height / 4)
        filled.withUnsafeMutableBufferPointer { filled in
            for seed in seeds where !filled[seed] {
                filled[seed] = true
                stack.append(seed)
            }
            func visit(_ neighbour: Int) {
                if !filled[neighbour] && matches(neighbour) {
                    filled[neighbour] = true
                    stack.append(neighbour)
                }
            }
            while let pixel = stack.popLast() {
                let (row, column) = pixel.quotientAndRemainder(dividingBy: width)
                if column > 0 { visit(pixel - 1) }
                if column < width - 1 { visit(pixel + 1) }
                if row > 0 { visit(pixel - width) }
                if row < height - 1 { visit(pixel + width) }
            }
        }
        return filled
    }
}

/// One image's border ring as the background family sees it: its pixels, their median colour and which of them
/// are within `Settings.backgroundDistance` of it.
private struct BorderRing {
    /// How many pixels from the edge the ring reaches.
    let thickness: Int
    /// Indices of the ring's pixels, each once, row by row.
    let ring: [Int]
    let median: [Int]
    /// The ring's pixels within `Settings.backgroundDistance` of `median`: the flood fill's seeds.
    let matching: [Int]

    /// The ring of an image whose bytes are `pixels`.
    init(of image: RGBImage, pixels: UnsafeBufferPointer<UInt8>) {
        let (width, height) = (image.width, image.height)
        let thickness = min(max(Settings.minimumRing, Int((Double(min(width, height)) * Settings.borderRingFraction).rounded())),
                            (min(width, height) + 1) / 2)
        let ring = Self.ringPixels(width: width, height: height, ring: thickness)
        let median = Self.medianColour(of: ring, in: pixels)
        self.thickness = thickness
        self.ring = ring
        self.median = median
        matching = ring.filter { Self.pixel($0, in: pixels, isNear: median) }
    }

    var uniformity: Double { Double(matching.count) / Double(ring.count) }

    /// Whether pixel `pixel` (an index, not a byte offset) of `pixels` is within `Settings.backgroundDistance` of
    /// the ring's median colour.
    func matches(_ pixel: Int, in pixels: UnsafeBufferPointer<UInt8>) -> Bool {
        Self.pixel(pixel, in: pixels, isNear: median)
    }

    private static func pixel(_ pixel: Int, in pixels: UnsafeBufferPointer<UInt8>, isNear colour: [Int]) -> Bool {
        let red = Int(pixels[pixel * 3]) - colour[0]
        let green = Int(pixels[pixel * 3 + 1]) - colour[1]
        let blue = Int(pixels[pixel * 3 + 2]) - colour[2]
        return red * red + green * green + blue * blue <= Settings.backgroundDistance * Settings.backgroundDistance
    }

    /// Indices of the pixels at most `ring - 1` from an edge, each once, row by row.
    private static func ringPixels(width: Int, height: Int, ring: Int) -> [Int] {
        var pixels = [Int]()
        for row in 0 ..< height {
            if row < ring || row >= height - ring {
                pixels.append(contentsOf: row * width ..< (row + 1) * width)
            } else {
                pixels.append(contentsOf: row * width ..< row * width + ring)
                pixels.append(contentsOf: (row + 1) * width - ring ..< (row + 1) * width)
            }
        }
        return pixels
    }

    /// The median of each channel over `pixels` (the lower median for an even count), from histograms.
    private static func medianColour(of pixels: [Int], in image: UnsafeBufferPointer<UInt8>) -> [Int] {
        (0 ..< 3).map { channel in
            var histogram = [Int](repeating: 0, count: 256)
            for pixel in pixels {
                histogram[Int(image[pixel * 3 + channel])] += 1
            }
            var (value, seen) = (0, histogram[0])
            while seen * 2 < pixels.count {
                value += 1
                seen += histogram[value]
            }
            return value
        }
    }
}
