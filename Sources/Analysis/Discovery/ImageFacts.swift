// An image's attributes as discovery's search reads them: the numbers by their JSON names, the dominant hue as a named
// category, the size from the file's header (the pixels may have been decoded at a reduced scale).
import Imaging

struct ImageFacts {
    /// Names of the 12 hue bins of `ImageAttributes.hueBinCentres` (0°, 30°, … 330°).
    static let hueNames = ["red", "orange", "yellow", "chartreuse", "green", "spring green", "cyan", "azure", "blue", "violet",
                           "magenta", "rose"]

    let numeric: [String: Double]
    let categories: [String: String]

    init(_ pixels: RGBImage, originalWidth: Int, originalHeight: Int) {
        let attributes = ImageAttributes.measure(pixels)
        var numeric: [String: Double] = [:]
        for key in ImageAttributes.Key.allCases where key.categories == nil {
            numeric[key.rawValue] = attributes.value(of: key)
        }
        numeric[ImageAttributes.Key.aspectRatio.rawValue] = Double(originalWidth) / Double(max(originalHeight, 1))
        numeric[ImageAttributes.Key.megapixels.rawValue] = Double(originalWidth * originalHeight) / 1_000_000
        self.numeric = numeric
        let hue = attributes.dominantHue.map { degrees in
            Self.hueNames[Int((degrees / 30).rounded()) % Self.hueNames.count]
        }
        categories = [ImageAttributes.Key.dominantHue.rawValue: hue ?? "none"]
    }
}
