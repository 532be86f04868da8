// The families of transformations a probe sweeps an image through: titles, summaries, severity levels and every
// other parameter, in this one table. How a family changes pixels is in Geometry, Colour, Degradation, Rendering
// and Background.swift; `apply` is in Transformation.swift.
import Foundation
import Imaging

public enum TransformFamily: String, CaseIterable, Sendable, Codable {
    case rotate, rotateCrop = "rotate-crop", flip, grayscale, invert, hue, darken, brighten, contrast,
         blur, motionBlur = "motion-blur", noise, jpeg, pixelate, posterize, cartoon, sketch, crop,
         zoomOut = "zoom-out", background

    /// Short human title, e.g. "Rotation, corners cropped".
    public var title: String {
        switch self {
        case .rotate: "Rotation"
        case .rotateCrop: "Rotation, corners cropped"
        case .flip: "Mirror and upside down"
        case .grayscale: "Grayscale"
        case .invert: "Negative"
        case .hue: "Hue shift"
        case .darken: "Darker"
        case .brighten: "Brighter"
        case .contrast: "Lower contrast"
        case .blur: "Defocus blur"
        case .motionBlur: "Motion blur"
        case .noise: "Sensor noise"
        case .jpeg: "JPEG compression"
        case .pixelate: "Pixelation"
        case .posterize: "Posterization"
        case .cartoon: "Cartoon"
        case .sketch: "Pencil sketch"
        case .crop: "Centre crop"
        case .zoomOut: "Zoom out"
        case .background: "Background swap"
        }
    }

    /// One sentence: what it does and which benchmark/real-world failure it mirrors.
    public var summary: String {
        switch self {
        case .rotate:
            "Turns the whole picture clockwise on a larger mid-grey canvas, like ObjectNet's rotated objects or a tilted camera."
        case .rotateCrop:
            "Turns the picture clockwise and zooms in until no corner fill shows, so only the orientation changes (ObjectNet's rotations)."
        case .flip:
            "Mirrors the picture left to right, which ImageNet training already does, or turns it upside down, which it never does (the upside-down car)."
        case .grayscale:
            "Removes colour (Rec. 601 luma in all three channels), like black-and-white photos; shows how much a class leans on colour."
        case .invert:
            "Replaces every value by 255 minus it, a photographic negative: shapes stay, every colour and brightness is reversed."
        case .hue:
            "Rotates hues in CIE LCh, keeping lightness and chroma, like a wrong white balance or an object painted an unusual colour."
        case .darken:
            "Scales every value down, like an under-exposed photo or dusk (ImageNet-C's brightness, the other way)."
        case .brighten:
            "Scales every value up, clipping at white, like an over-exposed photo (ImageNet-C's brightness)."
        case .contrast:
            "Pulls every channel toward its own mean, like fog or a washed-out print (ImageNet-C's contrast)."
        case .blur:
            "Gaussian blur, like an out-of-focus camera (ImageNet-C's Gaussian and defocus blur)."
        case .motionBlur:
            "Averages along horizontal lines, like a panning camera or a moving subject (ImageNet-C's motion blur)."
        case .noise:
            "Adds Gaussian noise to every channel, like a high-ISO sensor in low light (ImageNet-C's Gaussian noise)."
        case .jpeg:
            "Saves as JPEG at falling quality and decodes it back: blocks and ringing as in much re-shared images (ImageNet-C's JPEG)."
        case .pixelate:
            "Averages square blocks, like a low-resolution thumbnail blown up (ImageNet-C's pixelate)."
        case .posterize:
            "Quantises every channel to a few evenly spaced values, like colour banding in GIFs and cheap displays."
        case .cartoon:
            "Flattens regions into a few colours and draws dark outlines along strong edges, like ImageNet-R's cartoons and comics."
        case .sketch:
            "Keeps only dark pencil strokes along edges on white paper, like ImageNet-Sketch and ImageNet-R's drawings."
        case .crop:
            "Keeps the centre of the picture, enlarged back to full size: a close-up that cuts away context and parts of the object."
        case .zoomOut:
            "Shrinks the whole picture onto a mid-grey canvas, like a distant object that fills little of the frame."
        case .background:
            "Replaces a near-uniform background, reached from the border, by a plain colour (ImageNet-9's background challenge)."
        }
    }

    /// Ordered from mildest to most severe (never contains the identity). `value` is the family's parameter:
    /// clockwise degrees, a factor, a Gaussian σ or a length in pixels of a 224-pixel image (scaled to the
    /// image's shorter side), a JPEG quality, a number of levels, a fraction of each side, or an index into
    /// one of the tables below.
    public var levels: [TransformLevel] {
        switch self {
        case .rotate, .rotateCrop: Self.levels(Array(stride(from: 15.0, through: 345, by: 15))) { "\(Self.number($0))°" }
        case .flip: [TransformLevel(value: 1, label: "horizontal"), TransformLevel(value: 2, label: "vertical")]
        case .grayscale: [TransformLevel(value: 1, label: "grayscale")]
        case .invert: [TransformLevel(value: 1, label: "inverted")]
        case .hue: Self.levels([30, 60, 90, 120, 180]) { "+\(Self.number($0))°" }
        case .darken: Self.levels([0.7, 0.5, 0.35, 0.2, 0.1]) { "×\(Self.number($0))" }
        case .brighten: Self.levels([1.3, 1.6, 2, 2.5, 3]) { "×\(Self.number($0))" }
        case .contrast: Self.levels([0.7, 0.5, 0.35, 0.2, 0.1]) { "×\(Self.number($0))" }
        case .blur: Self.levels([1, 2, 3, 4.5, 6]) { "σ \(Self.number($0))" }
        case .motionBlur: Self.levels([5, 9, 13, 19, 25]) { "\(Self.number($0)) px" }
        case .noise: Self.levels([8, 16, 24, 40, 64]) { "σ \(Self.number($0))" }
        case .jpeg: Self.levels([30, 15, 10, 5, 2]) { "quality \(Self.number($0))" }
        case .pixelate: Self.levels([2, 3, 4, 6, 8]) { "\(Self.number($0)) px blocks" }
        case .posterize: Self.levels([32, 16, 8, 4, 2]) { "\(Self.number($0)) levels" }
        case .cartoon: Self.levels([1, 2, 3, 4, 5]) { "strength \(Self.number($0))" }
        case .sketch: [TransformLevel(value: 1, label: "pencil sketch")]
        case .crop, .zoomOut: Self.levels([0.8, 0.65, 0.5, 0.35, 0.25]) { "\(Int(($0 * 100).rounded()))%" }
        case .background: Settings.backgrounds.enumerated().map { TransformLevel(value: Double($0 + 1), label: $1.name) }
        }
    }

    private static func levels(_ values: [Double], label: (Double) -> String) -> [TransformLevel] {
        values.map { TransformLevel(value: $0, label: label($0)) }
    }

    /// "2" for 2.0, "4.5" for 4.5.
    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// One severity of a family: its parameter and how it is shown.
public struct TransformLevel: Sendable, Hashable, Codable {
    public let value: Double
    /// Short, for a table or a chart axis: "15°", "×0.7", "σ 2", "80%".
    public let label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}

/// The parameters beyond the levels, each used by one family.
enum Settings {
    /// Lengths in `levels` are pixels of an image whose shorter side is this long.
    static let referenceSide = 224.0
    /// The grey of empty canvas (rotation corners, zoom-out margins).
    static let fill: UInt8 = 128
    /// libvips' interpolator for rotations that are not quarter turns.
    static let rotationInterpolator = "bicubic"
    /// How far inside the rotated picture a rotate-crop stays, in source pixels, so that the interpolator
    /// (bicubic reads two pixels each side) never reaches the fill.
    static let rotateCropMargin = 2.0

    /// Cartoon strengths 1 to 5: the side of the median filter's window at 224 px (edge-preserving smoothing),
    /// levels per channel, and the outline thickness at 224 px (a dilation of the edge map by a window of this
    /// side; 1 keeps the Sobel edge as it is).
    struct CartoonStyle {
        let medianSide: Double
        let levelsPerChannel: Int
        let outlineSide: Double
    }

    static let cartoonStyles = [
        CartoonStyle(medianSide: 3, levelsPerChannel: 24, outlineSide: 1),
        CartoonStyle(medianSide: 5, levelsPerChannel: 16, outlineSide: 1),
        CartoonStyle(medianSide: 7, levelsPerChannel: 12, outlineSide: 2),
        CartoonStyle(medianSide: 9, levelsPerChannel: 8, outlineSide: 2),
        CartoonStyle(medianSide: 11, levelsPerChannel: 6, outlineSide: 3),
    ]
    /// Sobel magnitude (uchar, of the smoothed luma) above which a pixel is an outline.
    static let cartoonEdgeThreshold: UInt8 = 60
    /// The colour of cartoon outlines.
    static let cartoonOutline: (red: UInt8, green: UInt8, blue: UInt8) = (24, 20, 20)

    /// Pencil sketch: the σ at 224 px of the blur the luma is divided by (a colour dodge), and the gamma that
    /// darkens the strokes.
    static let sketchBlurSigma = 4.0
    static let sketchGamma = 2.0

    /// Background levels 1, 2, 3 and 4, in order.
    static let backgrounds: [(name: String, red: UInt8, green: UInt8, blue: UInt8)] = [
        ("white", 255, 255, 255), ("black", 0, 0, 0), ("green", 0, 177, 64), ("blue", 0, 71, 187),
    ]
    /// The border ring examined: this fraction of the shorter side, at least `minimumRing` pixels.
    static let borderRingFraction = 0.03
    static let minimumRing = 2
    /// A pixel belongs to the background when its RGB Euclidean distance to the border's median colour is at most this.
    static let backgroundDistance = 48
    /// The background applies when at least this fraction of the border ring belongs to it.
    static let uniformBorderFraction = 0.85
}
