// Bytes the decoder must refuse, each quickly and with a typed error and a readable message.
// Decoding of valid images is in DecodeTests.swift.
import Foundation
import Imaging
import Testing
import TestSupport

struct DecodeRejectionTests {
    /// The error and the time taken; libvips is started beforehand so its one-time startup is not counted.
    private func reject(_ bytes: Data, limits: DecodeLimits = DecodeLimits()) -> (error: ImageError?, milliseconds: Double) {
        _ = try? ImageDecoder().decode(TestImages.encode(TestImages.gradient(width: 4, height: 4), as: .png))
        var caught: ImageError?
        let elapsed = ContinuousClock().measure {
            do throws(ImageError) {
                _ = try ImageDecoder(limits: limits).decode(bytes)
            } catch {
                caught = error
            }
        }
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        print("rejected in \(String(format: "%.2f", milliseconds)) ms: \(caught.map(String.init(describing:)) ?? "nothing")")
        return (caught, milliseconds)
    }

    @Test func zeroBytes() {
        let (error, milliseconds) = reject(Data())
        #expect(error == .empty)
        #expect(error?.description == "the image is empty (0 bytes)")
        #expect(milliseconds < 100)
    }

    @Test func truncatedJPEG() throws {
        try #require(SharedData.has("imagenet-sample/n01440764_tench.JPEG"))
        let whole = try Data(contentsOf: SharedData.url("imagenet-sample/n01440764_tench.JPEG"))
        let (error, milliseconds) = reject(whole.prefix(whole.count / 2))
        guard case let .undecodable(format, reason) = error else {
            Issue.record("expected undecodable, got \(String(describing: error))")
            return
        }
        #expect(format == .jpeg)
        #expect(reason.contains("Premature end of"))
        #expect(milliseconds < 100)
    }

    @Test(arguments: [
        ("plain text", "Hello, this is a letter and not a picture.\n", "text"),
        ("SVG", #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
         "an SVG document"),
        ("SVG with XML prolog", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
         "an XML (or SVG) document"),
        ("HTML", "  <!DOCTYPE html>\n<html><body><img src=x></body></html>", "an HTML document"),
        ("PDF", "%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n1 0 obj\n<<>>\nendobj\n", "a PDF document"),
        ("TIFF", "II*\0\u{8}\0\0\0", "a TIFF image"),
    ])
    func documentsAndOtherFormats(kind: String, content: String, seen: String) {
        let (error, milliseconds) = reject(Data(content.utf8))
        #expect(error == .unsupportedFormat(seen: seen), "\(kind)")
        #expect(error?.description == "\(seen) is not an accepted image; send a JPEG, PNG, WebP or GIF")
        #expect(milliseconds < 100)
    }

    @Test func heicByItsBrand() {
        let (error, _) = reject(Data([0, 0, 0, 24]) + Data("ftypheic".utf8) + Data(count: 16))
        #expect(error == .unsupportedFormat(seen: "an ISO media file (HEIC, AVIF or video)"))
    }

    @Test func pngHeaderDeclaringTenBillionPixels() {
        let (error, milliseconds) = reject(TestImages.pngHeader(width: 100_000, height: 100_000))
        #expect(error == .dimensionsOverLimit(width: 100_000, height: 100_000, maximumWidth: 20_000, maximumHeight: 20_000))
        #expect(error?.description == "image is 100000×100000 pixels; the limit is 20000 per side")
        #expect(milliseconds < 100)
    }

    @Test func pngHeaderOverTheMegapixelLimit() {
        let (error, milliseconds) = reject(TestImages.pngHeader(width: 10_000, height: 8_000))
        #expect(error == .tooManyPixels(width: 10_000, height: 8_000, maximumMegapixels: 50))
        #expect(error?.description == "image is 10000×8000 pixels (80.0 megapixels); the limit is 50 megapixels")
        #expect(milliseconds < 100)
    }

    @Test func tooManyBytes() {
        let png = TestImages.encode(TestImages.gradient(width: 64, height: 64), as: .png)
        let (error, _) = reject(png, limits: DecodeLimits(maximumBytes: 100))
        #expect(error == .tooManyBytes(byteCount: png.count, limit: 100))
        #expect(error?.description == "the image is \(ByteCount.readable(png.count)); the limit is 100 bytes")
        #expect(ByteCount.readable(10882) == "10.6 KB" && ByteCount.readable(1) == "1 byte" && ByteCount.readable(1023) == "1023 bytes")
        #expect(ImageError.tooManyBytes(byteCount: 60 * 1_048_576, limit: 50 * 1_048_576).description
                == "the image is 60 MB; the limit is 50 MB")
    }

    @Test func jpegSignatureFollowedByGarbage() {
        let (error, milliseconds) = reject(Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(repeating: 0x41, count: 200))
        guard case .undecodable(.jpeg, _) = error else {
            Issue.record("expected undecodable JPEG, got \(String(describing: error))")
            return
        }
        #expect(milliseconds < 100)
    }

    /// An image within every size limit that takes too long is stopped mid-decode, and libvips decodes normally after.
    @Test(arguments: [ImageFormat.jpeg, .png])
    func decodingPastItsTimeLimitIsStopped(format: ImageFormat) throws {
        let bytes = TestImages.encode(TestImages.noise(width: 3000, height: 2000, seed: 7), as: format == .jpeg ? .jpeg(quality: 95) : .png)
        var limits = DecodeLimits()
        limits.maximumDecodeSeconds = 0.002
        // Without the kill the decode would finish and succeed: the error alone shows it was stopped (times vary
        // too much while other suites run to compare them).
        let (error, _) = reject(bytes, limits: limits)
        #expect(error == .decodeTooSlow(format: format, limitSeconds: 0.002))
        #expect(error?.description == "decoding the \(format.rawValue) took longer than the limit of 0.002 s and was stopped")
        let again = try ImageDecoder().decode(bytes)
        #expect(again.width == 3000 && again.height == 2000)
    }
}
