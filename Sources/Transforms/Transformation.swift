// `TransformFamily.apply`: checks the level and sends one image to its family's code, with what every family
// needs (the image's scale against 224 pixels, libvips failures turned into TransformError). No pixel work here.
import Imaging
import VipsShim

extension TransformFamily {
    /// Applies the family at `level` (must be one of `levels`; only its value is compared). `seed` only matters
    /// for `noise`, where it is mixed with the level so that levels differ; the same seed, level and image
    /// always give the same bytes. Every family keeps the image's size except `rotate`, which returns the whole
    /// rotated picture on its bounding box.
    public func apply(to image: RGBImage, level: TransformLevel, seed: UInt64 = 0) throws(TransformError) -> RGBImage {
        precondition(levels.contains { $0.value == level.value }, "\(level.value) is not a level of \(rawValue)")
        let transformation = Transformation(family: self, image: image)
        let value = level.value
        switch self {
        case .rotate: return try transformation.rotated(degrees: value)
        case .rotateCrop: return try transformation.rotatedAndCropped(degrees: value)
        case .flip: return try transformation.flipped(vertically: value == 2)
        case .grayscale: return transformation.grayscale()
        case .invert: return try transformation.inverted()
        case .hue: return try transformation.hueRotated(degrees: value)
        case .darken, .brighten: return try transformation.multiplied(by: value)
        case .contrast: return try transformation.contrastReduced(to: value)
        case .blur: return try transformation.blurred(sigma: value)
        case .motionBlur: return try transformation.motionBlurred(length: value)
        case .noise: return transformation.noisy(sigma: value, seed: seed)
        case .jpeg: return try transformation.jpegCompressed(quality: Int(value))
        case .pixelate: return transformation.pixelated(block: value)
        case .posterize: return transformation.image.posterized(levels: Int(value))
        case .cartoon: return try transformation.cartoon(style: Settings.cartoonStyles[Int(value) - 1])
        case .sketch: return try transformation.sketch()
        case .crop: return transformation.croppedToCentre(keeping: value)
        case .zoomOut: return transformation.zoomedOut(to: value)
        case .background:
            let colour = Settings.backgrounds[Int(value) - 1]
            return try transformation.backgroundReplaced(by: [colour.red, colour.green, colour.blue])
        }
    }
}

/// One family about to be applied to one image.
struct Transformation {
    let family: TransformFamily
    let image: RGBImage

    /// Pixels of this image per pixel of a 224-pixel image (shorter sides compared).
    var scale: Double { Double(min(image.width, image.height)) / Settings.referenceSide }

    /// A length given in pixels of a 224-pixel image, in this image's pixels.
    func length(_ referenceLength: Double) -> Double { referenceLength * scale }

    /// A window or kernel length given in pixels of a 224-pixel image: scaled, then the nearest odd whole number
    /// (so that the window has a centre pixel), at least 1.
    func oddLength(_ referenceLength: Double) -> Int {
        max(1, 2 * Int(((length(referenceLength) - 1) / 2).rounded()) + 1)
    }

    /// A libvips failure of this family.
    func failure(_ reason: String) -> TransformError {
        .failed(family: family, reason: reason)
    }

    /// The image in libvips.
    func vips() throws(TransformError) -> VipsImage {
        try VipsImage(rgb: image, failing: failure)
    }

    /// A one-band uchar image of this image's size in libvips.
    func vips(gray: [UInt8]) throws(TransformError) -> VipsImage {
        try VipsImage(pixels: gray, width: image.width, height: image.height, bands: 1, failing: failure)
    }

    /// An image's float or uchar values rounded to the nearest uchar, clipped to 0...255 (vips_linear truncates,
    /// so half is added first).
    func rounded(_ source: VipsImage) throws(TransformError) -> VipsImage {
        try linear(source, multipliers: [1], offsets: [0])
    }

    /// `multipliers[i] × x + offsets[i]` in band i (or all bands for one value), rounded to uchar and clipped.
    func linear(_ source: VipsImage, multipliers: [Double], offsets: [Double]) throws(TransformError) -> VipsImage {
        precondition(multipliers.count == offsets.count)
        let halfUp = offsets.map { $0 + 0.5 }
        return try source.then(failing: failure) { input, output in
            vs_linear(input, multipliers, halfUp, Int32(multipliers.count), 1, output)
        }
    }
}
