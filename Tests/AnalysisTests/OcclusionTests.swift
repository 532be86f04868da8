// Occlusion with the real efficientnet_lite0 on the tench photo (the grid, each drop equal to that occluded image
// classified alone, the fish mattering more than a corner, the overlay's size), and both methods' acceptance test on ten
// photos: greying out the hottest pixels costs the class more than greying out as many of the coldest.
import Analysis
import Engine
import Foundation
import Imaging
import Testing
import TestSupport

@Suite struct OcclusionTests {
    @Test func dropsAreWhatHidingEachPatchCosts() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo)
        let (map, input) = try classifier.occlusion(of: image)
        #expect(map.label == "tench" && map.classIndex == 0)
        guard case let .patches(patch, stride, columns, rows) = map.regions else {
            Issue.record("occlusion gave \(map.regions)")
            return
        }
        #expect(patch == 44 && stride == 20 && columns == 10 && rows == 10 && map.drops.count == 100)
        #expect(input.width == 224 && input.height == 224)

        let exact = classifier.model.preprocessing.withoutResizing()
        func probability(_ picture: RGBImage) throws -> Double {
            let tensor = try exact.tensor(from: picture)
            return try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 1)[0].probabilities[0]
        }
        #expect(abs(try probability(input) - map.baseProbability) < 1e-9)
        for index in [0, 37, 99] {
            let left = (index % columns) * stride, top = (index / columns) * stride
            #expect(map.bounds(of: index) == PixelRectangle(x: left, y: top, width: patch, height: patch))
            #expect(map.pixels(of: index).count == patch * patch)
            var pixels = input.pixels
            for y in top..<(top + patch) {
                for x in left..<(left + patch) { for channel in 0..<3 { pixels[(y * input.width + x) * 3 + channel] = 128 } }
            }
            let alone = try probability(RGBImage(width: input.width, height: input.height, pixels: pixels))
            #expect(abs(map.baseProbability - alone - map.drops[index]) < 1e-5, "position \(index)")
        }
        let strongest = try #require(map.drops.max())
        #expect(strongest > 0.1, "hiding part of the fish costs the class more than 10 points")
        #expect(map.drops[0] < strongest / 2, "hiding the top-left corner (background) matters less")

        let overlay = try map.overlay(on: input)
        #expect(overlay.height == OcclusionMap.overlayLongerSide && overlay.width == OcclusionMap.overlayLongerSide + HeatScale.panelWidth)
        #expect(try ImageFormat(sniffing: try overlay.pngData()) == .png)
    }

    enum Method: String, CaseIterable { case patches, superpixels }

    /// The issue's acceptance test: on at least 8 of the first 10 sample photos, greying out the hottest 20 % of the
    /// input pixels (by `heat`, for the model's first choice) lowers the class's probability more than greying out the
    /// coldest 20 %.
    @Test(arguments: Method.allCases)
    func hidingTheHottestPixelsCostsMoreThanHidingTheColdest(method: Method) throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photos = try #require(SamplePhotos.first(10), "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let exact = classifier.model.preprocessing.withoutResizing()
        var agreeing = 0
        for (number, photo) in photos.enumerated() {
            let image = try ImageDecoder().decode(photo)
            let (map, input) = switch method {
            case .patches: try classifier.occlusion(of: image)
            case .superpixels: try classifier.superpixelOcclusion(of: image)
            }
            let heat = map.heat
            // Hottest first; equal heat in pixel order, so the split is deterministic.
            let order = heat.indices.sorted { heat[$0] > heat[$1] || (heat[$0] == heat[$1] && $0 < $1) }
            let share = order.count / 5
            func probability(greying pixels: ArraySlice<Int>) throws -> Double {
                var values = input.pixels
                for pixel in pixels { for channel in 0..<3 { values[pixel * 3 + channel] = 128 } }
                let tensor = try exact.tensor(from: RGBImage(width: input.width, height: input.height, pixels: values))
                return try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 1)[0]
                    .probabilities[map.classIndex]
            }
            let hotDrop = map.baseProbability - (try probability(greying: order.prefix(share)))
            let coldDrop = map.baseProbability - (try probability(greying: order.suffix(share)))
            if hotDrop > coldDrop { agreeing += 1 }
            func points(_ value: Double) -> String { String(format: "%.3f", value) }
            print("\(method.rawValue) photo \(number) '\(map.label)' p=\(points(map.baseProbability)): hottest 20% drop \(points(hotDrop)), "
                  + "coldest 20% drop \(points(coldDrop))\(hotDrop > coldDrop ? "" : "  (cold costs more)")")
        }
        print("\(method.rawValue): hot beats cold on \(agreeing) of \(photos.count) photos")
        #expect(agreeing >= 8, "\(method.rawValue): hot beats cold on only \(agreeing) of \(photos.count)")
    }
}
