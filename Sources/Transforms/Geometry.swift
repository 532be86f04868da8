// Families that move pixels: rotation (whole, or cropped to hide the corners), mirroring, centre crop, zoom-out.
// Rotations are clockwise; quarter turns are exact, others resample with libvips' bicubic interpolator.
import Foundation
import Imaging
import VipsShim

extension Transformation {
    /// The whole picture turned clockwise by `degrees`, on its bounding box, empty corners mid-grey.
    func rotated(degrees: Double) throws(TransformError) -> RGBImage {
        if let quarterTurns = Self.quarterTurns(degrees) {
            return try vips().then(failing: failure) { vs_rot($0, Int32(quarterTurns), $1) }.rgbImage(failing: failure)
        }
        let (cosine, sine) = Self.cosineAndSine(degrees: degrees)
        let (width, height) = (Double(image.width), Double(image.height))
        // Bounding box of the turned rectangle; the tolerance keeps a side that is a whole number from growing.
        let boxWidth = Int((width * abs(cosine) + height * abs(sine) - 1e-9).rounded(.up))
        let boxHeight = Int((width * abs(sine) + height * abs(cosine) - 1e-9).rounded(.up))
        return try turned(degrees: degrees, zoom: 1, width: boxWidth, height: boxHeight)
    }

    /// Turned clockwise by `degrees`, then the largest centred rectangle of the input's aspect ratio that lies
    /// inside the turned picture, enlarged back to the input size; one resampling does both.
    func rotatedAndCropped(degrees: Double) throws(TransformError) -> RGBImage {
        let (cosine, sine) = Self.cosineAndSine(degrees: degrees)
        // Half-extents between the centres of the outermost pixels. The output's pixel centres, brought back
        // into the source by `shrink`, must stay `margin` inside the source's outermost centres.
        let halfWidth = Double(image.width - 1) / 2, halfHeight = Double(image.height - 1) / 2
        // Only a half turn, or a quarter turn of a square, maps pixel centres onto pixel centres (no zoom).
        let quarterTurns = Self.quarterTurns(degrees)
        let movesPixelsExactly = quarterTurns == 2 || (quarterTurns != nil && image.width == image.height)
        let margin = movesPixelsExactly ? 0 : Settings.rotateCropMargin
        let shrink = min((halfWidth - margin) / (halfWidth * abs(cosine) + halfHeight * abs(sine)),
                         (halfHeight - margin) / (halfWidth * abs(sine) + halfHeight * abs(cosine)))
        // A picture one pixel wide or high has nothing to crop.
        let zoom = shrink.isFinite && shrink > 0 ? 1 / shrink : 1
        return try turned(degrees: degrees, zoom: zoom, width: image.width, height: image.height)
    }

    /// Mirrored left to right, or upside down.
    func flipped(vertically: Bool) throws(TransformError) -> RGBImage {
        try vips().then(failing: failure) { vs_flip($0, vertically ? 1 : 0, $1) }.rgbImage(failing: failure)
    }

    /// The centred `fraction` of each side, enlarged back to the input size (Pillow's bicubic).
    func croppedToCentre(keeping fraction: Double) -> RGBImage {
        let window = centred(width: Self.side(image.width, fraction), height: Self.side(image.height, fraction))
        return image.cropped(to: window).resized(width: image.width, height: image.height, filter: .bicubic)
    }

    /// Shrunk to `fraction` of each side (Pillow's antialiased bicubic) and centred on a mid-grey canvas of the input size.
    func zoomedOut(to fraction: Double) -> RGBImage {
        let window = centred(width: Self.side(image.width, fraction), height: Self.side(image.height, fraction))
        let small = image.resized(width: window.width, height: window.height, filter: .bicubic)
        var pixels = [UInt8](repeating: Settings.fill, count: image.pixels.count)
        let rowLength = window.width * 3
        for row in 0 ..< window.height {
            let target = ((window.y + row) * image.width + window.x) * 3
            pixels.replaceSubrange(target ..< target + rowLength, with: small.pixels[row * rowLength ..< (row + 1) * rowLength])
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// The image turned clockwise by `degrees` about its centre and enlarged by `zoom`, its centre placed at the
    /// centre of a `width × height` output; what falls outside the image is mid-grey.
    private func turned(degrees: Double, zoom: Double, width: Int, height: Int) throws(TransformError) -> RGBImage {
        let (cosine, sine) = Self.cosineAndSine(degrees: degrees)
        let (a, b, c, d) = (zoom * cosine, -zoom * sine, zoom * sine, zoom * cosine)
        let sourceCentre = (x: Double(image.width - 1) / 2, y: Double(image.height - 1) / 2)
        let outputCentre = (x: Double(width - 1) / 2, y: Double(height - 1) / 2)
        return try vips().then(failing: failure) {
            vs_affine($0, a, b, c, d, -sourceCentre.x, -sourceCentre.y, outputCentre.x, outputCentre.y,
                      Int32(width), Int32(height), Settings.rotationInterpolator, Double(Settings.fill), $1)
        }.rgbImage(failing: failure)
    }

    /// A centred rectangle of this image (odd margins leave the extra pixel on the right and bottom).
    private func centred(width: Int, height: Int) -> PixelRectangle {
        PixelRectangle(x: (image.width - width) / 2, y: (image.height - height) / 2, width: width, height: height)
    }

    private static func side(_ side: Int, _ fraction: Double) -> Int {
        max(1, Int((Double(side) * fraction).rounded()))
    }

    /// 1, 2 or 3 when `degrees` is that many quarter turns (modulo a full turn), else nil.
    static func quarterTurns(_ degrees: Double) -> Int? {
        let turns = degrees / 90
        guard turns == turns.rounded() else { return nil }
        let quarter = ((Int(turns) % 4) + 4) % 4
        return quarter == 0 ? nil : quarter
    }

    /// Exact for quarter turns, where `cos(.pi / 2)` would leave 6e-17 behind.
    private static func cosineAndSine(degrees: Double) -> (cosine: Double, sine: Double) {
        switch quarterTurns(degrees) {
        case 1: (0, 1)
        case 2: (-1, 0)
        case 3: (0, -1)
        default: (cos(degrees * .pi / 180), sin(degrees * .pi / 180))
        }
    }
}
