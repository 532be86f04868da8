// `blindspot probe` end to end: the JSON result, the terminal summary, the self-contained HTML page, and
// option errors.
import Foundation
import TestSupport
import Testing

@Suite struct ProbeCommandTests {
    static var tench: String { SharedData.url("imagenet-sample/n01440764_tench.JPEG").path }

    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url("efficientnet-lite0-57934424.pth") != nil))
    func printsJSONASummaryAndWritesAPage() async throws {
        let page = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: page) }
        let arguments = ["probe", Self.tench, "--model", "efficientnet_lite0", "--expected", "tench", "--families", "rotate,blur,background"]
        let json = try await BlindspotBinary.run(arguments + ["--json"])
        #expect(json.status == 0, "\(json.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let families = try #require(object["families"] as? [[String: Any]])
        #expect(families.map { $0["family"] as? String } == ["rotate", "blur", "background"])
        let variants = try #require(object["variants"] as? [[String: Any]])
        let backgroundApplies = families[2]["notApplicable"] == nil
        let planned = (backgroundApplies ? 4 : 0) + 29  // the original, 23 rotations, 5 blurs
        #expect(variants.count == planned)
        #expect(variants.allSatisfy { $0["thumbnail"] == nil }, "no thumbnails unless a page is written")
        let model = try #require((object["models"] as? [[String: Any]])?.first)
        #expect(model["model"] as? String == "efficientnet_lite0")
        #expect(((model["outcomes"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])?.first?["label"] as? String == "tench")

        let summary = try await BlindspotBinary.run(arguments + ["--html", page.path])
        #expect(summary.status == 0, "\(summary.errors)")
        #expect(summary.output.contains("efficientnet_lite0: original → tench"), "\(summary.output)")
        #expect(summary.output.contains("/23 ") && summary.output.contains("/5 "), "one line per family with its flipped count: \(summary.output)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<style>") && !html.contains("<script"))
        #expect(html.contains("id=\"probe-rotate\"") && html.contains("id=\"probe-blur\"") && html.contains("id=\"probe-background\""))
        let pictures = 30  // per family, the original and every level
        #expect(html.components(separatedBy: "<img src=\"data:image/jpeg;base64,").count - 1 >= pictures)
    }

    @Test func optionsAreChecked() async throws {
        let unknown = try await BlindspotBinary.run(["probe", "x.jpg", "--families", "rotate,sideways"])
        #expect(unknown.status != 0 && unknown.errors.contains("unknown family 'sideways'"), "\(unknown.errors)")
        let both = try await BlindspotBinary.run(["probe", "x.jpg", "--compare", "--model", "efficientnet_lite0"])
        #expect(both.status != 0 && both.errors.contains("--compare uses every present model"), "\(both.errors)")
    }
}
