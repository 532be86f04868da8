// Preprocessing specs: PIL's crop and rounding rules, the exact Float normalisation, tensor layout, batch slots
// and the exact-size mode. Parity of the resize itself is in ResamplingParityTests.swift.
import Engine
import Foundation
import Imaging
import Testing

struct PreprocessingTests {
    static let inception = PipelineParityTests.inception
    static let lite0 = PipelineParityTests.lite0

    @Test func normalisationEqualsNumpyFloat32BitForBit() throws {
        // numpy: x = np.arange(256, dtype=np.uint8).astype(np.float32); ((x / 255.0) - 0.5) / 0.5 and (x - 127.0) / 128.0
        let inception = try Self.levels(through: Self.inception.normalization)
        let lite = try Self.levels(through: Self.lite0.normalization)
        let expectedInception: [Int: UInt32] = [0: 3_212_836_864, 1: 3_212_705_278, 127: 3_145_760_896,
                                                128: 998_277_376, 200: 1_058_115_986, 254: 1_065_221_630, 255: 1_065_353_216]
        let expectedLite: [Int: UInt32] = [0: 3_212_705_792, 1: 3_212_574_720, 127: 0, 128: 1_006_632_960,
                                           200: 1_058_144_256, 255: 1_065_353_216]
        for (level, bits) in expectedInception {
            #expect(inception.scalars[level].bitPattern == bits, "Inception, level \(level)")
        }
        for (level, bits) in expectedLite {
            #expect(lite.scalars[level].bitPattern == bits, "Lite, level \(level)")
        }
    }

    @Test func theTwoFormulasRoundDifferentlyForHalfTheLevels() throws {
        let unitScaled = try Self.levels(through: Self.inception.normalization)
        let direct = try Self.levels(through: .standardize(mean: [127.5, 127.5, 127.5], standardDeviation: [127.5, 127.5, 127.5]))
        #expect(zip(unitScaled.scalars, direct.scalars).filter { $0 != $1 }.count == 3 * 128)
    }

    @Test func tensorIsPlanarChannelFirst() throws {
        let image = RGBImage(width: 2, height: 1, pixels: [0, 128, 255, 255, 0, 128])
        let spec = Preprocessing(geometry: .exactSize(width: 2, height: 1),
                                 normalization: .standardize(mean: [0, 100, 200], standardDeviation: [1, 2, 4]))
        let tensor = try spec.tensor(from: image)
        #expect(tensor.shape == [3, 1, 2])
        #expect(tensor.scalars == [0, 255, 14, -50, 13.75, -18])
    }

    @Test func batchSlotsHoldTheSameValuesAsSingleTensors() throws {
        let first = TestImages.noise(width: 400, height: 300, seed: 7)
        let second = TestImages.gradient(width: 250, height: 410)
        var batch = Tensor(zeros: [2] + Self.lite0.tensorShape)
        try Self.lite0.write(second, into: &batch, at: 1)
        try Self.lite0.write(first, into: &batch, at: 0)
        let slot = Tensor.count(of: Self.lite0.tensorShape)
        #expect(Array(batch.scalars[..<slot]) == (try Self.lite0.tensor(from: first)).scalars)
        #expect(Array(batch.scalars[slot...]) == (try Self.lite0.tensor(from: second)).scalars)
    }

    @Test func exactSizeModeOnlyNormalises() throws {
        let spec = Self.inception.withoutResizing()
        #expect(spec.geometry == .exactSize(width: 299, height: 299))
        let image = TestImages.noise(width: 299, height: 299, seed: 3)
        #expect(try spec.inputImage(from: image) == image)
        #expect(throws: ImageError.sizeMismatch(width: 300, height: 200, expectedWidth: 299, expectedHeight: 299)) {
            try spec.tensor(from: TestImages.noise(width: 300, height: 200, seed: 3))
        }
        #expect(ImageError.sizeMismatch(width: 300, height: 200, expectedWidth: 299, expectedHeight: 299).description
                == "image is 300×200 pixels but must be exactly 299×299 when resizing is off")
    }

    /// torchvision's arithmetic: the long side `int(342 × long / short)`, the crop at `round((side - 299) / 2)` with
    /// Python's round half to even.
    @Test(arguments: [
        // 342 × 685 / 684 = 342.5 truncates to 342; the crop starts at round(21.5) = 22 on both axes.
        (685, 684, 342, 342, 22, 22),
        // 342 × 500 / 333 = 513.5…, truncated to 513 (rounding would give 514); round(107.0) = 107, round(21.5) = 22.
        (500, 333, 513, 342, 107, 22),
        // 342 × 501 / 300 = 571.14 → 571; round(136.0) = 136. 342 × 300 / 299 = 343.1 → 343; round(22.0) = 22.
        (300, 501, 342, 571, 22, 136),
        (299, 300, 342, 343, 22, 22),
    ])
    func inceptionFollowsTorchvision(_ size: (Int, Int, Int, Int, Int, Int)) throws {
        let (width, height, resizedWidth, resizedHeight, left, top) = size
        let image = TestImages.noise(width: width, height: height, seed: 11)
        let expected = image.resized(width: resizedWidth, height: resizedHeight, filter: .bilinear)
            .cropped(to: PixelRectangle(x: left, y: top, width: 299, height: 299))
        #expect(try Self.inception.inputImage(from: image) == expected)
    }

    @Test(arguments: [(401, 173), (173, 401), (120, 500)])
    func resizingOnlyTheCropEqualsResizingEverythingThenCropping(width: Int, height: Int) throws {
        // A small spec keeps the reference computation quick; 120×500 to 50×208 runs the vertical pass first.
        let spec = Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: 50, crop: 40, filter: .bicubic),
                                 normalization: Self.inception.normalization)
        let image = TestImages.noise(width: width, height: height, seed: width)
        let resizedLong = 50 * max(width, height) / min(width, height)
        let (resizedWidth, resizedHeight) = width <= height ? (50, resizedLong) : (resizedLong, 50)
        func offset(_ side: Int) -> Int { Int((Double(side - 40) / 2).rounded(.toNearestOrEven)) }
        let expected = image.resized(width: resizedWidth, height: resizedHeight, filter: .bicubic).cropped(
            to: PixelRectangle(x: offset(resizedWidth), y: offset(resizedHeight), width: 40, height: 40))
        #expect(try spec.inputImage(from: image) == expected)
    }

    @Test func liteCropsItsFractionOfTheShorterSide() throws {
        // EfficientNet-Lite2: 260 / (260 + 32) of 375 is 333.9, so a 333-pixel square at ((500-333+1)//2, (375-333+1)//2).
        let lite2 = Preprocessing(geometry: .centerCropFractionThenResize(numerator: 260, denominator: 292, size: 260, filter: .bicubic),
                                  normalization: Self.lite0.normalization)
        let image = TestImages.noise(width: 500, height: 375, seed: 5)
        let expected = image.cropped(to: PixelRectangle(x: 84, y: 21, width: 333, height: 333))
            .resized(width: 260, height: 260, filter: .bicubic)
        #expect(try lite2.inputImage(from: image) == expected)
        #expect(lite2.tensorShape == [3, 260, 260])
    }

    /// Images of 1×1, 2×3 and 3×2 pixels through both recipes, against Pillow's digests in Fixtures/tiny-pipelines.json
    /// (torchvision's arithmetic for Inception v3; for EfficientNet-Lite a crop of at least one pixel, where the
    /// reference's would be empty).
    @Test func tinyImagesGoThroughBothRecipesAsPillowDoes() throws {
        struct Entry: Decodable {
            let source: String
            let inceptionV3: [Int]
            let efficientNetLite0: [Int]
        }
        struct Fixture: Decodable { let images: [Entry] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-pipelines.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.images.map(\.source) == ["noise-1x1", "noise-2x3", "noise-3x2"])
        for entry in fixture.images {
            let image = try #require(TestImages.source(named: entry.source))
            #expect(TestImages.digest(try Self.inception.inputImage(from: image)) == entry.inceptionV3, "\(entry.source), Inception v3")
            #expect(TestImages.digest(try Self.lite0.inputImage(from: image)) == entry.efficientNetLite0, "\(entry.source), EfficientNet-Lite0")
        }
    }

    /// The tensor of one row of the 256 levels (equal in all three channels) under `normalization`.
    private static func levels(through normalization: Normalization) throws -> Tensor {
        let image = RGBImage(width: 256, height: 1, pixels: (0 ... 255).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        return try Preprocessing(geometry: .exactSize(width: 256, height: 1), normalization: normalization).tensor(from: image)
    }
}
