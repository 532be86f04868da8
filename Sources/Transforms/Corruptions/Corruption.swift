// ImageNet-C's corruptions (Hendrycks & Dietterich, ICLR 2019) as the reference implementation makes them
// (`imagecorruptions` 1.1.2): names, categories and every severity's parameters, in this one table. The pixel
// work is in the other files of this folder; `apply` is at the end.
import Engine
import Foundation
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
    /// The groups a list may name, sorted by name: "all" (the 19), "common" (the 15), "held-out" (the 4).
    public static let groups: [(name: String, members: [Corruption])] = [("all", allCases), ("common", common), ("held-out", heldOut)]
    /// How `eval --transform` and probe families name ImageNet-C's transforms: "imagenet-c:fog".
    public static let namespace = "imagenet-c"

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

extension Corruption {
    /// "fog,snow" → those corruptions in that order; "common" the 15, "held-out" the 4, "all" the 19. An unknown
    /// name is refused with the list.
    public static func list(_ text: String) throws(UnknownCorruption) -> [Corruption] {
        var chosen: [Corruption] = []
        for piece in text.split(separator: ",") {
            let name = piece.trimmingCharacters(in: .whitespaces)
            let named: [Corruption]
            if let group = groups.first(where: { $0.name == name }) {
                named = group.members
            } else {
                guard let corruption = Corruption(rawValue: name) else { throw UnknownCorruption(name: name) }
                named = [corruption]
            }
            chosen += named.filter { !chosen.contains($0) }
        }
        guard !chosen.isEmpty else { throw UnknownCorruption(name: text) }
        return chosen
    }

    /// The seed an image's corruptions are drawn with: `seed` mixed with the FNV-1a hash of the image's name (its
    /// path within the folder), so every image has its own noise and a rerun, a resumed run or a shard the same.
    public static func seed(forImageNamed name: String, seed: UInt64 = 0) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash ^ seed
    }

    /// The image as ImageNet-C made its files from ImageNet's validation images: the shorter side resized to 256
    /// (Pillow's bilinear, as torchvision's Resize), then the centred 224 × 224.
    public static func imageNetCrop(_ image: RGBImage) -> RGBImage {
        image.resizedThenCenterCropped(shorterSide: 256, crop: 224, filter: .bilinear)
    }
}

/// A corruption name that is none of ImageNet-C's.
public struct UnknownCorruption: Error, Equatable, CustomStringConvertible {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    public var description: String {
        "unknown corruption '\(name)'; corruptions: \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")), or common, held-out, all"
    }
}
