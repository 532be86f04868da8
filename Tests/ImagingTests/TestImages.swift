// Images the tests make themselves: the synthetic pictures of Fixtures/make_resize_fixtures.py, hand-built PNG
// bytes, and small encoded files written by libvips through the shim. Not fixtures from ../shared.
import Foundation
import Imaging
import VipsShim

enum TestImages {
    /// Bytes of a 31-bit linear congruential generator, row-major RGB (`noise` in make_resize_fixtures.py).
    static func noise(width: Int, height: Int, seed: Int) -> RGBImage {
        var state = seed
        let pixels = (0 ..< width * height * 3).map { _ in
            state = (state &* 1_103_515_245 &+ 12345) & 0x7FFF_FFFF
            return UInt8((state >> 16) & 0xFF)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Red ramps left to right, green top to bottom, blue is a diagonal sawtooth (`gradient` in the script).
    static func gradient(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8]()
        for y in 0 ..< height {
            for x in 0 ..< width {
                pixels += [UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), UInt8((x + y) * 23 % 256)]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The synthetic source named in resize-cases.json.
    static func source(named name: String) -> RGBImage? {
        switch name {
        case "noise-23x17": noise(width: 23, height: 17, seed: 1)
        case "noise-9x7": noise(width: 9, height: 7, seed: 2)
        case "noise-5x4": noise(width: 5, height: 4, seed: 3)
        case "noise-7x5": noise(width: 7, height: 5, seed: 4)
        case "noise-101x77": noise(width: 101, height: 77, seed: 5)
        case "gradient-48x36": gradient(width: 48, height: 36)
        case "gradient-24x30": gradient(width: 24, height: 30)
        case "noise-1x1": noise(width: 1, height: 1, seed: 6)
        case "noise-2x3": noise(width: 2, height: 3, seed: 7)
        case "noise-3x2": noise(width: 3, height: 2, seed: 8)
        default: nil
        }
    }

    /// A PNG signature, an IHDR chunk declaring `width × height` 8-bit RGB, a one-byte IDAT and IEND, all with
    /// correct CRCs: a valid header in front of data that could never fill it.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        png(width: width, height: height, bitDepth: 8, colorType: 2, chunks: [("IDAT", Data([0x78]))])
    }

    /// A complete PNG whose rows (filter byte 0 added here) are zlib-wrapped in one stored, uncompressed
    /// deflate block. Colour types: 2 RGB, 3 palette (give "PLTE" and optionally "tRNS" in `chunks`), 6 RGBA.
    static func png(bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]], chunks: [(String, Data)] = []) -> Data {
        let scanlines: [UInt8] = rows.flatMap { [0] + $0 }
        let length = UInt16(scanlines.count)
        var (low, high): (UInt32, UInt32) = (1, 0)
        for byte in scanlines {
            low = (low + UInt32(byte)) % 65521
            high = (high + low) % 65521
        }
        let storedBlockHeader: [UInt8] = [0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        let zlib = Data([0x78, 0x01] + storedBlockHeader + scanlines) + bigEndian(high << 16 | low)
        let width = rows[0].count * 8 / Int(bitDepth) / [2: 3, 3: 1, 6: 4][Int(colorType)]!
        return png(width: UInt32(width), height: UInt32(rows.count), bitDepth: bitDepth, colorType: colorType,
                   chunks: chunks + [("IDAT", zlib)])
    }

    private static func png(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8, chunks: [(String, Data)]) -> Data {
        let header = bigEndian(width) + bigEndian(height) + Data([bitDepth, colorType, 0, 0, 0])
        return ([("IHDR", header)] + chunks + [("IEND", Data())]).reduce(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) {
            let typed = Data($1.0.utf8) + $1.1
            return $0 + bigEndian(UInt32($1.1.count)) + typed + bigEndian(crc32(typed))
        }
    }

    private static func bigEndian(_ value: UInt32) -> Data {
        withUnsafeBytes(of: value.bigEndian) { Data($0) }
    }

    /// [width, height, CRC-32 of the pixels, red sum, green sum, blue sum]: how the Pillow fixtures describe an image.
    static func digest(_ image: RGBImage) -> [Int] {
        var sums = [0, 0, 0]
        for (index, value) in image.pixels.enumerated() {
            sums[index % 3] += Int(value)
        }
        return [image.width, image.height, Int(crc32(image.pixels))] + sums
    }

    /// CRC-32 as zlib and PNG compute it (reflected polynomial 0xEDB88320), one table lookup per byte.
    static func crc32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    private static let crcTable: [UInt32] = (0 ..< 256).map { index in
        (0 ..< 8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }

    enum Encoding {
        case jpeg(quality: Int)
        case png
        case gif
        case webpLossless
    }

    /// Encodes interleaved uchar pixels with libvips; `metadata` sets integer fields such as "orientation"
    /// (EXIF, written by the JPEG saver) or "page-height" (frames of an animation stacked vertically).
    static func encode(
        pixels: [UInt8], width: Int, height: Int, bands: Int, as encoding: Encoding, metadata: [String: Int] = [:]
    ) -> Data {
        precondition(vs_start() == 0, "libvips did not start")
        var image: OpaquePointer?
        precondition(vs_image_from_pixels(pixels, pixels.count, Int32(width), Int32(height), Int32(bands), &image) == 0)
        defer { vs_release(image) }
        for (name, value) in metadata {
            vs_set_int(image, name, Int32(value))
        }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = switch encoding {
        case let .jpeg(quality): vs_save_jpeg(image, Int32(quality), &buffer, &length)
        case .png: vs_save_png(image, &buffer, &length)
        case .gif: vs_save_gif(image, &buffer, &length)
        case .webpLossless: vs_save_webp_lossless(image, &buffer, &length)
        }
        precondition(status == 0, "libvips could not encode: \(String(cString: vs_take_error()))")
        defer { vs_free(buffer) }
        return Data(bytes: buffer!, count: length)
    }

    static func encode(_ image: RGBImage, as encoding: Encoding, metadata: [String: Int] = [:]) -> Data {
        encode(pixels: image.pixels, width: image.width, height: image.height, bands: 3, as: encoding, metadata: metadata)
    }
}
