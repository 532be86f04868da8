// The decode and the two reference pipelines on the 100 photos of ../shared/imagenet-sample, against
// Pillow's digests in Fixtures/pipeline-digests.json (CRC-32 and channel sums of each uint8 array).
import Foundation
import Imaging
import Testing
import TestSupport

struct PipelineParityTests {
    struct Entry: Decodable {
        let file: String
        /// Each is [width, height, crc32, red sum, green sum, blue sum].
        let decoded: [Int]
        let inceptionV3: [Int]
        let efficientNetLite0: [Int]
    }

    struct Digests: Decodable {
        let pillow: String
        let images: [Entry]
    }

    static let inception = Preprocessing(
        geometry: .resizeShorterSideThenCenterCrop(resize: 342, crop: 299, filter: .bilinear),
        normalization: .unitScaleThenStandardize(mean: [0.5, 0.5, 0.5], standardDeviation: [0.5, 0.5, 0.5]))
    static let lite0 = Preprocessing(
        geometry: .centerCropFractionThenResize(numerator: 224, denominator: 224 + 32, size: 224, filter: .bicubic),
        normalization: .standardize(mean: [127, 127, 127], standardDeviation: [128, 128, 128]))

    /// Our digests of one photo: decoded, Inception v3 input, EfficientNet-Lite0 input.
    private static func digests(of file: String) throws -> [[Int]] {
        let image = try ImageDecoder().decode(Data(contentsOf: SharedData.url("imagenet-sample/\(file)")))
        return [TestImages.digest(image), TestImages.digest(try inception.inputImage(from: image)), TestImages.digest(try lite0.inputImage(from: image))]
    }

    /// Mean absolute difference per value implied by two digests' channel sums (a lower bound when they differ).
    private static func meanBias(_ ours: [Int], _ theirs: [Int]) -> Double {
        let count = Double(ours[0] * ours[1] * 3)
        return zip(ours[3...], theirs[3...]).map { Double(abs($0 - $1)) }.reduce(0, +) / count
    }

    @Test func hundredSamplePhotosMatchPillow() async throws {
        try #require(SharedData.has("imagenet-sample"), "../shared is present (BLINDSPOT_SHARED)")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pipeline-digests.json")
        let reference = try JSONDecoder().decode(Digests.self, from: Data(contentsOf: fixture))
        let ours = try await withThrowingTaskGroup(of: (String, [[Int]]).self) { group in
            for entry in reference.images {
                group.addTask { (entry.file, try Self.digests(of: entry.file)) }
            }
            return try await group.reduce(into: [String: [[Int]]]()) { $0[$1.0] = $1.1 }
        }
        var matches = [0, 0, 0]
        for entry in reference.images {
            let theirs = [entry.decoded, entry.inceptionV3, entry.efficientNetLite0]
            let mine = try #require(ours[entry.file])
            for stage in 0 ..< 3 where mine[stage] == theirs[stage] {
                matches[stage] += 1
            }
            if mine != theirs {
                print("\(entry.file) differs; mean bias of decode, Inception, Lite0: "
                      + (0 ..< 3).map { String(Self.meanBias(mine[$0], theirs[$0])) }.joined(separator: ", "))
            }
        }
        print("of \(reference.images.count) photos, identical to Pillow \(reference.pillow): decode \(matches[0]),"
              + " Inception v3 input \(matches[1]), EfficientNet-Lite0 input \(matches[2])")
        #expect(reference.images.count == 100)
        #expect(matches == [100, 100, 100])
    }
}
