// Photos over the pixel limit: a JPEG is decoded shrunk on load to within the limits (never below the model's
// shorter side); a PNG keeps the header check and its message. The 60-megapixel photo is made here with libvips.
import Foundation
import Imaging
import Testing

@Suite struct BigPhotoTests {
    /// A 10000×6000 JPEG (60 megapixels, about 1 MB: a flat grey with a red band, so the decode can be checked).
    static let sixtyMegapixelJPEG: Data = {
        let (width, height) = (10_000, 6_000)
        var pixels = [UInt8](repeating: 128, count: width * height * 3)
        for index in stride(from: 0, to: width * 3 * 600, by: 3) { (pixels[index], pixels[index + 1], pixels[index + 2]) = (220, 30, 30) }
        return TestImages.encode(pixels: pixels, width: width, height: height, bands: 3, as: .jpeg(quality: 85))
    }()

    let decoder = ImageDecoder()

    @Test func aJPEGOverTheLimitDecodesShrunkToTheModelsNeed() throws {
        #expect(Self.sixtyMegapixelJPEG.count < decoder.limits.maximumBytes, "within the byte limit")
        // The shrink that leaves at least twice the model's side (342 for a 299 model's 1/0.875 crop) is 1/8.
        let forModel = try decoder.decode(Self.sixtyMegapixelJPEG, minimumShorterSide: 342)
        #expect(forModel.width == 1250 && forModel.height == 750)
        #expect(forModel.pixels[0] > 180 && forModel.pixels[1] < 80, "the red band is on top")
        #expect(abs(Int(forModel.pixels[forModel.pixels.count - 3]) - 128) < 10, "grey below it")
        // Needing 3000 pixels a side, only 1/2 is allowed: 5000×3000, 15 megapixels, within the limit.
        let half = try decoder.decode(Self.sixtyMegapixelJPEG, minimumShorterSide: 3000)
        #expect(half.width == 5000 && half.height == 3000)
        let size = try decoder.uprightSize(Self.sixtyMegapixelJPEG, minimumShorterSide: 1)
        #expect(size.width == 10_000 && size.height == 6_000)
    }

    @Test func aJPEGOverTheLimitIsRefusedWhenNoShrinkKeepsWhatTheModelNeeds() {
        let tooMany = ImageError.tooManyPixels(width: 10_000, height: 6_000, maximumMegapixels: 50)
        #expect(throws: tooMany) { try decoder.decode(Self.sixtyMegapixelJPEG) }
        #expect(throws: tooMany) { try decoder.decode(Self.sixtyMegapixelJPEG, minimumShorterSide: 3001) }
        #expect(throws: tooMany) { try decoder.uprightSize(Self.sixtyMegapixelJPEG) }
        var small = DecodeLimits()
        small.maximumMegapixels = 0.5
        // Even 1/8 (1250×750, 0.94 megapixels) is over half a megapixel.
        #expect(throws: ImageError.tooManyPixels(width: 10_000, height: 6_000, maximumMegapixels: 0.5)) {
            try ImageDecoder(limits: small).decode(Self.sixtyMegapixelJPEG, minimumShorterSide: 342)
        }
    }

    @Test func aPNGOverTheLimitKeepsTheHeaderCheckAndItsMessage() {
        let png = TestImages.pngHeader(width: 10_000, height: 6_000)
        #expect(throws: ImageError.tooManyPixels(width: 10_000, height: 6_000, maximumMegapixels: 50)) {
            try decoder.decode(png, minimumShorterSide: 342)
        }
        do {
            _ = try decoder.decode(png, minimumShorterSide: 342)
        } catch {
            #expect(error.description == "image is 10000×6000 pixels (60.0 megapixels); the limit is 50 megapixels")
        }
    }

    @Test func photosWithinTheLimitDecodeAsBefore() throws {
        let jpeg = TestImages.encode(TestImages.gradient(width: 1600, height: 1200), as: .jpeg(quality: 90))
        #expect(try decoder.shrinkWithinLimits(format: .jpeg, width: 1600, height: 1200, minimumShorterSide: 299)
            == ImageDecoder.jpegShrinkFactor(width: 1600, height: 1200, minimumShorterSide: 299))
        #expect(try decoder.shrinkWithinLimits(format: .jpeg, width: 1600, height: 1200, minimumShorterSide: nil) == 1)
        #expect(try decoder.decode(jpeg).width == 1600)
    }
}
