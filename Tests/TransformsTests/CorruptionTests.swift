// ImageNet-C's corruptions through their public entry point: the table, sizes, seeds, refusals and the
// statistics of the noises. Parity with the reference implementation is Tests/Corruptions/test_parity.py's.
import Foundation
import Imaging
import Testing
import Transforms

struct CorruptionTests {
    @Test func tableFollowsThePaper() throws {
        #expect(Corruption.allCases.count == 19)
        #expect(Corruption.common.map(\.rawValue) == [
            "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
            "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression"])
        #expect(Corruption.heldOut.map(\.rawValue) == ["speckle_noise", "gaussian_blur", "spatter", "saturate"])
        #expect(Corruption.common.filter { $0.category == .weather }.map(\.rawValue) == ["snow", "frost", "fog", "brightness"])
        #expect(Corruption.allCases.filter(\.isRandom).count == 11)
        #expect(Set(Corruption.allCases.map(\.title)).count == 19)
        #expect(try Corruption.list("fog, snow,fog") == [.fog, .snow])
        #expect(try Corruption.list("held-out,common").count == 19)
        #expect(try Corruption.list("all") == Corruption.allCases)
        #expect(throws: UnknownCorruption(name: "rain")) { try Corruption.list("fog,rain") }
        #expect(UnknownCorruption(name: "rain").description.contains("elastic_transform"))
    }

    @Test(arguments: Corruption.allCases)
    func everySeverityKeepsTheSizeAndIsReproducible(corruption: Corruption) throws {
        let image = TestPictures.synthetic
        for severity in Corruption.severities {
            let first = try corruption.apply(to: image, severity: severity, seed: 3)
            #expect(first.width == image.width && first.height == image.height)
            #expect(first == (try corruption.apply(to: image, severity: severity, seed: 3)), "\(corruption) \(severity) not reproducible")
            #expect(first != image, "\(corruption) \(severity) left the image unchanged")
            let reseeded = try corruption.apply(to: image, severity: severity, seed: 4)
            #expect((reseeded != first) == corruption.isRandom, "\(corruption) \(severity): the seed matters only to the random ones")
        }
    }

    @Test func refusesWhatTheReferenceRefuses() {
        let image = TestPictures.synthetic
        #expect(throws: CorruptionError.badSeverity(0)) { try Corruption.fog.apply(to: image, severity: 0) }
        #expect(throws: CorruptionError.badSeverity(6)) { try Corruption.fog.apply(to: image, severity: 6) }
        let small = image.cropped(to: PixelRectangle(x: 0, y: 0, width: 31, height: 40))
        #expect(throws: CorruptionError.tooSmall(width: 31, height: 40)) { try Corruption.contrast.apply(to: small, severity: 1) }
        #expect(throws: FrostTexturesError.self) { try FrostTextures.photographs(in: URL(fileURLWithPath: "/nonexistent")) }
    }

    /// On a flat grey 128, the noises' spread is known in closed form (none of them reaches the clipping bounds
    /// often enough to matter, apart from impulse noise, whose flips are counted instead).
    @Test func noisesHaveTheReferenceDistributions() throws {
        let grey = RGBImage(width: 256, height: 256, pixels: [UInt8](repeating: 128, count: 256 * 256 * 3))
        let x = 128.0 / 255
        func spread(_ image: RGBImage) -> (mean: Double, deviation: Double) {
            let values = image.pixels.map(Double.init)
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
        // Truncation to 8 bits lowers every mean by half a level on average.
        let gaussian = spread(try Corruption.gaussianNoise.apply(to: grey, severity: 1, seed: 1))
        #expect(abs(gaussian.mean - 127.5) < 0.3 && abs(gaussian.deviation / (0.08 * 255) - 1) < 0.02, "\(gaussian)")
        let shot = spread(try Corruption.shotNoise.apply(to: grey, severity: 1, seed: 1))
        #expect(abs(shot.mean - 127.5) < 0.3 && abs(shot.deviation / ((x / 60).squareRoot() * 255) - 1) < 0.02, "\(shot)")
        let speckle = spread(try Corruption.speckleNoise.apply(to: grey, severity: 1, seed: 1))
        #expect(abs(speckle.mean - 127.5) < 0.3 && abs(speckle.deviation / (x * 0.15 * 255) - 1) < 0.02, "\(speckle)")
        let impulse = try Corruption.impulseNoise.apply(to: grey, severity: 3, seed: 1).pixels
        let (salt, pepper) = (impulse.count { $0 == 255 }, impulse.count { $0 == 0 })
        #expect(abs(Double(salt + pepper) / Double(impulse.count) / 0.09 - 1) < 0.03 && abs(Double(salt) / Double(salt + pepper) - 0.5) < 0.02)
    }

    @Test func seedsAndCropsFollowImageNetC() {
        // FNV-1a of "a" is 0xAF63DC4C8601EC8C.
        #expect(Corruption.seed(forImageNamed: "a") == 0xAF63_DC4C_8601_EC8C)
        #expect(Corruption.seed(forImageNamed: "a", seed: 1) == 0xAF63_DC4C_8601_EC8D)
        let crop = Corruption.imageNetCrop(TestPictures.synthetic)
        #expect(crop.width == 224 && crop.height == 224)
        // 300×200 → 384×256 (Pillow bilinear), then the centre: columns 80 to 303.
        #expect(crop == TestPictures.synthetic.resized(width: 384, height: 256, filter: .bilinear)
            .cropped(to: PixelRectangle(x: 80, y: 16, width: 224, height: 224)))
    }
}
