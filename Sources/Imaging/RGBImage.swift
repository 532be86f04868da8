// An 8-bit RGB picture in memory (interleaved, row-major) and the rectangles that crop it.
// It holds decoded pixels only; decoding lives in ImageDecoder, resampling in Resampling.swift.

public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width × height × 3` bytes: red, green, blue of the top-left pixel first, row after row.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image must have pixels, got \(width)×\(height)")
        precondition(pixels.count == width * height * 3,
                     "\(width)×\(height) RGB needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public var bounds: PixelRectangle { PixelRectangle(x: 0, y: 0, width: width, height: height) }

    /// The red, green and blue values at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> [UInt8] {
        let start = (y * width + x) * 3
        return Array(pixels[start ..< start + 3])
    }

    /// The pixels inside `rectangle`, which must lie within the image (PIL's `crop` without padding).
    public func cropped(to rectangle: PixelRectangle) -> RGBImage {
        precondition(bounds.contains(rectangle), "crop \(rectangle) is outside a \(width)×\(height) image")
        var result = [UInt8]()
        result.reserveCapacity(rectangle.width * rectangle.height * 3)
        for row in rectangle.y ..< rectangle.y + rectangle.height {
            let start = (row * width + rectangle.x) * 3
            result.append(contentsOf: pixels[start ..< start + rectangle.width * 3])
        }
        return RGBImage(width: rectangle.width, height: rectangle.height, pixels: result)
    }
}

public struct PixelRectangle: Sendable, Equatable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public func contains(_ other: PixelRectangle) -> Bool {
        other.width > 0 && other.height > 0 && other.x >= x && other.y >= y
            && other.x + other.width <= x + width && other.y + other.height <= y + height
    }

    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}
