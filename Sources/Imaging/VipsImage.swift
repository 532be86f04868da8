// One libvips image reference, released when the Swift object goes, and libvips' one-time startup.
// Internal to Imaging: pixels leave this module only as RGBImage values.
import VipsShim

final class VipsImage {
    private let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        vs_release(pointer)
    }

    /// Runs one libvips call that makes an image; its failure becomes `ImageError.undecodable` with libvips' message.
    static func make(
        decoding format: ImageFormat, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(ImageError) -> VipsImage {
        try VipsLibrary.started.get()
        var result: OpaquePointer?
        guard call(&result) == 0, let result else {
            throw .undecodable(format: format, reason: VipsLibrary.takeError())
        }
        return VipsImage(result)
    }

    /// The image made by applying `call` (a shim function taking this image and an output slot) to this one.
    func then(
        decoding format: ImageFormat, _ call: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(ImageError) -> VipsImage {
        try Self.make(decoding: format) { call(pointer, $0) }
    }

    var width: Int { Int(vs_width(pointer)) }
    var height: Int { Int(vs_height(pointer)) }
    var bands: Int { Int(vs_bands(pointer)) }
    var hasAlpha: Bool { vs_has_alpha(pointer) != 0 }

    /// Decodes every pixel of a 3-band uchar image into an RGBImage.
    func rgbImage(decoding format: ImageFormat) throws(ImageError) -> RGBImage {
        let (width, height) = (self.width, self.height)
        var status: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
            status = vs_write_pixels(pointer, buffer.baseAddress, buffer.count)
            count = status == 0 ? buffer.count : 0
        }
        guard status == 0 else {
            throw .undecodable(format: format, reason: VipsLibrary.takeError())
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

enum VipsLibrary {
    /// libvips' startup, run once by the first caller (Swift initialises a global exactly once, thread-safely).
    static let started: Result<Void, ImageError> = vs_start() == 0
        ? .success(())
        : .failure(.libraryUnavailable(reason: takeError()))

    /// libvips' pending error text, trimmed, taken and cleared in one step. Its buffer is shared by all threads,
    /// so two failures at the same moment may each see both messages or one sees none; never a torn string.
    static func takeError() -> String {
        guard let text = vs_take_error() else { return "libvips gave no reason" }
        defer { vs_free(text) }
        let message = String(cString: text).split(whereSeparator: \.isNewline).joined(separator: "; ")
        return message.isEmpty ? "libvips gave no reason" : message
    }
}
