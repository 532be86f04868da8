// Where frost's ice comes from: the reference's five photographs of frost (read from the `imagecorruptions`
// package's `frost` folder when the user has it), or five ice textures Blindspot draws itself.
import Engine
import Foundation
import Imaging

public enum FrostTextures: Sendable, Equatable {
    case procedural
    case photographs([RGBImage], folder: String)

    /// The files the reference picks from (it never picks its sixth, frost6.jpg).
    public static let photographNames = ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"]

    /// The reference's photographs from its `frost` folder; a missing or unreadable file is named.
    public static func photographs(in folder: URL) throws(FrostTexturesError) -> FrostTextures {
        let decoder = ImageDecoder()
        var images: [RGBImage] = []
        for name in photographNames {
            let url = folder.appendingPathComponent(name)
            do {
                images.append(try decoder.decode(Data(contentsOf: url)))
            } catch {
                throw FrostTexturesError(file: url.path, reason: "\(error)")
            }
        }
        return .photographs(images, folder: folder.path)
    }

    /// How results and cards name the source.
    public var source: String {
        switch self {
        case .procedural: "procedural (Blindspot's own ice textures, not the reference's photographs)"
        case .photographs(_, let folder): "the reference's photographs in \(folder)"
        }
    }

    /// Blindspot's texture `number` (0...4), drawn once.
    static func procedural(number: Int) -> RGBImage { drawn[min(max(number, 0), drawn.count - 1)] }

    private static let drawn = (0 ..< 5).map(draw)

    /// A 512-pixel square of ice: a plasma fractal for the frosted haze and a few hundred branching needles,
    /// slightly blurred, shaded from blue-grey to white. Brightness varies from texture to texture as the photographs' does.
    private static func draw(number: Int) -> RGBImage {
        let side = 512
        var random = SplitMix64(seed: 0xF205_7000 + UInt64(number))
        let haze = CorruptionRun.plasmaFractal(side: side, decay: 1.8, random: &random)
        var needles = FloatImage(width: side, height: side)
        for _ in 0 ..< 220 + 40 * number {
            let (x, y) = (random.uniform(0, Double(side)), random.uniform(0, Double(side)))
            let angle = random.uniform(0, 2 * Double.pi), length = random.uniform(12, 80)
            needles.stroke(x: x, y: y, angle: angle, length: length, strength: random.uniform(0.4, 1))
            for branch in 1 ... 3 {
                let along = length * Double(branch) / 4
                let side = branch.isMultiple(of: 2) ? 1.0 : -1.0
                needles.stroke(x: x + along * cos(angle), y: y + along * sin(angle), angle: angle + side * Double.pi / 3,
                               length: length / 3, strength: random.uniform(0.3, 0.8))
            }
        }
        let ice = needles.gaussianFiltered(sigma: 0.8)
        let brightness = [0.35, 0.85, 0.6, 0.5, 0.45][number]
        let dark = [40.0, 80, 100], light = [235.0, 240, 250]
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for index in 0 ..< side * side {
            let value = min(max(0.25 * brightness + 0.45 * haze[index] * brightness + 0.9 * min(ice.values[index], 1), 0), 1)
            for channel in 0 ..< 3 {
                pixels[index * 3 + channel] = UInt8((dark[channel] + (light[channel] - dark[channel]) * value).rounded())
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }
}

public struct FrostTexturesError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let reason: String

    public var description: String { "cannot read the frost texture \(file): \(reason)" }
}

extension FloatImage {
    /// A straight line of `length` pixels from (x, y) along `angle`, added with `strength`, wrapping at the edges.
    mutating func stroke(x: Double, y: Double, angle: Double, length: Double, strength: Double) {
        for step in 0 ..< Int(length * 2) {
            let distance = Double(step) / 2
            let column = (Int((x + distance * cos(angle)).rounded()) % width + width) % width
            let row = (Int((y + distance * sin(angle)).rounded()) % height + height) % height
            values[row * width + column] = min(values[row * width + column] + strength, 1)
        }
    }
}
