// `blindspot report --discover` on hand-made discovery results over ../shared/imagenet-sample: the slices'
// numbers and thumbnails in the report, found beside the results, by an absolute path, or nowhere.
import Foundation
import TestSupport
import Testing

@Suite struct DiscoveredSliceCommandTests {
    static let heldOutA1 = "Held out: 12 images, 50% wrong [25%, 75%], lift 2.50 [1.30, 3.90]"
    static let heldOutE1 = "Held out: 6 images, 33% wrong [10%, 60%], lift 1.40 [0.60, 2.40]"
    static let interventionA1 = "darkening 40 correct images to the slice's median brightness flips 41% [35%, 47%], against 2% re-encoded"
    static let missingMember = "n01440764_gone.JPEG"

    /// The sample photos, sorted: a1 holds the first ten, e1 a missing photo then the next five, and the 21st is a suspect label.
    static func photos() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: SharedData.url("imagenet-sample").path).filter { $0.hasSuffix(".JPEG") }.sorted()
    }

    /// Results as `blindspot discover --out FILE.json` writes them, of efficientnet_lite0 on `dataset`.
    static func results(dataset: String, a1Description: String = "brightness lowest fifth and fish") throws -> Data {
        let photos = try photos()
        func numbers(_ size: Int, _ errorRate: Double, _ errorRateCI: [Double], _ lift: Double, _ liftCI: [Double]) -> [String: Any] {
            ["size": size, "errorRate": errorRate, "errorRateCI": errorRateCI, "lift": lift, "liftCI": liftCI]
        }
        let a1: [String: Any] = [
            "id": "a1", "kind": "attribute", "description": a1Description, "members": Array(photos[0..<10]),
            "discovery": numbers(9, 0.44, [0.2, 0.7], 2.1, [1.1, 3.2]), "heldOut": numbers(12, 0.5, [0.25, 0.75], 2.5, [1.3, 3.9]),
            "confirmed": true, "confusions": [["expected": "tench", "predicted": "goldfish", "count": 3]], "confidence": 0.9975,
            "intervention": ["attribute": "brightness", "family": "darken", "level": "0.4", "images": 40, "flipRate": 0.41,
                             "flipRateCI": [0.35, 0.47], "controlFlipRate": 0.02, "causes": true, "finding": interventionA1],
            "transfer": [],
        ]
        let e1: [String: Any] = [
            "id": "e1", "kind": "embedding", "description": "mostly birds, sharpness lower than 80% of the folder",
            "members": [missingMember] + Array(photos[10..<15]),
            "discovery": numbers(7, 0.3, [0.1, 0.5], 1.5, [0.9, 2.2]), "heldOut": numbers(6, 0.333, [0.1, 0.6], 1.4, [0.6, 2.4]),
            "confirmed": false, "confusions": [], "confidence": 0.9975, "transfer": [],
        ]
        let model: [String: Any] = ["model": "efficientnet_lite0", "errorRate": 0.2, "heldOutErrorRate": 0.2, "slices": [a1, e1],
                                    "suspectLabels": [["file": photos[20], "label": "tench", "predicted": "goldfish", "confidence": 0.93]]]
        let object: [String: Any] = ["dataset": dataset, "images": 100, "seed": 7, "holdout": 0.5, "minimumSize": 5, "models": [model]]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// A fresh folder with `discover.json` in `results/` naming `dataset`, and, with `linked`, the sample photos as
    /// `results/imagenet-sample` (found beside the results, not from the working directory, which is the folder).
    static func folder(dataset: String = "imagenet-sample", linked: Bool = true) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-slices-\(UUID().uuidString)")
        let results = root.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        try Self.results(dataset: dataset).write(to: results.appendingPathComponent("discover.json"))
        if linked {
            try FileManager.default.createSymbolicLink(at: results.appendingPathComponent("imagenet-sample"), withDestinationURL: SharedData.url("imagenet-sample"))
        }
        return root
    }

    static func count(_ text: String, _ piece: String) -> Int { text.components(separatedBy: piece).count - 1 }

    @Test(.enabled(if: SharedData.has("imagenet-sample")))
    func reportShowsTheSlicesWithThumbnails() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        // The same results again, naming the photos by their absolute path.
        let absolute = root.appendingPathComponent("absolute.json")
        try Self.results(dataset: SharedData.url("imagenet-sample").path).write(to: absolute)
        let out = root.appendingPathComponent("report")
        let made = try await BlindspotBinary.run(["report", "--discover", "results/discover.json", absolute.path, "--out", "report"],
                                                 environment: ["BLINDSPOT_HOME": root.appendingPathComponent("home").path], directory: root)
        #expect(made.status == 0, "\(made.errors)")
        #expect(!made.errors.contains("warning"), "\(made.errors)")

        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && !html.contains("<script") && !html.contains("id=\"overview\""), "no catalog part")
        #expect(html.contains("<h2 id=\"discovery-1\">Blind spots discovered in imagenet-sample</h2>"))
        #expect(html.contains("<h2 id=\"discovery-2\">Blind spots discovered in \(SharedData.url("imagenet-sample").path)</h2>"))
        #expect(html.contains("From discover.json.") && html.contains("From absolute.json."))
        #expect(Self.count(html, ">a1: brightness lowest fifth and fish</h4>") == 2)
        #expect(Self.count(html, ">e1: mostly birds, sharpness lower than 80% of the folder</h4>") == 2)
        #expect(Self.count(html, Self.heldOutA1) == 2 && Self.count(html, Self.heldOutE1) == 2, "the held-out numbers of both slices")
        #expect(Self.count(html, "Intervention: " + Self.interventionA1.replacingOccurrences(of: "'", with: "&#39;")) == 2, "\(html)")
        // Per file: a1's first eight, e1's five present photos (its missing one has none) and the suspect label.
        #expect(Self.count(html, "<figure class=\"discovery-thumbnail\"><img src=\"data:image/jpeg;base64,") == 2 * (8 + 5 + 1))
        #expect(html.contains("<th scope=\"row\">efficientnet_lite0</th>"), "the model in the reproducibility table")

        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(Self.count(markdown, "Held out: 12 images, 50% wrong \\[25%, 75%\\], lift 2.50 \\[1.30, 3.90\\]") == 2, "\(markdown)")
        let pictures = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("images").path)
        #expect(pictures.count == 28)
        #expect(pictures.filter { $0.hasPrefix("discovery-1-") }.count == 14 && pictures.filter { $0.hasPrefix("discovery-2-") }.count == 14)
        for picture in pictures { #expect(markdown.contains("(images/\(picture))"), "report.md shows \(picture)") }
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample")))
    func aDatasetFoundNowhereGivesAReportWithoutThumbnails() async throws {
        let root = try Self.folder(linked: false)
        defer { try? FileManager.default.removeItem(at: root) }
        let made = try await BlindspotBinary.run(["report", "--discover", "results/discover.json", "--out", "report"],
                                                 environment: ["BLINDSPOT_HOME": root.appendingPathComponent("home").path], directory: root)
        #expect(made.status == 0, "\(made.errors)")
        #expect(made.errors.contains("warning: results/discover.json: the dataset folder 'imagenet-sample' was not found (looked at ")
            && made.errors.contains("; its slices are shown without thumbnails"), "\(made.errors)")
        let html = try String(contentsOf: root.appendingPathComponent("report/index.html"), encoding: .utf8)
        #expect(html.contains(Self.heldOutA1) && html.contains("No thumbnails: the images were not found where the results say (imagenet-sample)."))
        #expect(Self.count(html, "<figure class=\"discovery-thumbnail\">") == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("report/images").path).isEmpty)
    }
}
