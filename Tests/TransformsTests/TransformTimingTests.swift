// Time of every family on a 500×375 picture, printed and never asserted (debug builds and busy machines vary).
// The picture is the tench photo from ../shared when present, else a synthetic one of the same size.
import Foundation
import Imaging
import Testing
import Transforms

struct TransformTimingTests {
    #if DEBUG
    static let buildMode = "debug build, far slower than release"
    #else
    static let buildMode = "release build"
    #endif

    @Test func timePerFamilyOn500x375() throws {
        let photo = try TestPictures.photo()
        let picture = photo ?? TestPictures.make(width: 500, height: 375) { x, y, noise in
            [x / 2 + noise, y * 2 / 3 + noise, (x * y / 97) % 256]
        }
        let source = photo == nil ? "synthetic picture" : "tench photo"
        print("Transform times on a \(picture.width)×\(picture.height) \(source) (\(Self.buildMode)), per level, best of 3 runs: median and slowest level")
        for family in TransformFamily.allCases {
            var timings = [Double]()
            for level in family.levels {
                // The best of three runs: other tests run at the same time.
                let runs = (0 ..< 3).map { _ in
                    let elapsed = ContinuousClock().measure { _ = try? family.apply(to: picture, level: level) }
                    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                }
                timings.append(runs.min()!)
            }
            let sorted = timings.sorted()
            let name = family.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            print("  " + name + String(format: "%6.1f ms median, %6.1f ms slowest (%d levels)",
                                       sorted[sorted.count / 2], sorted.last!, sorted.count))
        }
    }
}
