// Image attributes on synthetic pictures whose answers are known by hand (flat grey, primaries, a checkerboard, a
// half-red half-blue picture, a 1 × 1 pixel), the hue bins' convention, and a real photo darkened by the darken family.
import Analysis
import Foundation
import Imaging
import Testing
import TestSupport
import Transforms

@Suite struct ImageAttributesTests {
    /// A `width` × `height` picture whose pixel at (x, y) is `colour(x, y)`.
    static func picture(width: Int, height: Int, colour: (Int, Int) -> [UInt8]) -> RGBImage {
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * 3)
        for y in 0 ..< height {
            for x in 0 ..< width {
                pixels.append(contentsOf: colour(x, y))
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func flat(_ colour: [UInt8], width: Int = 32, height: Int = 32) -> RGBImage {
        picture(width: width, height: height) { _, _ in colour }
    }

    /// Black and white squares of `square` pixels, black at the top-left.
    static func checkerboard(side: Int, square: Int = 1) -> RGBImage {
        picture(width: side, height: side) { x, y in (x / square + y / square) % 2 == 0 ? [0, 0, 0] : [255, 255, 255] }
    }

    @Test func aFlatGreyImageIsGreyFlatAndUniform() {
        let attributes = ImageAttributes.measure(Self.flat([128, 128, 128]))
        #expect(abs(attributes.brightness - 128.0 / 255) < 1e-12)
        #expect(attributes.contrast == 0)
        #expect(attributes.colourfulness == 0)
        #expect(attributes.saturation == 0)
        #expect(attributes.sharpness == 0)
        #expect(attributes.dominantHue == nil, "a grey image has no hue")
        #expect(attributes.greyness == 1)
        #expect(attributes.borderUniformity == 1)
        #expect(attributes.aspectRatio == 1)
    }

    /// Pure red: every pixel has hue 0°, saturation 1; luma 0.299 × 255; rg = 255 and yb = 127.5 everywhere, so
    /// M = 0 + 0.3 · sqrt(255² + 127.5²) = 0.3 · 127.5 · √5.
    @Test func pureRedIsInTheHueBinCentredOnZero() {
        let attributes = ImageAttributes.measure(Self.flat([255, 0, 0]))
        #expect(attributes.dominantHue == 0)
        #expect(attributes.saturation == 1)
        #expect(attributes.greyness == 0)
        #expect(abs(attributes.brightness - 0.299) < 1e-12)
        #expect(abs(attributes.colourfulness - 0.3 * 127.5 * 5.0.squareRoot()) < 1e-9)
        #expect(attributes.contrast == 0 && attributes.sharpness == 0)
    }

    /// Bins are 30° wide and centred on multiples of 30°: a red leaning to magenta (hue ≈ 350°) is still in the 0°
    /// bin, orange (≈ 30°) in the 30° bin, the other primaries on their own centres.
    @Test func hueBinsAreCentredOnMultiplesOfThirtyDegrees() {
        let cases: [([UInt8], Double)] = [
            ([255, 0, 42], 0), ([255, 128, 0], 30), ([0, 255, 0], 120), ([0, 255, 255], 180), ([0, 0, 255], 240),
            ([255, 0, 255], 300), ([255, 0, 140], 330),
        ]
        for (colour, centre) in cases {
            #expect(ImageAttributes.measure(Self.flat(colour)).dominantHue == centre, "\(colour)")
        }
        // Too dark (value < 0.2) or too pale (saturation < 0.2) to count: no hue.
        #expect(ImageAttributes.measure(Self.flat([50, 0, 0])).dominantHue == nil)
        #expect(ImageAttributes.measure(Self.flat([255, 210, 210])).dominantHue == nil)
    }

    /// 5 coloured pixels in 100 are enough for a dominant hue, 4 are not.
    @Test func aDominantHueNeedsFivePercentOfThePixels() {
        func image(redPixels: Int) -> RGBImage {
            Self.picture(width: 10, height: 10) { x, y in y * 10 + x < redPixels ? [255, 0, 0] : [90, 90, 90] }
        }
        #expect(ImageAttributes.measure(image(redPixels: 4)).dominantHue == nil)
        #expect(ImageAttributes.measure(image(redPixels: 5)).dominantHue == 0)
        #expect(ImageAttributes.measure(image(redPixels: 5)).greyness == 0.95)
    }

    /// A one-pixel checkerboard: luma 0 or 255 in equal numbers, so its standard deviation is 127.5 (contrast 0.5);
    /// every inner pixel's Laplacian is ±4 × 255, so the variance is 1020². Blurred it is nearly flat.
    @Test func aCheckerboardIsSharpAndItsBlurredCopyIsNot() throws {
        let board = Self.checkerboard(side: 256)
        let attributes = ImageAttributes.measure(board)
        #expect(abs(attributes.contrast - 0.5) < 1e-12)
        #expect(abs(attributes.brightness - 0.5) < 1e-12)
        #expect(attributes.sharpness == 1020 * 1020)
        #expect(attributes.greyness == 1 && attributes.dominantHue == nil && attributes.colourfulness == 0)
        let blur = try #require(TransformFamily.blur.levels.first)
        let blurred = ImageAttributes.measure(try TransformFamily.blur.apply(to: board, level: blur))
        #expect(blurred.sharpness < attributes.sharpness / 100, "σ \(blur.value) at 224 px: \(blurred.sharpness)")
    }

    /// A 512 × 256 picture: aspect ratio and megapixels of the original; the pixel attributes of its 256 × 128
    /// working copy, which for a flat colour are those of the colour (luma 0.299·200 + 0.587·100 + 0.114·50 = 124.2).
    @Test func shapeIsTheOriginalsAndPixelsAreTheWorkingCopys() {
        let attributes = ImageAttributes.measure(Self.flat([200, 100, 50], width: 512, height: 256))
        #expect(attributes.aspectRatio == 2)
        #expect(attributes.megapixels == 0.131072)
        #expect(abs(attributes.brightness - 124.2 / 255) < 1e-12)
        #expect(attributes.contrast == 0 && attributes.sharpness == 0 && attributes.borderUniformity == 1)
        #expect(ImageAttributes.measure(Self.flat([0, 0, 0], width: 300, height: 600)).aspectRatio == 0.5)
    }

    /// Left half red (rg = 255, yb = ½·255 = 127.5), right half blue (rg = 0, yb = −255), in equal numbers:
    /// μ_rg = 127.5, σ_rg = 127.5; μ_yb = (127.5 − 255) / 2 = −63.75, σ_yb = (127.5 + 255) / 2 = 191.25.
    /// M = sqrt(127.5² + 191.25²) + 0.3 · sqrt(127.5² + 63.75²) = 127.5·√3.25 + 0.3 · 63.75·√5 ≈ 229.854 + 42.765 = 272.618.
    @Test func halfRedHalfBlueColourfulnessByHand() {
        let image = Self.picture(width: 64, height: 32) { x, _ in x < 32 ? [255, 0, 0] : [0, 0, 255] }
        let expected = 127.5 * 3.25.squareRoot() + 0.3 * 63.75 * 5.0.squareRoot()
        let attributes = ImageAttributes.measure(image)
        #expect(abs(attributes.colourfulness - expected) < 1e-9)
        #expect(abs(attributes.colourfulness - 272.618) < 1e-3)
        #expect(attributes.dominantHue == 0, "red and blue tie; the smaller centre wins")
        #expect(attributes.saturation == 1)
    }

    /// Top half white, bottom half black, 100 px: the 3-pixel ring has 582 pixels of each, its (lower) median colour is
    /// black, so half of it matches, and the background family refuses the picture on the same measurement.
    @Test func borderUniformityIsTheBackgroundFamilysTest() throws {
        let image = Self.picture(width: 100, height: 100) { _, y in y < 50 ? [255, 255, 255] : [0, 0, 0] }
        #expect(ImageAttributes.measure(image).borderUniformity == 0.5)
        #expect(TransformFamily.borderUniformity(of: image) == 0.5)
        let level = try #require(TransformFamily.background.levels.first)
        #expect(throws: TransformError.self) { try TransformFamily.background.apply(to: image, level: level) }
    }

    /// No side long enough for a Laplacian, a ring that is the whole image: numbers, not a trap.
    @Test func aSinglePixelHasAttributes() {
        let red = ImageAttributes.measure(Self.flat([255, 0, 0], width: 1, height: 1))
        #expect(red.sharpness == 0 && red.contrast == 0 && red.borderUniformity == 1)
        #expect(red.dominantHue == 0 && red.saturation == 1 && red.megapixels == 0.000001)
        let grey = ImageAttributes.measure(Self.flat([7, 7, 7], width: 1, height: 1))
        #expect(grey.dominantHue == nil && grey.greyness == 1)
        let black = ImageAttributes.measure(Self.flat([0, 0, 0], width: 2, height: 1))
        #expect(black.brightness == 0 && black.saturation == 0 && black.greyness == 1)
    }

    /// The keys are the JSON's names, `value(of:)` gives what the JSON holds, and only the hue is categorical.
    @Test func keysNameTheEncodedValues() throws {
        let attributes = ImageAttributes.measure(Self.checkerboard(side: 40, square: 4))
        let tinted = ImageAttributes.measure(Self.flat([255, 128, 0]))
        let encoded = try JSONDecoder().decode([String: Double].self, from: JSONEncoder().encode(tinted))
        #expect(Set(encoded.keys) == Set(ImageAttributes.Key.allCases.map(\.rawValue)))
        for key in ImageAttributes.Key.allCases {
            #expect(encoded[key.rawValue] == tinted.value(of: key), "\(key)")
        }
        #expect(attributes.value(of: .dominantHue) == nil && attributes.value(of: .sharpness) == attributes.sharpness)
        #expect(ImageAttributes.Key.allCases.filter { $0.categories != nil } == [.dominantHue])
        #expect(ImageAttributes.Key.dominantHue.categories == stride(from: 0.0, to: 360, by: 30).map { $0 })
        #expect(try JSONDecoder().decode(ImageAttributes.self, from: JSONEncoder().encode(attributes)) == attributes)
    }

    /// A sample photo darkened to half (the darken family's ×0.5): brightness about halves, and as HSV saturation
    /// is a ratio, the share of grey pixels stays put.
    @Test func darkeningARealPhotoHalvesBrightnessAndKeepsGreyness() throws {
        let file = "imagenet-sample/n01440764_tench.JPEG"
        try #require(SharedData.has(file), "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let photo = try ImageDecoder().decode(Data(contentsOf: SharedData.url(file)))
        let half = try #require(TransformFamily.darken.levels.first { $0.value == 0.5 })
        let original = ImageAttributes.measure(photo)
        let darkened = ImageAttributes.measure(try TransformFamily.darken.apply(to: photo, level: half))
        #expect(abs(darkened.brightness / original.brightness - 0.5) < 0.02,
                "\(original.brightness) → \(darkened.brightness)")
        #expect(abs(darkened.greyness - original.greyness) < 0.01, "\(original.greyness) → \(darkened.greyness)")
        #expect(darkened.aspectRatio == original.aspectRatio && darkened.megapixels == original.megapixels)
    }
}
