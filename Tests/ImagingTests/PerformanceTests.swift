// Decode and preprocessing times, printed and never asserted (debug builds and busy machines vary widely).
// The large JPEG is made here with libvips; the small one is a photo from ../shared/imagenet-sample.
import Foundation
import Imaging
import Testing
import TestSupport

struct PerformanceTests {
    #if DEBUG
    static let buildMode = "debug build, far slower than release"
    #else
    static let buildMode = "release build"
    #endif

    /// The median of `repeats` timings of `work`, in milliseconds.
    private func medianMilliseconds(repeats: Int, _ work: () throws -> Void) rethrows -> Double {
        var timings = [Double]()
        for _ in 0 ..< repeats {
            let elapsed = try ContinuousClock().measure(work)
            timings.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return timings.sorted()[repeats / 2]
    }

    private func report(_ label: String, _ jpeg: Data, minimumShorterSide: Int? = nil, repeats: Int) throws {
        let decoder = ImageDecoder()
        let decode = try medianMilliseconds(repeats: repeats) {
            _ = try decoder.decode(jpeg, minimumShorterSide: minimumShorterSide)
        }
        let image = try decoder.decode(jpeg, minimumShorterSide: minimumShorterSide)
        let inception = try medianMilliseconds(repeats: repeats) { _ = try PipelineParityTests.inception.tensor(from: image) }
        let lite0 = try medianMilliseconds(repeats: repeats) { _ = try PipelineParityTests.lite0.tensor(from: image) }
        print(String(format: "%@ (decoded %d×%d; %@): decode %.1f ms, Inception v3 tensor %.1f ms, EfficientNet-Lite0 tensor %.1f ms",
                     label, image.width, image.height, Self.buildMode, decode, inception, lite0))
    }

    @Test func decodeAndPreprocessTimes() throws {
        if SharedData.has("imagenet-sample/n01440764_tench.JPEG") {
            try report("500×375 photo", Data(contentsOf: SharedData.url("imagenet-sample/n01440764_tench.JPEG")), repeats: 9)
        }
        let width = 4000, height = 3000
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
            for index in 0 ..< width * height * 3 {
                let pixel = index / 3, x = pixel % width, y = pixel / width
                buffer[index] = UInt8(truncatingIfNeeded: (x / 7) ^ (y / 5) &+ index % 3 &* 80)
            }
            count = width * height * 3
        }
        let large = TestImages.encode(pixels: pixels, width: width, height: height, bands: 3, as: .jpeg(quality: 85))
        try report("4000×3000 JPEG of \(large.count / 1024) KB", large, repeats: 3)
        try report("the same with shrink-on-load for 342", large, minimumShorterSide: 342, repeats: 3)
    }
}
