// The background family: when the border of a picture is near-uniform (a studio or sky backdrop), the region of
// that colour connected to the border is repainted. Not segmentation: a textured background is refused.
import Imaging

extension Transformation {
    /// The pixels within `Settings.backgroundDistance` of the border's median colour that a 4-connected flood
    /// fill reaches from the matching border pixels, painted `colour`. Throws `notApplicable` when less than
    /// `Settings.uniformBorderFraction` of the border ring matches.
    func backgroundReplaced(by colour: [UInt8]) throws(TransformError) -> RGBImage {
        let (width, height) = (image.width, image.height)
        let ring = min(max(Settings.minimumRing, Int((Double(min(width, height)) * Settings.borderRingFraction).rounded())),
                       (min(width, height) + 1) / 2)
        let border = Self.ringPixels(width: width, height: height, ring: ring)
        let limit = Settings.backgroundDistance * Settings.backgroundDistance
        return try image.pixels.withUnsafeBufferPointer { input throws(TransformError) in
            let median = Self.medianColour(of: border, in: input)
            let matches = { (pixel: Int) -> Bool in
                let red = Int(input[pixel * 3]) - median[0]
                let green = Int(input[pixel * 3 + 1]) - median[1]
                let blue = Int(input[pixel * 3 + 2]) - median[2]
                return red * red + green * green + blue * blue <= limit
            }
            let seeds = border.filter(matches)
            let fraction = Double(seeds.count) / Double(border.count)
            guard fraction >= Settings.uniformBorderFraction else {
                throw .notApplicable(family: family, reason: """
                    the border is not a plain background: \(Int((fraction * 100).rounded(.down)))% of its outer \
                    \(ring)-pixel ring is within \(Settings.backgroundDistance) of its median colour \
                    (\(median[0]), \(median[1]), \(median[2])), \(Int(Settings.uniformBorderFraction * 100))% is needed
                    """)
            }
            let filled = Self.floodFill(from: seeds, width: width, height: height, through: matches)
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
            var seen = 0
            return histogram.firstIndex { count in
                seen += count
                return seen * 2 >= pixels.count
            }!
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
