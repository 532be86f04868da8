// Occlusion sensitivity with the real efficientnet_lite0 on the tench photo: the grid the defaults give, each
// drop equal to classifying that occluded image alone, hiding the fish mattering more than hiding a corner, and
// the overlay's size.
import Core
import Engine
import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct OcclusionTests {
    @Test func dropsAreWhatHidingEachPatchCosts() throws {
        guard let classifier = try BatchSchedulerTests.lite0(), let photo = BatchSchedulerTests.photos(1)?.first else { return }
        let image = try ImageDecoder().decode(photo)
        let (map, input) = try classifier.occlusion(of: image)
        #expect(map.label == "tench" && map.classIndex == 0)
        #expect(map.patch == 44 && map.stride == 20 && map.columns == 10 && map.rows == 10 && map.drops.count == 100)
        #expect(input.width == 224 && input.height == 224)

        let exact = classifier.model.preprocessing.withoutResizing()
        func probability(_ picture: RGBImage) throws -> Double {
            let tensor = try exact.tensor(from: picture)
            return try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 1)[0].probabilities[0]
        }
        #expect(abs(try probability(input) - map.baseProbability) < 1e-9)
        for index in [0, 37, 99] {
            let (left, top) = map.origin(of: index)
            var pixels = input.pixels
            for y in top..<(top + map.patch) {
                for x in left..<(left + map.patch) { for channel in 0..<3 { pixels[(y * input.width + x) * 3 + channel] = 128 } }
            }
            let alone = try probability(RGBImage(width: input.width, height: input.height, pixels: pixels))
            #expect(abs(map.baseProbability - alone - map.drops[index]) < 1e-5, "position \(index)")
        }
        let strongest = try #require(map.drops.max())
        #expect(strongest > 0.1, "hiding part of the fish costs the class more than 10 points")
        #expect(map.drops[0] < strongest / 2, "hiding the top-left corner (background) matters less")

        let overlay = map.overlay(on: input)
        #expect(overlay.height == 224 && overlay.width > 224)
        #expect(try ImageFormat(sniffing: try overlay.pngData()) == .png)
    }
}
