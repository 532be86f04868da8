// Pictures the transform tests make themselves (deterministic, no files), a sample photo from ../shared when it
// is there, and the measures the tests compare (means, spread, neighbour differences, distinct colours).
import Foundation
import Imaging
import TestSupport

enum TestPictures {
    /// 300×200: red and green ramps, a blue texture, a red rectangle, a blue disc, a black-and-white checkerboard,
    /// and a little noise everywhere.
    static let synthetic = make(width: 300, height: 200) { x, y, noise in
        if (40 ..< 100).contains(x) && (30 ..< 90).contains(y) {
            return [220 + noise / 2, 30 + noise, 40 + noise]
        }
        if (x - 200) * (x - 200) + (y - 120) * (y - 120) < 40 * 40 {
            return [30 + noise, 60 + noise, 200 + noise]
        }
        if (120 ..< 168).contains(x) && (140 ..< 188).contains(y) {
            return ((x / 8) + (y / 8)) % 2 == 0 ? [15, 15, 15] : [240, 240, 240]
        }
        let texture = 60 * sin(Double(x) / 7) * cos(Double(y) / 5)
        return [x * 255 / 299 + noise, y * 255 / 199 + noise, 128 + Int(texture) + noise]
    }

    /// A red disc on a near-white background with a little noise (a product shot).
    static let discOnWhite = make(width: 240, height: 180) { x, y, noise in
        (x - 120) * (x - 120) + (y - 90) * (y - 90) < 50 * 50 ? [200 + noise, 20 + noise, 30 + noise] : [245 + noise, 243 + noise, 240 + noise]
    }

    /// Smooth ramps only, for tests that compare positions.
    static let smooth = make(width: 300, height: 200) { x, y, _ in [x * 255 / 299, y * 255 / 199, (x + y) * 255 / 498] }

    /// One colour everywhere.
    static func flat(width: Int, height: Int, colour: [UInt8]) -> RGBImage {
        RGBImage(width: width, height: height, pixels: Array((0 ..< width * height).map { _ in colour }.joined()))
    }

    /// `colour(x, y, noise)` clipped to bytes; `noise` is a deterministic value in -8...8.
    static func make(width: Int, height: Int, colour: (Int, Int, Int) -> [Int]) -> RGBImage {
        var state: UInt32 = 12345
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * 3)
        for y in 0 ..< height {
            for x in 0 ..< width {
                state = state &* 1_103_515_245 &+ 12345
                let noise = Int((state >> 16) % 17) - 8
                pixels += colour(x, y, noise).map { UInt8(clamping: $0) }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A 500×375 ImageNet photo (the tench), or nil with a printed SKIP when ../shared is absent.
    static func photo() throws -> RGBImage? {
        let path = "imagenet-sample/n01440764_tench.JPEG"
        guard SharedData.has(path) else { return nil }
        return try ImageDecoder().decode(Data(contentsOf: SharedData.url(path)))
    }
}

/// What the tests measure.
extension RGBImage {
    func mean() -> Double {
        Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count)
    }

    func standardDeviation() -> Double {
        let mean = mean()
        return (pixels.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(pixels.count)).squareRoot()
    }

    /// The mean squared difference between horizontal (`dx` 1) or vertical (`dy` 1) neighbours.
    func neighbourEnergy(dx: Int, dy: Int) -> Double {
        var sum = 0.0
        for y in 0 ..< height - dy {
            for x in 0 ..< width - dx {
                for channel in 0 ..< 3 {
                    let difference = Double(pixels[(y * width + x) * 3 + channel]) - Double(pixels[((y + dy) * width + x + dx) * 3 + channel])
                    sum += difference * difference
                }
            }
        }
        return sum / Double((width - dx) * (height - dy) * 3)
    }

    var highFrequencyEnergy: Double { neighbourEnergy(dx: 1, dy: 0) + neighbourEnergy(dx: 0, dy: 1) }

    /// The mean absolute difference per value from an image of the same size.
    func meanAbsoluteDifference(from other: RGBImage) -> Double {
        precondition(width == other.width && height == other.height)
        return Double(zip(pixels, other.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(pixels.count)
    }

    var distinctColours: Int {
        var colours = Set<Int>()
        for start in stride(from: 0, to: pixels.count, by: 3) {
            let red = Int(pixels[start]), green = Int(pixels[start + 1]), blue = Int(pixels[start + 2])
            colours.insert(red << 16 | green << 8 | blue)
        }
        return colours.count
    }

    func distinctValues(channel: Int) -> Int {
        Set(stride(from: channel, to: pixels.count, by: 3).map { pixels[$0] }).count
    }

    var channelsAreEqual: Bool {
        stride(from: 0, to: pixels.count, by: 3).allSatisfy { (start: Int) -> Bool in
            pixels[start] == pixels[start + 1] && pixels[start] == pixels[start + 2]
        }
    }

    /// Rec. 601 luma of one pixel.
    func luma(x: Int, y: Int) -> Double {
        let pixel = pixel(x: x, y: y).map(Double.init)
        return 0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2]
    }
}
