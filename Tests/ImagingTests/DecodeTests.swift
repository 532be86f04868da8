// Decoding valid images: sizes and pixel values, alpha onto white, EXIF orientation, first GIF frame, grey,
// WebP, JPEG shrink-on-load, and concurrent use. Rejections are in DecodeRejectionTests.swift.
import Foundation
import Imaging
import Testing
import TestSupport

struct DecodeTests {
    let decoder = ImageDecoder()

    @Test func sampleJPEGSizeAndPixels() throws {
        try #require(SharedData.has("imagenet-sample/n01440764_tench.JPEG"))
        let image = try decoder.decode(Data(contentsOf: SharedData.url("imagenet-sample/n01440764_tench.JPEG")))
        #expect(image.width == 500 && image.height == 375)
        // Values from Pillow's decode of the same file (Image.open(...).convert("RGB")).
        #expect(image.pixel(x: 0, y: 0) == [71, 82, 76])
        #expect(image.pixel(x: 250, y: 187) == [221, 186, 66])
        #expect(image.pixel(x: 499, y: 374) == [82, 88, 88])
        #expect(image.pixel(x: 123, y: 45) == [99, 112, 103])
    }

    @Test func transparencyIsFlattenedOntoWhite() throws {
        // Four RGBA pixels: transparent black, opaque red, half-transparent black, opaque blue.
        let rgba: [UInt8] = [0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 128, 0, 0, 255, 255]
        let png = TestImages.encode(pixels: rgba, width: 2, height: 2, bands: 4, as: .png)
        let image = try decoder.decode(png)
        #expect(image.pixels == [255, 255, 255, 255, 0, 0, 127, 127, 127, 0, 0, 255])
    }

    @Test func greyPNGBecomesThreeEqualChannels() throws {
        let png = TestImages.encode(pixels: [0, 90, 180, 255], width: 4, height: 1, bands: 1, as: .png)
        #expect(try decoder.decode(png).pixels == [0, 0, 0, 90, 90, 90, 180, 180, 180, 255, 255, 255])
    }

    @Test func sixteenBitRGBAKeepsTheHighByte() throws {
        // Two pixels: opaque (65535, 32768, 0) and fully transparent black.
        let png = TestImages.png(bitDepth: 16, colorType: 6, rows: [[255, 255, 128, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]])
        #expect(try decoder.decode(png).pixels == [255, 128, 0, 255, 255, 255])
    }

    @Test func paletteWithATransparentEntry() throws {
        let png = TestImages.png(bitDepth: 8, colorType: 3, rows: [[0, 1, 2]], chunks: [
            ("PLTE", Data([200, 10, 20, 30, 40, 50, 5, 6, 250])), ("tRNS", Data([255, 0])),
        ])
        #expect(try decoder.decode(png).pixels == [200, 10, 20, 255, 255, 255, 5, 6, 250])
    }

    @Test func webpLosslessRoundTrips() throws {
        let original = TestImages.noise(width: 9, height: 7, seed: 2)
        #expect(try decoder.decode(TestImages.encode(original, as: .webpLossless)) == original)
    }

    @Test func exifOrientationSixTurnsTheImageClockwise() throws {
        // 32 wide, 16 high: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to view",
        // which brings the left column to the top.
        let pixels = (0 ..< 16).flatMap { _ in (0 ..< 32).flatMap { x in x < 16 ? [250, 0, 0] : [0, 0, 250] as [UInt8] } }
        let jpeg = TestImages.encode(pixels: pixels, width: 32, height: 16, bands: 3, as: .jpeg(quality: 95),
                                     metadata: ["orientation": 6])
        let image = try decoder.decode(jpeg)
        #expect(image.width == 16 && image.height == 32)
        let top = image.pixel(x: 8, y: 4), bottom = image.pixel(x: 8, y: 27)
        #expect(top[0] > 200 && top[2] < 50, "top should be red, is \(top)")
        #expect(bottom[0] < 50 && bottom[2] > 200, "bottom should be blue, is \(bottom)")
    }

    @Test func gifGivesItsFirstFrame() throws {
        // Two 4×4 frames stacked vertically: red, then green.
        let frames = [UInt8]((0 ..< 16).flatMap { _ in [255, 0, 0] as [UInt8] } + (0 ..< 16).flatMap { _ in [0, 255, 0] as [UInt8] })
        let gif = TestImages.encode(pixels: frames, width: 4, height: 8, bands: 3, as: .gif, metadata: ["page-height": 4])
        let image = try decoder.decode(gif)
        #expect(image.width == 4 && image.height == 4)
        #expect(Set(stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0 ..< $0 + 3] }) == [[255, 0, 0]])
    }

    @Test func shrinkFactorKeepsTheShorterSideAtLeastTwiceTheTarget() {
        #expect(ImageDecoder.jpegShrinkFactor(width: 500, height: 375, minimumShorterSide: 342) == 1)
        #expect(ImageDecoder.jpegShrinkFactor(width: 2000, height: 1500, minimumShorterSide: 342) == 2)
        #expect(ImageDecoder.jpegShrinkFactor(width: 4000, height: 3000, minimumShorterSide: 342) == 4)
        #expect(ImageDecoder.jpegShrinkFactor(width: 6000, height: 5472, minimumShorterSide: 342) == 8)
        #expect(ImageDecoder.jpegShrinkFactor(width: 6000, height: 5471, minimumShorterSide: 342) == 4)
    }

    @Test func jpegShrinksOnLoadOnlyWhenAsked() throws {
        let jpeg = TestImages.encode(TestImages.gradient(width: 1600, height: 1200), as: .jpeg(quality: 90))
        let full = try decoder.decode(jpeg)
        let shrunk = try decoder.decode(jpeg, minimumShorterSide: 299)
        #expect(full.width == 1600 && full.height == 1200)
        #expect(shrunk.width == 800 && shrunk.height == 600)
    }

    @Test func concurrentDecodesMatchSerialOnes() async throws {
        let inputs = (0 ..< 12).map { index in
            index % 3 == 2
                ? TestImages.pngHeader(width: 30_000, height: 10)
                : TestImages.encode(TestImages.noise(width: 40 + index, height: 30, seed: index), as: .png)
        }
        let serial = inputs.map { try? decoder.decode($0) }
        let concurrent = await withTaskGroup(of: (Int, RGBImage?).self) { group in
            for (index, input) in inputs.enumerated() {
                group.addTask { [decoder] in (index, try? decoder.decode(input)) }
            }
            return await group.reduce(into: [Int: RGBImage?]()) { $0[$1.0] = $1.1 }
        }
        #expect(serial.compactMap { $0 }.count == 8)
        #expect(inputs.indices.allSatisfy { concurrent[$0]! == serial[$0] })
    }
}
