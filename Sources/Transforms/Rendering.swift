// Families that re-draw the picture in another medium: a cartoon (flat colours, dark outlines) and a pencil
// sketch (dark strokes on white). libvips filters; thresholds and blending in Swift.
import Foundation
import Imaging
import VipsShim

extension Transformation {
    /// Median-smoothed (edge-preserving), posterized, with dark outlines where the smoothed luma's Sobel
    /// gradient is strong, thickened by a dilation.
    func cartoon(style: Settings.CartoonStyle) throws(TransformError) -> RGBImage {
        let median = oddLength(style.medianSide)
        let smoothed = try vips().then(failing: failure) {
            vs_rank($0, Int32(median), Int32(median), Int32(median * median / 2), $1)
        }.rgbImage(failing: failure)
        let flat = smoothed.posterized(levels: style.levelsPerChannel)
        // A dilation of the thresholded gradient is the threshold of the gradient's local maximum.
        let outline = oddLength(style.outlineSide)
        var edges = try vips(gray: smoothed.luma()).then(failing: failure) { vs_sobel($0, $1) }
        if outline > 1 {
            edges = try edges.then(failing: failure) { vs_rank($0, Int32(outline), Int32(outline), Int32(outline * outline - 1), $1) }
        }
        let strength = try edges.pixels(failing: failure)
        let colour = Settings.cartoonOutline
        let pixels = flat.pixels.withUnsafeBufferPointer { flat in
            strength.withUnsafeBufferPointer { strength in
                [UInt8](unsafeUninitializedCapacity: flat.count) { output, count in
                    for pixel in 0 ..< strength.count {
                        let isOutline = strength[pixel] > Settings.cartoonEdgeThreshold
                        output[pixel * 3] = isOutline ? colour.red : flat[pixel * 3]
                        output[pixel * 3 + 1] = isOutline ? colour.green : flat[pixel * 3 + 1]
                        output[pixel * 3 + 2] = isOutline ? colour.blue : flat[pixel * 3 + 2]
                    }
                    count = flat.count
                }
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// A colour dodge of the luma by its own blur: 255 × (luma / blurred luma)^γ, clipped at white. A pixel
    /// darker than its surroundings (the dark side of an edge) becomes a stroke; a flat area becomes paper, 255.
    func sketch() throws(TransformError) -> RGBImage {
        let gray = image.luma()
        let sigma = length(Settings.sketchBlurSigma)
        let blur = try rounded(vips(gray: gray).then(failing: failure) { vs_gaussblur($0, sigma, $1) })
        let surroundings = try blur.pixels(failing: failure)
        let paper = gray.withUnsafeBufferPointer { gray in
            surroundings.withUnsafeBufferPointer { surroundings in
                [UInt8](unsafeUninitializedCapacity: gray.count) { output, count in
                    for pixel in 0 ..< gray.count {
                        let (value, around) = (gray[pixel], surroundings[pixel])
                        if value >= around {
                            output[pixel] = 255
                        } else {
                            let ratio = Double(value) / Double(around)
                            output[pixel] = UInt8((255 * pow(ratio, Settings.sketchGamma)).rounded())
                        }
                    }
                    count = gray.count
                }
            }
        }
        return RGBImage(gray: paper, width: image.width, height: image.height)
    }
}
