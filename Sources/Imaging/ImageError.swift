// Every way turning bytes into a network input can fail, each with a message fit to show a user.
// Programmer errors (a malformed Preprocessing, a wrong batch shape) are preconditions, not cases here.
import Foundation

public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    case empty
    case tooManyBytes(byteCount: Int, limit: Int)
    /// The first bytes are none of JPEG, PNG, WebP or GIF; `seen` says what they look like.
    case unsupportedFormat(seen: String)
    case dimensionsOverLimit(width: Int, height: Int, maximumWidth: Int, maximumHeight: Int)
    case tooManyPixels(width: Int, height: Int, maximumMegapixels: Double)
    /// libvips refused the data (corrupt, truncated) or could not convert it; `reason` is libvips' message.
    case undecodable(format: ImageFormat, reason: String)
    /// Decoding was stopped after `limitSeconds` (DecodeLimits.maximumDecodeSeconds).
    case decodeTooSlow(format: ImageFormat, limitSeconds: Double)
    case libraryUnavailable(reason: String)
    /// Resizing is off and the image is not already the network's input size.
    case sizeMismatch(width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)

    public var description: String {
        switch self {
        case .empty:
            return "the image is empty (0 bytes)"
        case let .tooManyBytes(byteCount, limit):
            return "the image is \(ByteCount.readable(byteCount)); the limit is \(ByteCount.readable(limit))"
        case let .unsupportedFormat(seen):
            return "\(seen) is not an accepted image; send a JPEG, PNG, WebP or GIF"
        case let .dimensionsOverLimit(width, height, maximumWidth, maximumHeight):
            let limit = maximumWidth == maximumHeight
                ? "\(maximumWidth) per side" : "\(maximumWidth) wide and \(maximumHeight) high"
            return "image is \(width)×\(height) pixels; the limit is \(limit)"
        case let .tooManyPixels(width, height, maximumMegapixels):
            let megapixels = String(format: "%.1f", Double(width) * Double(height) / 1e6)
            return "image is \(width)×\(height) pixels (\(megapixels) megapixels); the limit is \(maximumMegapixels.formatted()) megapixels"
        case let .undecodable(format, reason):
            return "the \(format.rawValue) data could not be decoded: \(reason)"
        case let .decodeTooSlow(format, limitSeconds):
            return "decoding the \(format.rawValue) took longer than the limit of \(limitSeconds.formatted()) s and was stopped"
        case let .libraryUnavailable(reason):
            return "the image library (libvips) could not start: \(reason)"
        case let .sizeMismatch(width, height, expectedWidth, expectedHeight):
            return "image is \(width)×\(height) pixels but must be exactly \(expectedWidth)×\(expectedHeight) when resizing is off"
        }
    }

    public var errorDescription: String? { description }
}

