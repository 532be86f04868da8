// Families that change values, not positions: grayscale, negative, hue rotation, darker and brighter, lower
// contrast, posterization; and the per-pixel loops the other families share (luma, grey to RGB).
import Imaging
import VipsShim

extension Transformation {
    /// Rec. 601 luma (0.299 R + 0.587 G + 0.114 B, rounded) in all three channels.
    func grayscale() -> RGBImage {
        RGBImage(gray: image.luma(), width: image.width, height: image.height)
    }

    /// 255 − x in every channel.
    func inverted() throws(TransformError) -> RGBImage {
        try vips().then(failing: failure) { vs_invert($0, $1) }.rgbImage(failing: failure)
    }

    /// Hue turned by `degrees` in CIE LCh; lightness and chroma stay, so greys stay grey. The hue is not wrapped
    /// to 0...360: LCh to Lab takes its cosine and sine.
    func hueRotated(degrees: Double) throws(TransformError) -> RGBImage {
        let lch = try vips().then(failing: failure) { vs_srgb_to_lch($0, $1) }
        let turned = try lch.then(failing: failure) { input, output in
            vs_linear(input, [1, 1, 1], [0, 0, degrees], 3, 0, output)
        }
        let srgb = try turned.then(failing: failure) { vs_to_srgb($0, $1) }
        return try rounded(srgb).rgbImage(failing: failure)
    }

    /// Every value times `factor`, rounded and clipped to 255.
    func multiplied(by factor: Double) throws(TransformError) -> RGBImage {
        try linear(vips(), multipliers: [factor], offsets: [0]).rgbImage(failing: failure)
    }

    /// Every channel pulled toward its own mean over the image: mean + factor × (x − mean), as ImageNet-C's
    /// contrast does (a per-channel mean, so a colour cast is kept).
    func contrastReduced(to factor: Double) throws(TransformError) -> RGBImage {
        var sums = [0, 0, 0]
        image.pixels.withUnsafeBufferPointer { pixels in
            for index in stride(from: 0, to: pixels.count, by: 3) {
                sums[0] += Int(pixels[index])
                sums[1] += Int(pixels[index + 1])
                sums[2] += Int(pixels[index + 2])
            }
        }
        let count = Double(image.width * image.height)
        let offsets = sums.map { (1 - factor) * Double($0) / count }
        return try linear(vips(), multipliers: [factor, factor, factor], offsets: offsets).rgbImage(failing: failure)
    }
}

extension RGBImage {
    /// A grey image in three equal channels.
    init(gray: [UInt8], width: Int, height: Int) {
        precondition(gray.count == width * height)
        let pixels = gray.withUnsafeBufferPointer { gray in
            [UInt8](unsafeUninitializedCapacity: gray.count * 3) { output, count in
                for index in 0 ..< gray.count {
                    output[index * 3] = gray[index]
                    output[index * 3 + 1] = gray[index]
                    output[index * 3 + 2] = gray[index]
                }
                count = gray.count * 3
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Rec. 601 luma per pixel, (299 R + 587 G + 114 B) / 1000 rounded to nearest.
    func luma() -> [UInt8] {
        pixels.withUnsafeBufferPointer { pixels in
            [UInt8](unsafeUninitializedCapacity: width * height) { output, count in
                for pixel in 0 ..< width * height {
                    let red = Int(pixels[pixel * 3]), green = Int(pixels[pixel * 3 + 1]), blue = Int(pixels[pixel * 3 + 2])
                    output[pixel] = UInt8((299 * red + 587 * green + 114 * blue + 500) / 1000)
                }
                count = width * height
            }
        }
    }

    /// Every channel quantised to `levels` evenly spaced values from 0 to 255, each value to the nearest.
    func posterized(levels: Int) -> RGBImage {
        precondition(levels >= 2, "posterizing needs at least two levels")
        let steps = levels - 1
        // The nearest step is (x × steps + 127.5) / 255 rounded down, computed in integers.
        let table = (0 ... 255).map { UInt8((Double(($0 * steps * 2 + 255) / 510 * 255) / Double(steps)).rounded()) }
        let pixels = self.pixels.withUnsafeBufferPointer { input in
            table.withUnsafeBufferPointer { table in
                [UInt8](unsafeUninitializedCapacity: input.count) { output, count in
                    for index in 0 ..< input.count {
                        output[index] = table[Int(input[index])]
                    }
                    count = input.count
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
