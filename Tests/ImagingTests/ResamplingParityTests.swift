// Resizing must equal Pillow's Image.resize byte for byte (Fixtures/resize-cases.json, made by
// Fixtures/make_resize_fixtures.py from the same synthetic images). Whole pipelines are in PipelineParityTests.
import Foundation
import Imaging
import Testing

struct ResamplingParityTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let source: String
        let width: Int
        let height: Int
        let filter: String
        let pixels: String

        var testDescription: String { "\(source) → \(width)×\(height) \(filter)" }
    }

    struct Cases: Decodable {
        let pillow: String
        let cases: [Case]
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resize-cases.json")

    static func load() -> [Case] {
        (try? JSONDecoder().decode(Cases.self, from: Data(contentsOf: fixture)).cases) ?? []
    }

    /// ImageNet-C's pixelate shrinks with BOX and enlarges with NEAREST; these values are Pillow's (11.3 and 13).
    @Test func boxAndNearestMatchPillow() {
        func row(_ values: [UInt8]) -> RGBImage { RGBImage(width: values.count, height: 1, pixels: values.flatMap { [$0, $0, $0] }) }
        func reds(_ image: RGBImage) -> [UInt8] { Swift.stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] } }
        let five = row([10, 20, 30, 40, 50])
        #expect(reds(five.resized(width: 3, height: 1, filter: .box)) == [15, 30, 45])
        #expect(reds(five.resized(width: 2, height: 1, filter: .box)) == [20, 45])
        // 112 → 300: Pillow accumulates the position, so output 37 reads input 13 where ⌊(37 + ½) · 112 / 300⌋ is 14.
        let ramp = reds(row((0 ..< 112).map(UInt8.init)).resizedNearest(width: 300, height: 1))
        #expect(ramp.count == 300 && ramp[37] == 13 && ramp[36] == 13 && ramp[38] == 14 && ramp[299] == 111)
    }

    @Test func fixtureHasBothFiltersAndTwentyTwoCases() {
        let cases = Self.load()
        #expect(cases.count == 22)
        #expect(Set(cases.map(\.filter)) == ["bilinear", "bicubic"])
    }

    @Test(arguments: load())
    func matchesPillowExactly(_ testCase: Case) throws {
        let source = try #require(TestImages.source(named: testCase.source))
        let filter = try #require(ResamplingFilter(rawValue: testCase.filter))
        let expected = try #require(Data(base64Encoded: testCase.pixels))
        let result = source.resized(width: testCase.width, height: testCase.height, filter: filter)
        let differences = zip(result.pixels, expected).map { abs(Int($0) - Int($1)) }
        let differing = differences.filter { $0 != 0 }.count
        #expect(result.pixels.count == expected.count)
        #expect(differing == 0, "\(differing) values differ, largest by \(differences.max() ?? 0)")
    }
}
