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
