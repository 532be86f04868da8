// Decodes untrusted JPEG, PNG, WebP or GIF bytes into 8-bit sRGB with libvips, within size limits.
// Not a general loader: other formats are refused before libvips runs; no resizing beyond JPEG shrink-on-load.
import Foundation
import VipsShim

/// Bounds checked before any pixel is decoded (the byte count first, then the header's width and height), and
/// the time decoding may take (a hostile image within those bounds can still be slow to decode).
public struct DecodeLimits: Sendable, Equatable {
    public var maximumBytes: Int
    public var maximumWidth: Int
    public var maximumHeight: Int
    public var maximumMegapixels: Double
    /// Wall-clock seconds for decoding the pixels; a 50-megapixel photo takes well under one on this machine.
    public var maximumDecodeSeconds: Double

    public init(maximumBytes: Int = 50 * 1_048_576, maximumWidth: Int = 20_000, maximumHeight: Int = 20_000,
                maximumMegapixels: Double = 50, maximumDecodeSeconds: Double = 10) {
        self.maximumBytes = maximumBytes
        self.maximumWidth = maximumWidth
        self.maximumHeight = maximumHeight
        self.maximumMegapixels = maximumMegapixels
        self.maximumDecodeSeconds = maximumDecodeSeconds
    }

    func check(width: Int, height: Int) throws(ImageError) {
        guard width <= maximumWidth, height <= maximumHeight else {
            throw .dimensionsOverLimit(width: width, height: height,
                                       maximumWidth: maximumWidth, maximumHeight: maximumHeight)
        }
        guard Double(width) * Double(height) <= maximumMegapixels * 1_000_000 else {
            throw .tooManyPixels(width: width, height: height, maximumMegapixels: maximumMegapixels)
        }
    }
}

/// Safe to use from several threads at once.
public struct ImageDecoder: Sendable {
    public var limits: DecodeLimits

    public init(limits: DecodeLimits = DecodeLimits()) {
        self.limits = limits
    }

    /// The image upright (EXIF orientation applied), transparency flattened onto white, as sRGB 8-bit RGB;
    /// a GIF or WebP animation gives its first frame.
    ///
    /// `minimumShorterSide`, when given, lets a JPEG decode at 1/2, 1/4 or 1/8 scale (see `jpegShrinkFactor`), and
    /// lets a JPEG over the size limits decode shrunk to within them (see `shrinkWithinLimits`): the limits then
    /// guard what is actually decoded. Leave it out when results must match a full-size decode bit for bit (the
    /// Pillow reference pipelines); an image over the limits is then refused.
    public func decode(_ bytes: Data, minimumShorterSide: Int? = nil) throws(ImageError) -> RGBImage {
        guard bytes.count <= limits.maximumBytes else {
            throw .tooManyBytes(byteCount: bytes.count, limit: limits.maximumBytes)
        }
        let format = try ImageFormat(sniffing: bytes)
        // libvips reads the caller's bytes in place, so the whole pipeline runs while they are pinned here.
        return try bytes.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in
                try decodePinned(buffer, format: format, minimumShorterSide: minimumShorterSide)
            }
        }.get()
    }

    /// The upright width and height from the header alone (no pixel is decoded), checked against the limits as
    /// `decode(_:minimumShorterSide:)` checks them.
    public func uprightSize(_ bytes: Data, minimumShorterSide: Int? = nil) throws(ImageError) -> (width: Int, height: Int) {
        guard bytes.count <= limits.maximumBytes else {
            throw .tooManyBytes(byteCount: bytes.count, limit: limits.maximumBytes)
        }
        let format = try ImageFormat(sniffing: bytes)
        return try bytes.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in
                let header = try uprightHeader(buffer, format: format, shrink: 1)
                _ = try shrinkWithinLimits(format: format, width: header.width, height: header.height, minimumShorterSide: minimumShorterSide)
                return (header.width, header.height)
            }
        }.get()
    }

    /// The JPEG decode-time scale divisor: the largest of 8, 4 and 2 that keeps the shorter side at least
    /// twice `minimumShorterSide`, else 1. Twice the target keeps the later antialiased resize the one that
    /// sets the quality; the output still differs slightly from a full-size decode followed by the same resize.
    public static func jpegShrinkFactor(width: Int, height: Int, minimumShorterSide: Int) -> Int {
        let shorterSide = min(width, height)
        return [8, 4, 2].first { shorterSide >= 2 * minimumShorterSide * $0 } ?? 1
    }

    /// The JPEG decode-time scale divisor for an upright `width`×`height` image: within the limits, the preferred
    /// `jpegShrinkFactor` (1 without `minimumShorterSide`), so such photos decode exactly as they always have. A
    /// JPEG over them is decoded at the smallest of 1/2, 1/4 and 1/8 scale (never larger than the preferred one)
    /// that fits the limits and keeps the shorter side at least `minimumShorterSide`. Anything else over the
    /// limits (another format, or no `minimumShorterSide`) is refused with the full size's error.
    public func shrinkWithinLimits(format: ImageFormat, width: Int, height: Int, minimumShorterSide: Int?) throws(ImageError) -> Int {
        let preferred = if format == .jpeg, let minimumShorterSide {
            Self.jpegShrinkFactor(width: width, height: height, minimumShorterSide: minimumShorterSide)
        } else {
            1
        }
        do {
            try limits.check(width: width, height: height)
            return preferred
        } catch {
            guard format == .jpeg, let minimumShorterSide else { throw error }
            for factor in [2, 4, 8] where factor >= preferred {
                // libjpeg rounds a scaled side up.
                let (shrunkWidth, shrunkHeight) = ((width + factor - 1) / factor, (height + factor - 1) / factor)
                guard min(shrunkWidth, shrunkHeight) >= minimumShorterSide else { break }
                if (try? limits.check(width: shrunkWidth, height: shrunkHeight)) != nil { return factor }
            }
            throw error
        }
    }

    private func decodePinned(
        _ buffer: UnsafeRawBufferPointer, format: ImageFormat, minimumShorterSide: Int?
    ) throws(ImageError) -> RGBImage {
        // Loaded for sequential decoding: an upright image, the common case, then needs no second load unless a JPEG
        // shrinks. Its pixels are decoded top to bottom as they are written out, so the time limit can stop the
        // decoder itself; one that must be rotated needs random access and is loaded again, decoded whole, then rotated.
        let stored = try load(buffer, format: format, shrink: 1, sequential: true)
        let upright = stored.orientation <= 1
        let header = upright ? stored : try stored.then(decoding: format) { vs_autorotate($0, $1) }
        let shrink = try shrinkWithinLimits(format: format, width: header.width, height: header.height, minimumShorterSide: minimumShorterSide)
        var image = if !upright {
            try uprightHeader(buffer, format: format, shrink: shrink)
        } else if shrink == 1 {
            stored
        } else {
            try load(buffer, format: format, shrink: shrink, sequential: true)
        }
        image = try image.then(decoding: format) { vs_to_srgb($0, $1) }
        image = try image.then(decoding: format) { vs_cast_to_uchar($0, $1) }
        if image.hasAlpha {
            image = try image.then(decoding: format) { vs_flatten($0, 255, $1) }
        }
        guard image.bands == 3 else {
            throw .undecodable(format: format, reason: "\(image.bands) bands after conversion to sRGB, expected 3")
        }
        return try image.rgbImage(decoding: format, within: limits.maximumDecodeSeconds)
    }

    /// The loader's lazily read header with EXIF orientation applied; no pixel is decoded yet.
    private func uprightHeader(
        _ buffer: UnsafeRawBufferPointer, format: ImageFormat, shrink: Int
    ) throws(ImageError) -> VipsImage {
        try load(buffer, format: format, shrink: shrink, sequential: false).then(decoding: format) { vs_autorotate($0, $1) }
    }

    /// The loader's lazily read header, as stored (no orientation applied); no pixel is decoded yet.
    private func load(
        _ buffer: UnsafeRawBufferPointer, format: ImageFormat, shrink: Int, sequential: Bool
    ) throws(ImageError) -> VipsImage {
        let (bytes, length, sequential) = (buffer.baseAddress, buffer.count, Int32(sequential ? 1 : 0))
        return try VipsImage.make(decoding: format) { output in
            switch format {
            case .jpeg: vs_load_jpeg(bytes, length, Int32(shrink), sequential, output)
            case .png: vs_load_png(bytes, length, sequential, output)
            case .webp: vs_load_webp(bytes, length, sequential, output)
            case .gif: vs_load_gif(bytes, length, sequential, output)
            }
        }
    }
}
