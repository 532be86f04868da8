// ImageNet-C's corruptions (Hendrycks & Dietterich, ICLR 2019) as the reference implementation makes them
// (`imagecorruptions` 1.1.2): names, categories and every severity's parameters, in this one table. The pixel
// work is in the other files of this folder; `apply` is at the end.
import Engine
import Imaging

public enum Corruption: String, CaseIterable, Sendable, Codable {
    case gaussianNoise = "gaussian_noise", shotNoise = "shot_noise", impulseNoise = "impulse_noise",
         defocusBlur = "defocus_blur", glassBlur = "glass_blur", motionBlur = "motion_blur", zoomBlur = "zoom_blur",
         snow, frost, fog, brightness, contrast, elasticTransform = "elastic_transform", pixelate,
         jpegCompression = "jpeg_compression",
         speckleNoise = "speckle_noise", gaussianBlur = "gaussian_blur", spatter, saturate

    /// The 15 corruptions mCE averages over, in the paper's order.
    public static let common: [Corruption] = Array(allCases.prefix(15))
    /// The 4 held out for validation (speckle noise, gaussian blur, spatter, saturate).
    public static let heldOut: [Corruption] = Array(allCases.suffix(4))
    public static let severities = 1 ... 5

    public enum Category: String, Sendable, Codable {
        case noise, blur, weather, digital, heldOut = "held-out"
    }

    public var category: Category {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise: .noise
        case .defocusBlur, .glassBlur, .motionBlur, .zoomBlur: .blur
        case .snow, .frost, .fog, .brightness: .weather
        case .contrast, .elasticTransform, .pixelate, .jpegCompression: .digital
        case .speckleNoise, .gaussianBlur, .spatter, .saturate: .heldOut
        }
    }

    /// "Gaussian noise", "JPEG compression".
    public var title: String {
        switch self {
        case .gaussianNoise: "Gaussian noise"
        case .shotNoise: "Shot noise"
        case .impulseNoise: "Impulse noise"
        case .defocusBlur: "Defocus blur"
        case .glassBlur: "Glass blur"
        case .motionBlur: "Motion blur"
        case .zoomBlur: "Zoom blur"
        case .snow: "Snow"
        case .frost: "Frost"
        case .fog: "Fog"
        case .brightness: "Brightness"
        case .contrast: "Contrast"
        case .elasticTransform: "Elastic transform"
        case .pixelate: "Pixelate"
        case .jpegCompression: "JPEG compression"
        case .speckleNoise: "Speckle noise"
        case .gaussianBlur: "Gaussian blur"
        case .spatter: "Spatter"
        case .saturate: "Saturate"
        }
    }

    /// Whether the result depends on the seed (the reference draws from NumPy's global generator).
    public var isRandom: Bool {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise, .speckleNoise, .glassBlur, .motionBlur, .snow, .frost, .fog,
             .elasticTransform, .spatter: true
        case .defocusBlur, .zoomBlur, .brightness, .contrast, .pixelate, .jpegCompression, .gaussianBlur, .saturate: false
        }
    }
}

/// Why a corruption could not be made: the image is too small (the reference needs 32 pixels a side), a
/// severity outside 1...5, or libvips failed.
public enum CorruptionError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooSmall(width: Int, height: Int)
    case badSeverity(Int)
    case failed(Corruption, reason: String)

    public var description: String {
        switch self {
        case let .tooSmall(width, height): "ImageNet-C's corruptions need at least 32×32 pixels, got \(width)×\(height)"
        case .badSeverity(let severity): "severity \(severity) is not one of 1 to 5"
        case let .failed(corruption, reason): "\(corruption.title) failed: \(reason)"
        }
    }
}
