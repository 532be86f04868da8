// `blindspot report --discover` and `blindspot catalog import-slice` on hand-made discovery results over
// ../shared/imagenet-sample: the slices' numbers and thumbnails in the report, the slice's images filed as reports.
import Analysis
import Catalog
import Curation
import Foundation
import Models
import Reports
import TestSupport
import Testing

@Suite struct DiscoveredSliceCommandTests {
    static var lite0Present: Bool { CachedWeights.url("efficientnet-lite0-57934424.pth") != nil }
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
                                    "suspectLabels": [["file": photos[20], "label": "tench", "predicted": "goldfish", "confidence": 0.93]],
                                    "answers": photos.map { _ in ["predicted": "goldfish", "confidence": 0.5] }]
        // Every photo is a record, labelled with the name its file carries, every other one held out.
        let records = photos.enumerated().map { index, file in
            ["file": file, "label": String(file.drop { $0 != "_" }.dropFirst().prefix { $0 != "." }), "heldOut": index % 2 == 0] as [String: Any]
        }
        let object: [String: Any] = ["dataset": dataset, "images": photos.count, "seed": 7, "holdout": 0.5, "minimumSize": 5,
                                     "records": records, "models": [model]]
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
        // The same model's slices twice, yet every anchor once: each run's ids carry its section's.
        let ids = html.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(Set(ids).count == ids.count && ids.contains("discovery-2-efficientnet_lite0-a1"), "\(ids)")

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

    @Test(.enabled(if: SharedData.has("imagenet-sample") && lite0Present))
    func importSliceFilesPendingReportsInOneCategory() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        // Only efficientnet_lite0 is present, so it alone judges.
        let home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let weights = try #require(CachedWeights.url("efficientnet-lite0-57934424.pth"))
        try FileManager.default.createSymbolicLink(at: home.appendingPathComponent(weights.lastPathComponent), withDestinationURL: weights)
        func importSlice(_ arguments: [String]) async throws -> CommandResult {
            try await BlindspotBinary.run(["catalog", "import-slice", "results/discover.json", "--data", "data"] + arguments,
                                          environment: ["BLINDSPOT_HOME": home.path], directory: root)
        }

        let first = try await importSlice(["--slice", "a1", "--limit", "4"])
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.contains("4 of the 10 images of slice a1 (efficientnet_lite0) filed as pending reports, 4 new; judged by efficientnet_lite0"),
                "\(first.output)")
        let again = try await importSlice(["--slice", "a1", "--limit", "4"])
        #expect(again.status == 0 && again.output.contains("4 of the 10 images of slice a1 (efficientnet_lite0) filed as pending reports, 0 new"),
                "\(again.output) \(again.errors)")
        #expect(again.output.contains("already there") && Self.count(again.output, "(already reported: a confirmation added)") == 4)
        let other = try await importSlice(["--slice", "e1"])
        #expect(other.status == 0, "\(other.errors)")
        #expect(other.errors.contains("warning: skipped \(Self.missingMember): no longer exists in "), "\(other.errors)")
        #expect(other.output.contains("5 of the 6 images of slice e1 (efficientnet_lite0) filed as pending reports, 5 new"), "\(other.output)")

        let store = try SQLiteCatalogStore(path: root.appendingPathComponent("data/catalog.sqlite").path)
        let categories = try await store.categories().filter { $0.title.hasPrefix("Discovered: ") }
        let reports = try await store.allReports()
        try await store.close()
        #expect(categories.map(\.title) == ["Discovered: brightness lowest fifth and fish", "Discovered: mostly birds, sharpness lower than 80% of the folder"])
        let a1 = try #require(categories.first)
        for text in ["Confirmed attribute slice of 10 images. " + Self.heldOutA1, "Intervention: \(Self.interventionA1).",
                     "Most often tench → goldfish (3 images).", "Slice a1 of efficientnet_lite0 in discover.json", "seed 7"] {
            #expect(a1.finding.contains(text), "'\(text)' in \(a1.finding)")
        }
        #expect(categories.last?.finding.contains("Not confirmed embedding slice of 6 images. " + Self.heldOutE1) == true)

        #expect(reports.count == 9 && reports.allSatisfy { $0.status == .pending && $0.reporter == "blindspot discover" })
        let inA1 = reports.filter { $0.category == a1.slug }
        #expect(inA1.count == 4 && inA1.allSatisfy { $0.confirmations == 2 }, "filed once, confirmed by the second import")
        #expect(reports.filter { $0.category == categories.last?.slug }.count == 5)
        // Each is expected to be its file's label, the WordNet id its name starts with, and efficientnet_lite0 judged it.
        let labels = try ImageNetLabels.bundled()
        let photos = try Self.photos()
        let expected = try (Array(photos[0..<4]) + Array(photos[10..<15])).map { photo in
            try #require(labels.index(ofWordNetID: String(photo.prefix { $0 != "_" })))
        }
        #expect(reports.map(\.expected.index) == expected)
        #expect(reports.allSatisfy { $0.verdicts.map(\.model) == ["efficientnet_lite0"] })
        #expect(reports.first?.note.hasPrefix("\(photos[0]) is one of the 10 images of slice a1 of efficientnet_lite0 in discover.json") == true)
    }

    /// What `blindspot discover` really writes, not a hand-made copy: read back by both commands.
    @Test(.enabled(if: SharedData.has("imagenet-sample") && lite0Present))
    func realDiscoverResultsGoIntoTheReportAndTheCatalog() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-slices-real-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let discovered = try await BlindspotBinary.run(["discover", SharedData.url("imagenet-sample").path, "--model", "efficientnet_lite0",
                                                        "--min-size", "3", "--out", "d.json"], directory: root, timeout: 600)
        #expect(discovered.status == 0, "\(discovered.errors)")
        let results = try JSONDecoder().decode(DiscoveryResults.self, from: Data(contentsOf: root.appendingPathComponent("d.json")))
        let slices = try #require(results.models.first?.slices)
        let slice = try #require(slices.first)

        let made = try await BlindspotBinary.run(["report", "--discover", "d.json", "--out", "report"], directory: root)
        #expect(made.status == 0 && !made.errors.contains("warning"), "\(made.errors)")
        let html = try String(contentsOf: root.appendingPathComponent("report/index.html"), encoding: .utf8)
        for slice in slices { #expect(html.contains(">\(slice.id): \(HTMLText.escape(slice.description))</h4>"), "\(slice.id)") }
        let suspects = min(results.models[0].suspectLabels.count, DiscoveryReport.listedSuspects)
        #expect(Self.count(html, "<figure class=\"discovery-thumbnail\">")
            == slices.map { min($0.members.count, DiscoveryReport.picturesPerSlice) }.reduce(suspects, +))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("report/images").path).count
            == DiscoveryReport.picturedFiles(results).count)

        let filed = try await BlindspotBinary.run(["catalog", "import-slice", "d.json", "--slice", slice.id, "--limit", "3", "--data", "data"], directory: root)
        #expect(filed.status == 0, "\(filed.errors)")
        let store = try SQLiteCatalogStore(path: root.appendingPathComponent("data/catalog.sqlite").path)
        let reports = try await store.allReports()
        let category = try #require(try await store.categories().first { $0.title.hasPrefix("Discovered: ") })
        try await store.close()
        #expect(reports.count == min(3, slice.members.count) && reports.allSatisfy { $0.category == category.slug && $0.status == .pending })
        #expect(category.finding.contains("Held out: \(slice.heldOut.size) image"), "\(category.finding)")
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample")))
    func importSliceRefusesWhatItCannotFile() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.results(dataset: "nowhere").write(to: root.appendingPathComponent("elsewhere.json"))
        // Every case fails before a model is loaded: none is present.
        let environment = ["BLINDSPOT_HOME": root.appendingPathComponent("home").path, "BLINDSPOT_DATA": root.appendingPathComponent("data").path]
        for (arguments, message) in [
            (["results/discover.json", "--slice", "z9"], "error: efficientnet_lite0 has no slice 'z9' in the results; its slices are a1, e1\n"),
            (["results/discover.json", "--slice", "a1", "--model", "inception_v3"],
             "error: the results have no model 'inception_v3'; they have efficientnet_lite0\n"),
            (["elsewhere.json", "--slice", "a1"], "error: elsewhere.json: the dataset folder 'nowhere' was not found (looked at "),
            (["elsewhere.json", "--slice", "a1", "--dataset", "missing"], "error: missing: no such directory\n"),
        ] {
            let result = try await BlindspotBinary.run(["catalog", "import-slice"] + arguments, environment: environment, directory: root, timeout: 60)
            #expect(result.status == 1 && result.errors.hasPrefix(message), "\(arguments): \(result.errors)")
        }
        let nowhere = try await BlindspotBinary.run(["catalog", "import-slice", "elsewhere.json", "--slice", "a1"], environment: environment, directory: root)
        #expect(nowhere.errors.hasSuffix("; pass --dataset DIR\n"), "\(nowhere.errors)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("data/catalog.sqlite").path), "nothing was opened")
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample")))
    func aLongDescriptionIsCutToTheCategoryTitleLimit() throws {
        let description = String(repeating: "darker than most and ", count: 10) + "fish"
        let results = try JSONDecoder().decode(DiscoveryResults.self, from: Self.results(dataset: "x", a1Description: description))
        let slice = try DiscoveredSlice(results, model: nil, slice: "a1", source: "discover.json")
        #expect(slice.categoryTitle.unicodeScalars.count == CatalogLimits.categoryTitleLength)
        #expect(slice.categoryTitle.hasPrefix("Discovered: darker than most and") && slice.categoryTitle.hasSuffix("…"))
        #expect(throws: Never.self) { try CatalogValidation.validate(Category(slug: "s", title: slice.categoryTitle)) }
        #expect(throws: SliceChoiceError.unknownSlice("a9", model: "efficientnet_lite0", known: ["a1", "e1"])) {
            try DiscoveredSlice(results, model: nil, slice: "a9", source: "discover.json")
        }
    }
}
