// Words and numbers drawn into pictures (a heatmap's scale): one line of text rendered by libvips through Pango,
// kept as a coverage mask and blended onto an RGBImage in any colour.
import Foundation
import VipsShim

/// One rendered line of text: per pixel, how much ink covers it (0–255), row-major.
public struct TextMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let coverage: [UInt8]

    /// `text` in the default sans-serif face, `points` tall at 96 dpi (10 points is about 13 px).
    public init(_ text: String, points: Int = 10) throws(ImageError) {
        try VipsLibrary.started.get()
        let markup = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        let failure = { (reason: String) in ImageError.libraryUnavailable(reason: "it cannot draw text: \(reason)") }
        let image = try VipsImage.make(failing: failure) { vs_text(markup, "sans \(max(1, points))", 96, $0) }
        guard image.bands == 1 else { throw failure("\(image.bands) bands where a text mask has 1") }
        (width, height, coverage) = (image.width, image.height, try image.pixels(failing: failure))
    }
}

extension RGBImage {
    /// This image with `mask` blended on in `colour`, its top-left corner at (x, y); what falls outside is cut off.
    public func drawing(_ mask: TextMask, x: Int, y: Int, colour: [UInt8]) -> RGBImage {
        var pixels = self.pixels
        for row in 0..<mask.height where (0..<height).contains(y + row) {
            for column in 0..<mask.width where (0..<width).contains(x + column) {
                let ink = Double(mask.coverage[row * mask.width + column]) / 255
                guard ink > 0 else { continue }
                let at = ((y + row) * width + x + column) * 3
                for channel in 0..<3 {
                    pixels[at + channel] = UInt8((Double(pixels[at + channel]) * (1 - ink) + Double(colour[channel]) * ink).rounded())
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
