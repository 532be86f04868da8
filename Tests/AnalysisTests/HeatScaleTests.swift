// The heatmap's colour scale is absolute: a map where nothing matters looks like one, and the bar is labelled in
// probability points up to a round number at or above the largest drop.
import Analysis
import Imaging
import Testing

@Suite struct HeatScaleTests {
    @Test(arguments: [
        (0.238, 0.25, false), (0.5, 0.5, false), (0.9, 1.0, false), (1.0, 1.0, false), (0.01, 0.01, false),
        (0.011, 0.015, false), (0.07, 0.08, false), (0.312, 0.4, false), (0.0004, 0.01, true), (0.0, 0.01, true), (0.00999, 0.01, true),
    ])
    func theScaleTopsAtARoundNumberOfPointsAtOrAboveTheLargestDrop(maxDrop: Double, maximum: Double, muted: Bool) {
        let scale = HeatScale(maxDrop: maxDrop)
        #expect(abs(scale.maximum - maximum) < 1e-12)
        #expect(scale.isMuted == muted)
    }

    @Test func theLabelsSayPoints() {
        #expect(HeatScale(maxDrop: 0.238).labels.map(\.text) == ["25", "12.5", "0"])
        #expect(HeatScale(maxDrop: 0.9).labels.map(\.text) == ["100", "50", "0"])
        #expect(HeatScale(maxDrop: 0.011).labels.map(\.text) == ["1.5", "0.75", "0"])
        #expect(HeatScale(maxDrop: 0.0004).labels.map(\.text) == ["< 1"])
        #expect(HeatScale.points(0.0004) == "0.04")
        #expect(HeatScale.points(0.2384) == "23.8")
        #expect(HeatScale.points(0.0125) == "1.25")
    }

    /// A 4 × 4 grid of patches on a 64 × 48 picture: one patch (top left) drops the class by `drop`, the rest by nothing.
    static func map(drop: Double) -> (OcclusionMap, RGBImage) {
        var drops = [Double](repeating: 0, count: 16)
        drops[0] = drop
        let map = OcclusionMap(classIndex: 817, label: "sports car", baseProbability: 0.5,
                               regions: .patches(patch: 12, stride: 16, columns: 4, rows: 3), drops: Array(drops.prefix(12)),
                               width: 64, height: 48)
        var pixels: [UInt8] = []
        for y in 0..<48 {
            for x in 0..<64 { pixels += [UInt8(x * 2), 90, UInt8(y * 4)] }
        }
        return (map, RGBImage(width: 64, height: 48, pixels: pixels))
    }

    @Test func aMapWhereNothingMattersIsDrawnMutedAndSaysSo() throws {
        let (map, input) = Self.map(drop: 0.0004)
        #expect(map.maxDrop == 0.0004)
        #expect(map.scale.isMuted)
        #expect(map.caption.hasPrefix("Hiding any single part changes 'sports car' (50.0%) by less than 1 point: the largest drop is 0.04 points"))
        let overlay = try map.overlay(on: input)
        #expect(overlay.width == 512 + HeatScale.panelWidth && overlay.height == 384)
        // Every pixel of the picture, and of the bar, is grey: nothing is coloured.
        for y in stride(from: 0, to: overlay.height, by: 7) {
            for x in stride(from: 0, to: overlay.width, by: 5) {
                let pixel = overlay.pixel(x: x, y: y)
                #expect(pixel[0] == pixel[1] && pixel[1] == pixel[2], "(\(x), \(y)) is \(pixel)")
            }
        }
    }

    @Test func aStrongDropIsColouredOnTheAbsoluteScaleAndTheRestIsLeftAsItIs() throws {
        let (map, input) = Self.map(drop: 0.238)
        #expect(map.scale.maximum == 0.25 && !map.scale.isMuted)
        #expect(map.caption == "Yellow: hiding that part lowers 'sports car' (50.0%) by up to 23.8 points; uncoloured: hiding it changes nothing. "
            + "The scale runs from 0 to 25 points.")
        let overlay = try map.overlay(on: input)
        let enlarged = input.resized(width: 512, height: 384, filter: .bilinear)
        // Inside the dropping patch (input 0..<12 → 0..<96 enlarged) the colour for 23.8 of 25 points is laid over.
        let inside = overlay.pixel(x: 40, y: 40), below = enlarged.pixel(x: 40, y: 40)
        #expect(inside != below)
        #expect(Int(inside[0]) > Int(below[0]) + 100, "yellow-orange raises red: \(inside) over \(below)")
        // Far from it (no patch there drops anything) the picture is the enlarged input, unchanged.
        #expect(overlay.pixel(x: 400, y: 300) == enlarged.pixel(x: 400, y: 300))
        // The same maps draw the same picture.
        let (again, againInput) = Self.map(drop: 0.238)
        #expect(try again.overlay(on: againInput) == overlay)
    }

    @Test func theBarIsLabelled() throws {
        let (map, input) = Self.map(drop: 0.238)
        let overlay = try map.overlay(on: input)
        // Dark ink right of the bar, where the labels go, and none in a picture without labels.
        var ink = 0
        for y in 0..<overlay.height {
            for x in (512 + 10 + 18 + 3)..<overlay.width where overlay.pixel(x: x, y: y).allSatisfy({ $0 < 100 }) { ink += 1 }
        }
        #expect(ink > 40, "the labels '25', '12.5' and '0' are drawn")
        let mask = try TextMask("12.5", points: 9)
        #expect(mask.height > 6 && mask.width > mask.height && mask.coverage.contains { $0 > 200 })
    }

    @Test func anOverlayOnAnImageOfAnotherSizeIsAnError() {
        let (map, _) = Self.map(drop: 0.2)
        #expect(throws: ImageError.self) { try map.overlay(on: RGBImage(width: 10, height: 10, pixels: [UInt8](repeating: 0, count: 300))) }
    }
}
