// SLIC superpixels: flat quadrants are never crossed, a real photo gets about the segments asked for, each one
// 4-connected and the result deterministic; superpixel occlusion with the real efficientnet_lite0 on the tench photo
// measures what greying out each segment costs.
import Analysis
import Engine
import Foundation
import Imaging
import Models
import Testing
import TestSupport

@Suite struct SuperpixelTests {
    /// Every segment index in 0..<count, every index used, and each segment one 4-connected piece.
    static func checkPartition(_ superpixels: Superpixels) {
        let width = superpixels.width, height = superpixels.height, segments = superpixels.segments
        #expect(segments.count == width * height)
        #expect(segments.allSatisfy { (0..<Int32(superpixels.count)).contains($0) }, "every pixel labelled in 0..<count")
        var sizes = [Int](repeating: 0, count: superpixels.count)
        for segment in segments { sizes[Int(segment)] += 1 }
        #expect(!sizes.contains(0), "every segment number is used")
        // Flood each segment from its first pixel; it must reach all of the segment's pixels.
        var reached = [Bool](repeating: false, count: segments.count)
        var disconnected: [Int] = []
        for seed in segments.indices where !reached[seed] {
            var stack = [seed], size = 0
            reached[seed] = true
            while let index = stack.popLast() {
                size += 1
                let x = index % width, y = index / width
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where (0..<width).contains(nx) && (0..<height).contains(ny) {
                    let neighbour = ny * width + nx
                    if !reached[neighbour] && segments[neighbour] == segments[seed] {
                        reached[neighbour] = true
                        stack.append(neighbour)
                    }
                }
            }
            if size != sizes[Int(segments[seed])] { disconnected.append(Int(segments[seed])) }
        }
        #expect(disconnected.isEmpty, "segments in more than one 4-connected piece: \(disconnected)")
    }

    @Test func flatQuadrantsAreNeverCrossed() {
        // Boundaries off the SLIC grid, at x = 97 and y = 131.
        let width = 224, height = 224, splitX = 97, splitY = 131
        let colours: [[UInt8]] = [[200, 40, 40], [40, 160, 60], [50, 70, 210], [230, 210, 60]]
        func quadrant(_ index: Int) -> Int { (index % width < splitX ? 0 : 1) + (index / width < splitY ? 0 : 2) }
        let pixels = (0..<(width * height)).flatMap { colours[quadrant($0)] }
        let superpixels = Superpixels(segmenting: RGBImage(width: width, height: height, pixels: pixels), count: 50)
        Self.checkPartition(superpixels)
        var quadrants = [Set<Int>](repeating: [], count: superpixels.count)
        for (index, segment) in superpixels.segments.enumerated() { quadrants[Int(segment)].insert(quadrant(index)) }
        #expect(quadrants.allSatisfy { $0.count == 1 }, "segments crossing a quadrant boundary: \(quadrants.indices.filter { quadrants[$0].count > 1 })")
    }

    @Test func aPhotoGetsAboutTheSegmentsAskedForConnectedAndDeterministic() throws {
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let descriptor = try #require(ModelZoo.standard.model(named: "efficientnet_lite0"))
        let input = try descriptor.preprocessing.inputImage(from: try ImageDecoder().decode(photo))
        #expect(input.width == 224 && input.height == 224)
        for requested in [20, 50, 100] {
            let superpixels = Superpixels(segmenting: input, count: requested)
            print("SLIC of the tench photo: \(superpixels.count) segments for \(requested) asked")
            #expect(Double(superpixels.count) >= 0.5 * Double(requested) && Double(superpixels.count) <= 1.5 * Double(requested))
            Self.checkPartition(superpixels)
            #expect(Superpixels(segmenting: input, count: requested) == superpixels, "the same image gives the same segments")
        }
        // Time it (release: well under 50 ms for 224 × 224).
        let clock = ContinuousClock()
        var fastest = Duration.seconds(1000)
        for _ in 0..<5 {
            let elapsed = clock.measure { _ = Superpixels(segmenting: input, count: 50) }
            fastest = min(fastest, elapsed)
        }
        print("SLIC of a 224×224 input, 50 segments: \(fastest) (fastest of 5)")
    }

    @Test func superpixelDropsAreWhatGreyingEachSegmentCosts() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo)
        let clock = ContinuousClock()
        var result: (map: OcclusionMap, input: RGBImage)?
        let elapsed = try clock.measure { result = try classifier.superpixelOcclusion(of: image) }
        let (map, input) = try #require(result)
        print("superpixelOcclusion of the tench photo with efficientnet_lite0: \(map.drops.count) segments in \(elapsed)")
        #expect(map.label == "tench" && map.classIndex == 0)
        #expect(input.width == 224 && input.height == 224 && map.width == 224 && map.height == 224)
        guard case let .superpixels(segments, count) = map.regions else {
            Issue.record("superpixelOcclusion gave \(map.regions)")
            return
        }
        #expect(map.drops.count == count && segments.count == 224 * 224 && (25...75).contains(count))
        #expect(map.heat == segments.map { map.drops[Int($0)] })

        let exact = classifier.model.preprocessing.withoutResizing()
        func probability(_ picture: RGBImage) throws -> Double {
            let tensor = try exact.tensor(from: picture)
            return try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 1)[0].probabilities[0]
        }
        #expect(abs(try probability(input) - map.baseProbability) < 1e-9)
        for index in [0, count / 2, count - 1] {
            var pixels = input.pixels
            for pixel in 0..<(224 * 224) where segments[pixel] == Int32(index) {
                for channel in 0..<3 { pixels[pixel * 3 + channel] = 128 }
            }
            #expect(map.pixels(of: index).count == segments.filter { $0 == Int32(index) }.count)
            let alone = try probability(RGBImage(width: input.width, height: input.height, pixels: pixels))
            #expect(abs(map.baseProbability - alone - map.drops[index]) < 1e-5, "segment \(index)")
        }
        let overlay = try map.overlay(on: input)
        #expect(overlay.height == OcclusionMap.overlayLongerSide && overlay.width == OcclusionMap.overlayLongerSide + HeatScale.panelWidth)
        #expect(try ImageFormat(sniffing: try overlay.pngData()) == .png)
    }
}
