// Families that degrade a picture the way cameras and the web do: defocus and motion blur, sensor noise, JPEG
// compression, pixelation. Lengths and σ are given at 224 px and scaled to the image.
import Engine
import Foundation
import Imaging
import VipsShim

extension Transformation {
    /// Gaussian blur of `sigma` pixels at 224 px.
    func blurred(sigma: Double) throws(TransformError) -> RGBImage {
        let deviation = length(sigma)
        let blurred = try vips().then(failing: failure) { vs_gaussblur($0, deviation, $1) }
        return try rounded(blurred).rgbImage(failing: failure)
    }

    /// The mean of a horizontal line of `length` pixels at 224 px (the nearest odd length, at least 3, so it is
    /// centred) around every pixel, the edges extended by copying.
    func motionBlurred(length referenceLength: Double) throws(TransformError) -> RGBImage {
        let taps = max(3, oddLength(referenceLength))
        let kernel = [Double](repeating: 1, count: taps)
        let blurred = try vips().then(failing: failure) { input, output in
            vs_convolve_row(input, kernel, Int32(taps), Double(taps), output)
        }
        return try rounded(blurred).rgbImage(failing: failure)
    }

    /// Independent Gaussian noise of standard deviation `sigma` (0...255 units) added to every channel of every
    /// pixel, rounded and clipped. The generator is seeded with `seed` mixed with `sigma`.
    func noisy(sigma: Double, seed: UInt64) -> RGBImage {
        var levelHash = SplitMix64(seed: sigma.bitPattern)
        var generator = SplitMix64(seed: seed ^ levelHash.next())
        let pixels = image.pixels.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: input.count) { output, count in
                // Box–Muller: two uniform numbers give two independent standard normal ones.
                for index in stride(from: 0, to: input.count, by: 2) {
                    let radius = sigma * (-2 * log(generator.nextUnitOpenBelow())).squareRoot()
                    let angle = 2 * Double.pi * generator.nextUnit()
                    output[index] = Self.clipped(Double(input[index]) + radius * cos(angle))
                    if index + 1 < input.count {
                        output[index + 1] = Self.clipped(Double(input[index + 1]) + radius * sin(angle))
                    }
                }
                count = input.count
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// Saved as a JPEG of `quality` (libjpeg's 1...100, libvips' default 4:2:0 chroma subsampling below 90) and decoded back.
    func jpegCompressed(quality: Int) throws(TransformError) -> RGBImage {
        do {
            return try ImageDecoder().decode(image.jpegData(quality: quality))
        } catch {
            throw failure(error.description)
        }
    }

    /// Square blocks of `block` pixels at 224 px (at least 2), from the top-left corner, each replaced by its
    /// mean colour; blocks at the right and bottom edges may be narrower.
    func pixelated(block referenceBlock: Double) -> RGBImage {
        let block = max(2, Int(length(referenceBlock).rounded()))
        let (width, height) = (image.width, image.height)
        let pixels = image.pixels.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: input.count) { output, count in
                for top in stride(from: 0, to: height, by: block) {
                    let rows = top ..< min(top + block, height)
                    for left in stride(from: 0, to: width, by: block) {
                        let columns = left ..< min(left + block, width)
                        var sums = (0, 0, 0)
                        for row in rows {
                            for column in columns {
                                let pixel = (row * width + column) * 3
                                sums.0 += Int(input[pixel])
                                sums.1 += Int(input[pixel + 1])
                                sums.2 += Int(input[pixel + 2])
                            }
                        }
                        let area = rows.count * columns.count
                        // Means rounded to nearest.
                        let red = UInt8((sums.0 * 2 + area) / (area * 2))
                        let green = UInt8((sums.1 * 2 + area) / (area * 2))
                        let blue = UInt8((sums.2 * 2 + area) / (area * 2))
                        for row in rows {
                            for column in columns {
                                let pixel = (row * width + column) * 3
                                output[pixel] = red
                                output[pixel + 1] = green
                                output[pixel + 2] = blue
                            }
                        }
                    }
                }
                count = input.count
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func clipped(_ value: Double) -> UInt8 {
        UInt8(min(max(value.rounded(), 0), 255))
    }
}
