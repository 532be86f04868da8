// One libvips image reference, released when the Swift object goes, and libvips' one-time startup.
// Package-visible for the targets that run libvips operations (Transforms); pixels leave the package only as RGBImage.
import Foundation
import VipsShim

package final class VipsImage {
    private let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        vs_release(pointer)
    }

    /// Runs one libvips call that makes an image; its failure, or libvips failing to start, becomes
    /// `failure(message)`, so each caller keeps its own error type.
    private static func run<Failure: Error>(
        failing failure: (String) -> Failure, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(Failure) -> OpaquePointer {
        if case let .failure(error) = VipsLibrary.started {
            throw failure(error.description)
        }
        var result: OpaquePointer?
        guard call(&result) == 0, let result else {
            throw failure(VipsLibrary.takeError())
        }
        return result
    }

    /// The image made by one libvips call (a shim function given an output slot).
    package static func make<Failure: Error>(
        failing failure: (String) -> Failure, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(Failure) -> VipsImage {
        VipsImage(try run(failing: failure, call))
    }

    /// A libvips copy of interleaved uchar pixels, `bands` values per pixel, row-major.
    package convenience init<Failure: Error>(
        pixels: [UInt8], width: Int, height: Int, bands: Int, failing failure: (String) -> Failure
    ) throws(Failure) {
        precondition(pixels.count == width * height * bands, "\(width)×\(height)×\(bands) needs \(width * height * bands) bytes")
        self.init(try Self.run(failing: failure) { output in
            pixels.withUnsafeBytes {
                vs_image_from_pixels($0.baseAddress, $0.count, Int32(width), Int32(height), Int32(bands), output)
            }
        })
    }

    /// A libvips copy of an RGB image (sRGB, three uchar bands).
    package convenience init<Failure: Error>(rgb image: RGBImage, failing failure: (String) -> Failure) throws(Failure) {
        try self.init(pixels: image.pixels, width: image.width, height: image.height, bands: 3, failing: failure)
    }

    /// Runs one libvips call that makes an image; its failure becomes `ImageError.undecodable` with libvips' message.
    static func make(
        decoding format: ImageFormat, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(ImageError) -> VipsImage {
        try VipsLibrary.started.get()
        return try make(failing: { ImageError.undecodable(format: format, reason: $0) }, call)
    }

    /// The image made by applying `call` (a shim function taking this image and an output slot) to this one.
    package func then<Failure: Error>(
        failing failure: (String) -> Failure, _ call: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(Failure) -> VipsImage {
        try Self.make(failing: failure) { call(pointer, $0) }
    }

    /// `then(failing:_:)` for decoding, failing with `ImageError.undecodable`.
    func then(
        decoding format: ImageFormat, _ call: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(ImageError) -> VipsImage {
        try Self.make(decoding: format) { call(pointer, $0) }
    }

    package var width: Int { Int(vs_width(pointer)) }
    package var height: Int { Int(vs_height(pointer)) }
    package var bands: Int { Int(vs_bands(pointer)) }
    package var hasAlpha: Bool { vs_has_alpha(pointer) != 0 }
    /// The EXIF orientation, 1 (upright as stored) to 8.
    package var orientation: Int { Int(vs_orientation(pointer)) }

    /// Computes every pixel of a uchar image: `width × height × bands` values, interleaved, row-major.
    /// With `limit`, the work stops once it has taken longer than `limit.seconds` and `limit.failure` is thrown.
    package func pixels<Failure: Error>(
        failing failure: (String) -> Failure, within limit: (seconds: Double, failure: Failure)? = nil
    ) throws(Failure) -> [UInt8] {
        var status: Int32 = 0
        var timedOut: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * bands) { buffer, count in
            status = vs_write_pixels(pointer, buffer.baseAddress, buffer.count, limit?.seconds ?? 0, &timedOut)
            count = status == 0 ? buffer.count : 0
        }
        guard status == 0 else {
            let reason = VipsLibrary.takeError()
            if timedOut != 0, let limit { throw limit.failure }
            throw failure(reason)
        }
        return pixels
    }

    /// Computes every pixel of a 3-band uchar image into an RGBImage.
    package func rgbImage<Failure: Error>(
        failing failure: (String) -> Failure, within limit: (seconds: Double, failure: Failure)? = nil
    ) throws(Failure) -> RGBImage {
        guard bands == 3 else {
            throw failure("\(bands) bands where RGB needs 3")
        }
        return RGBImage(width: width, height: height, pixels: try pixels(failing: failure, within: limit))
    }

    /// Decodes every pixel of a 3-band uchar image into an RGBImage, within `seconds`.
    func rgbImage(decoding format: ImageFormat, within seconds: Double) throws(ImageError) -> RGBImage {
        try rgbImage(failing: { ImageError.undecodable(format: format, reason: $0) },
                     within: (seconds, ImageError.decodeTooSlow(format: format, limitSeconds: seconds)))
    }

    /// This image encoded by `save` (a shim saver given the image, a buffer slot and a length slot).
    package func encoded<Failure: Error>(
        failing failure: (String) -> Failure,
        _ save: (OpaquePointer, UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32
    ) throws(Failure) -> Data {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard save(pointer, &buffer, &length) == 0, let buffer else {
            throw failure(VipsLibrary.takeError())
        }
        defer { vs_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}

package enum VipsLibrary {
    /// libvips' startup, run once by the first caller (Swift initialises a global exactly once, thread-safely).
    package static let started: Result<Void, ImageError> = vs_start() == 0
        ? .success(())
        : .failure(.libraryUnavailable(reason: takeError()))

    /// libvips' pending error text, trimmed, taken and cleared in one step. Its buffer is shared by all threads,
    /// so two failures at the same moment may each see both messages or one sees none; never a torn string.
    package static func takeError() -> String {
        guard let text = vs_take_error() else { return "libvips gave no reason" }
        defer { vs_free(text) }
        let message = String(cString: text).split(whereSeparator: \.isNewline).joined(separator: "; ")
        return message.isEmpty ? "libvips gave no reason" : message
    }
}
