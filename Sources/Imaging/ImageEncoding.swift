// Encoding decoded pixels back to a file format: how images that strangers sent are re-encoded before they are
// shown again (only pixels survive: no metadata, no animation, nothing a browser could mistake for a script), and thumbnails.
import Foundation
import VipsShim

extension RGBImage {
    /// This image as a PNG file.
    public func pngData() throws(ImageError) -> Data {
        try encoded(as: .png) { vs_save_png($0, $1, $2) }
    }

    /// This image as a baseline JPEG file of `quality` (1–100): for thumbnails, where size matters more than fidelity.
    public func jpegData(quality: Int = 80) throws(ImageError) -> Data {
        precondition((1...100).contains(quality), "JPEG quality must be 1–100, got \(quality)")
        return try encoded(as: .jpeg) { vs_save_jpeg($0, Int32(quality), $1, $2) }
    }

    /// This image as a `data:` URL of a JPEG, for self-contained pages and JSON.
    public func jpegDataURL(quality: Int = 80) throws(ImageError) -> String {
        "data:image/jpeg;base64," + (try jpegData(quality: quality)).base64EncodedString()
    }

    private func encoded(
        as format: ImageFormat, _ save: (OpaquePointer, UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32
    ) throws(ImageError) -> Data {
        try VipsLibrary.started.get()
        let failure = { ImageError.undecodable(format: format, reason: $0) }
        return try VipsImage(rgb: self, failing: failure).encoded(failing: failure, save)
    }
}
