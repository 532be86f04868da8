// Encoding decoded pixels back to a file format: how images that strangers sent are re-encoded before they are
// shown again (only pixels survive: no metadata, no animation, nothing a browser could mistake for a script).
import Foundation
import VipsShim

extension RGBImage {
    /// This image as a PNG file.
    public func pngData() throws(ImageError) -> Data {
        try VipsLibrary.started.get()
        var image: OpaquePointer?
        let made = pixels.withUnsafeBytes { vs_image_from_pixels($0.baseAddress, $0.count, Int32(width), Int32(height), 3, &image) }
        guard made == 0, let image else { throw .undecodable(format: .png, reason: VipsLibrary.takeError()) }
        defer { vs_release(image) }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard vs_save_png(image, &buffer, &length) == 0, let buffer else {
            throw .undecodable(format: .png, reason: VipsLibrary.takeError())
        }
        defer { vs_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}
