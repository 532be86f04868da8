// Ten documented numbers measured from an image's pixels (brightness, contrast, colour, sharpness, hue, shape,
// border): what `blindspot discover` bins into attribute slices. Pixel statistics only: nothing here is learned.
import Imaging
import Transforms

/// What one image looks like, in measurements with stated formulas and ranges. Every pixel attribute (all but
/// `aspectRatio` and `megapixels`) is taken on a working copy: the image shrunk with Imaging's Pillow-exact bilinear
/// resampling so that its longer side is `workingSide` (256) pixels, never enlarged, so that sharpness above all is
/// comparable between photos of different sizes. R, G and B are the working copy's 0–255 values.
public struct ImageAttributes: Sendable, Codable, Equatable {
    /// Mean luma Y = 0.299 R + 0.587 G + 0.114 B (Rec. 601), divided by 255: 0 (black) to 1 (white).
    public let brightness: Double
    /// RMS contrast: the standard deviation (over pixels, dividing by their count) of luma Y, divided by 255:
    /// 0 (one flat tone) to 0.5 (half the pixels black, half white).
    public let contrast: Double
    /// Hasler and Süsstrunk's colourfulness M (2003) on 0–255 values: with rg = R − G and yb = ½(R + G) − B per pixel,
    /// M = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²), μ the means and σ the standard deviations over pixels.
    /// 0 for any grey image, at most about 298 (√1.09 × 285, the longest (rg, yb)); photographs mostly stay under
    /// 110, the paper's "extremely colourful".
    public let colourfulness: Double
    /// Mean HSV saturation S = (max(R, G, B) − min(R, G, B)) / max(R, G, B), 0 where the maximum is 0: 0 to 1.
    public let saturation: Double
    /// Variance (over pixels, dividing by their count) of the 4-neighbour Laplacian of luma,
    /// L = Y(x − 1, y) + Y(x + 1, y) + Y(x, y − 1) + Y(x, y + 1) − 4 Y(x, y) with Y on 0–255, over the pixels of the
    /// working copy whose four neighbours are inside it (0 when none are: a side under 3 pixels). 0 for a flat image,
    /// at most 1020² = 1,040,400 (a one-pixel black-and-white checkerboard); higher is sharper or noisier.
    public let sharpness: Double
    /// The commonest hue, in degrees: HSV hue H (0° red, 120° green, 240° blue) of the pixels with saturation
    /// S ≥ 0.2 and value max(R, G, B) / 255 ≥ 0.2, counted in 12 bins of 30° centred on 0°, 30°, …, 330° (the bin
    /// centred on c holds c − 15° ≤ H < c + 15°, so the 0° bin holds 345° ≤ H < 360° and 0° ≤ H < 15°); the centre
    /// of the bin with the most pixels, the smallest centre on a tie. nil when fewer than 5% of the pixels qualify
    /// (a grey or dark image). Circular: a category, see `Key.categories`.
    public let dominantHue: Double?
    /// Fraction of pixels with HSV saturation S < 0.1 (black pixels included): 0 to 1.
    public let greyness: Double
    /// Width / height of the original image (not the working copy): above 1 for landscape, below for portrait.
    public let aspectRatio: Double
    /// Width × height of the original image, in millions of pixels.
    public let megapixels: Double
    /// The background transformation family's test, `TransformFamily.borderUniformity(of:)`, on the working copy: the
    /// fraction, 0 to 1, of the border ring within RGB distance 48 of the ring's median colour; the family applies
    /// from 0.85.
    public let borderUniformity: Double

    /// The longer side of the working copy every pixel attribute is measured on.
    public static let workingSide = 256

    /// The saturation below which a pixel counts as grey, and the saturation and value from which its hue counts.
    private static let greySaturation = 0.1
    private static let hueMinimumSaturation = 0.2
    private static let hueMinimumValue = 0.2
    /// The percentage of pixels that must have a hue for the image to have a dominant one.
    private static let hueMinimumPercent = 5

    /// The attributes of `image` (any size, 1 × 1 included).
    public static func measure(_ image: RGBImage) -> ImageAttributes {
        let working = image.shrunk(toLongerSide: workingSide, filter: .bilinear)
        let tones = working.pixels.withUnsafeBufferPointer { Tones(of: $0) }
        let count = Double(tones.luma.count)
        let laplacian = laplacianOfLuma(tones.luma, width: working.width, height: working.height)
        // Luma is in thousandths (exact integers), and 2·yb is kept instead of yb, so that a flat image gives exact zeros.
        let lumaMean = mean(tones.luma)
        let redGreenMean = mean(tones.redGreen)
        let yellowBlueMean = mean(tones.doubleYellowBlue) / 2
        let spread = (variance(tones.redGreen) + variance(tones.doubleYellowBlue) / 4).squareRoot()
        let offset = (redGreenMean * redGreenMean + yellowBlueMean * yellowBlueMean).squareRoot()
        return ImageAttributes(
            brightness: lumaMean / 1000 / 255,
            contrast: variance(tones.luma).squareRoot() / 1000 / 255,
            colourfulness: spread + 0.3 * offset,
            saturation: tones.saturationSum / count,
            sharpness: laplacian.isEmpty ? 0 : variance(laplacian) / 1_000_000,
            dominantHue: tones.dominantHue(pixelCount: tones.luma.count),
            greyness: Double(tones.greyCount) / count,
            aspectRatio: Double(image.width) / Double(image.height),
            megapixels: Double(image.width * image.height) / 1_000_000,
            borderUniformity: TransformFamily.borderUniformity(of: working))
    }

    /// The per-pixel quantities of one image, in one pass over its bytes.
    private struct Tones {
        /// 1000 × luma, exactly: 299 R + 587 G + 114 B.
        var luma: [Int] = []
        /// R − G.
        var redGreen: [Int] = []
        /// 2 × yb = R + G − 2 B.
        var doubleYellowBlue: [Int] = []
        var saturationSum = 0.0
        var greyCount = 0
        /// Pixels with a hue that counts, per 30° bin (bin k centred on 30k degrees).
        var hueBins = [Int](repeating: 0, count: 12)

        init(of pixels: UnsafeBufferPointer<UInt8>) {
            let count = pixels.count / 3
            luma.reserveCapacity(count)
            redGreen.reserveCapacity(count)
            doubleYellowBlue.reserveCapacity(count)
            for pixel in 0 ..< count {
                let (red, green, blue) = (Int(pixels[pixel * 3]), Int(pixels[pixel * 3 + 1]), Int(pixels[pixel * 3 + 2]))
                luma.append(299 * red + 587 * green + 114 * blue)
                redGreen.append(red - green)
                doubleYellowBlue.append(red + green - 2 * blue)
                let (maximum, minimum) = (max(red, green, blue), min(red, green, blue))
                let saturation = maximum == 0 ? 0 : Double(maximum - minimum) / Double(maximum)
                saturationSum += saturation
                if saturation < ImageAttributes.greySaturation { greyCount += 1 }
                if saturation >= ImageAttributes.hueMinimumSaturation && Double(maximum) / 255 >= ImageAttributes.hueMinimumValue {
                    hueBins[Self.hueBin(red: red, green: green, blue: blue, maximum: maximum, minimum: minimum)] += 1
                }
            }
        }

        /// The bin (0..<12, bin k centred on 30k degrees) of the HSV hue of a pixel whose maximum exceeds its minimum.
        private static func hueBin(red: Int, green: Int, blue: Int, maximum: Int, minimum: Int) -> Int {
            let chroma = Double(maximum - minimum)
            let hue: Double = if maximum == red {
                60 * Double(green - blue) / chroma
            } else if maximum == green {
                60 * (Double(blue - red) / chroma + 2)
            } else {
                60 * (Double(red - green) / chroma + 4)
            }
            let degrees = hue < 0 ? hue + 360 : hue
            return Int((degrees + 15) / 30) % 12
        }

        /// The centre of the fullest hue bin (the first on a tie), or nil when under `hueMinimumPercent` of the
        /// `pixelCount` pixels have a hue.
        func dominantHue(pixelCount: Int) -> Double? {
            guard hueBins.reduce(0, +) * 100 >= ImageAttributes.hueMinimumPercent * pixelCount else { return nil }
            var fullest = 0
            for bin in hueBins.indices where hueBins[bin] > hueBins[fullest] {
                fullest = bin
            }
            return ImageAttributes.hueBinCentres[fullest]
        }
    }

    /// L = sum of the four neighbours − 4 × centre, at every pixel with four neighbours, row by row.
    private static func laplacianOfLuma(_ luma: [Int], width: Int, height: Int) -> [Int] {
        guard width >= 3 && height >= 3 else { return [] }
        var laplacian = [Int]()
        laplacian.reserveCapacity((width - 2) * (height - 2))
        for row in 1 ..< height - 1 {
            for column in 1 ..< width - 1 {
                let pixel = row * width + column
                laplacian.append(luma[pixel - 1] + luma[pixel + 1] + luma[pixel - width] + luma[pixel + width] - 4 * luma[pixel])
            }
        }
        return laplacian
    }

    /// The mean of `values`, which are not empty.
    private static func mean(_ values: [Int]) -> Double {
        Double(values.reduce(0, +)) / Double(values.count)
    }

    /// The variance of `values` (dividing by their count), in two passes so that equal values give exactly 0.
    private static func variance(_ values: [Int]) -> Double {
        let centre = mean(values)
        return values.reduce(0.0) { sum, value in
            let deviation = Double(value) - centre
            return sum + deviation * deviation
        } / Double(values.count)
    }
}

extension ImageAttributes {
    /// The attributes by name, in the order of the stored properties; a raw value is the attribute's JSON key.
    /// What a search over attributes iterates: `Key.allCases`, each with `value(of:)` and `categories`.
    public enum Key: String, CaseIterable, Sendable, Codable {
        case brightness, contrast, colourfulness, saturation, sharpness, dominantHue, greyness, aspectRatio, megapixels,
             borderUniformity

        /// nil for an ordered attribute, which a search may cut into quantile bins. For a categorical one, every value
        /// `value(of:)` can give: `dominantHue`'s 12 bin centres. Hue is circular (345° is next to 15°), so its
        /// quantiles would cut red in two; an image without a dominant hue has no value (greyness covers it).
        public var categories: [Double]? {
            self == .dominantHue ? ImageAttributes.hueBinCentres : nil
        }
    }

    /// The centres of the 12 hue bins, in degrees: 0, 30, …, 330.
    public static let hueBinCentres: [Double] = (0 ..< 12).map { Double($0 * 30) }

    /// The attribute `key`; nil only for the dominant hue of an image that has none.
    public func value(of key: Key) -> Double? {
        switch key {
        case .brightness: brightness
        case .contrast: contrast
        case .colourfulness: colourfulness
        case .saturation: saturation
        case .sharpness: sharpness
        case .dominantHue: dominantHue
        case .greyness: greyness
        case .aspectRatio: aspectRatio
        case .megapixels: megapixels
        case .borderUniformity: borderUniformity
        }
    }
}
