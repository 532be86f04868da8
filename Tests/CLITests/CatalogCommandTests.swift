// `blindspot catalog` as a user runs it: the post's examples filed as approved reports in their categories, the
// catalog re-checked as a regression suite, and an export imported elsewhere giving back exactly the same catalog.
import Catalog
import Foundation
import TestSupport
import Testing

@Suite struct CatalogCommandTests {
    @Test(.enabled(if: SharedData.has("seed-examples/examples.json") && CachedWeights.url("efficientnet-lite0-57934424.pth") != nil))
    func examplesRecheckExportAndImportRoundTrip() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-catalog-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first").path, second = root.appendingPathComponent("second").path
        let archive = root.appendingPathComponent("catalog.zip").path

        let imported = try await BlindspotBinary.run(["catalog", "import-examples", SharedData.url("seed-examples").path, "--data", first])
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("16 of 16 examples added as approved reports (8 categories)"), "\(imported.output)")
        let again = try await BlindspotBinary.run(["catalog", "import-examples", SharedData.url("seed-examples").path, "--data", first])
        #expect(again.output.contains("0 of 16 examples added"), "importing twice merges: \(again.output)")

        let recheck = try await BlindspotBinary.run(["catalog", "recheck", "--model", "efficientnet_lite0", "--data", first])
        #expect(recheck.status == 0, "\(recheck.errors)")
        #expect(recheck.output.contains("16 approved reports re-checked on efficientnet_lite0"), "\(recheck.output)")

        let exported = try await BlindspotBinary.run(["catalog", "export", archive, "--data", first])
        #expect(exported.status == 0 && exported.output.contains("16 reports, 8 categories, 16 images"), "\(exported.output) \(exported.errors)")
        let restored = try await BlindspotBinary.run(["catalog", "import", archive, "--data", second])
        #expect(restored.status == 0, "\(restored.errors)")

        let original = try SQLiteCatalogStore(path: first + "/catalog.sqlite")
        let copy = try SQLiteCatalogStore(path: second + "/catalog.sqlite")
        let reports = try await original.allReports()
        #expect(reports.count == 16 && reports.allSatisfy { $0.status == .approved && !$0.rechecks.isEmpty && $0.category != nil })
        #expect(try await copy.allReports() == reports, "the round trip is exact")
        #expect(try await copy.categories() == original.categories())
        let vault = try ImageVault(directory: URL(fileURLWithPath: second + "/images"))
        #expect(reports.allSatisfy { vault.originalFile(sha256: $0.image.sha256).map(ImageVault.sha256(of:)) == $0.image.sha256 })
        try await original.close()
        try await copy.close()

        // PostgreSQL, where the images live in the database: the archive imported there gives the same reports and images,
        // and exported from there and imported into a third (SQLite) catalog, the same catalog again.
        if let postgres = ProcessInfo.processInfo.environment["BLINDSPOT_TEST_POSTGRES"], !postgres.isEmpty {
            let intoPostgres = try await BlindspotBinary.run(["catalog", "import", archive, "--database", postgres])
            #expect(intoPostgres.status == 0, "\(intoPostgres.errors)")
            let store = try await PostgresCatalogStore.connect(url: postgres)
            for report in reports {
                #expect(try await store.report(id: report.id) == report)
                #expect(try await store.original(sha256: report.image.sha256).map(ImageVault.sha256(of:)) == report.image.sha256)
            }
            try await store.close()
            let fromPostgres = root.appendingPathComponent("from-postgres.zip").path, third = root.appendingPathComponent("third").path
            #expect(try await BlindspotBinary.run(["catalog", "export", fromPostgres, "--database", postgres]).status == 0)
            #expect(try await BlindspotBinary.run(["catalog", "import", fromPostgres, "--data", third]).status == 0)
            let again = try SQLiteCatalogStore(path: third + "/catalog.sqlite")
            let ids = Set(reports.map(\.id))
            #expect(try await again.allReports().filter { ids.contains($0.id) } == reports, "SQLite → PostgreSQL → SQLite is exact")
            try await again.close()
        }

        let bogus = root.appendingPathComponent("bogus.zip")
        try Data("not a zip".utf8).write(to: bogus)
        let refused = try await BlindspotBinary.run(["catalog", "import", bogus.path, "--data", second])
        #expect(refused.status != 0 && refused.errors.contains("is not a zip archive"), "\(refused.errors)")
    }
}

@Suite struct ExplainCommandTests {
    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url("efficientnet-lite0-57934424.pth") != nil))
    func writesAHeatmapAndItsNumbers() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("heat-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try await BlindspotBinary.run(["explain", SharedData.url("imagenet-sample/n01440764_tench.JPEG").path, "--model", "efficientnet_lite0",
                                              "--class", "tench", "--patch", "56", "--stride", "56", "--out", out.path, "--json"])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["method"] as? String == "patches" && object["segments"] == nil)
        #expect(object["columns"] as? Int == 4 && object["rows"] as? Int == 4 && (object["drops"] as? [Double])?.count == 16)
        #expect((object["class"] as? [String: Any])?["label"] as? String == "tench")
        #expect(try Data(contentsOf: out).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let unknown = try await BlindspotBinary.run(["explain", SharedData.url("imagenet-sample/n01440764_tench.JPEG").path, "--class", "flying car", "--out", out.path])
        #expect(unknown.status != 0 && unknown.errors.contains("is not one of the 1000 ImageNet classes"))
    }

    @Test(.enabled(if: SharedData.has("imagenet-sample/n01440764_tench.JPEG") && CachedWeights.url("efficientnet-lite0-57934424.pth") != nil))
    func superpixelsGiveOneDropPerSegment() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("heat-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["explain", SharedData.url("imagenet-sample/n01440764_tench.JPEG").path, "--model", "efficientnet_lite0",
                         "--method", "superpixels", "--segments", "30", "--out", out.path]
        let result = try await BlindspotBinary.run(arguments + ["--json"])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["method"] as? String == "superpixels")
        let segments = try #require(object["segments"] as? Int)
        #expect((15...45).contains(segments) && (object["drops"] as? [Double])?.count == segments)
        #expect(object["patch"] == nil && object["columns"] == nil, "no patch grid for superpixels")
        #expect((object["class"] as? [String: Any])?["label"] as? String == "tench")
        #expect(try Data(contentsOf: out).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        let summary = try await BlindspotBinary.run(arguments)
        #expect(summary.status == 0, "\(summary.errors)")
        #expect(summary.output.contains("\(segments) superpixels on the 224×224 input"), "\(summary.output)")
        let hidings = summary.output.split(separator: "\n").filter { $0.contains("hiding segment") && $0.contains(" px, drops it by") }
        #expect(hidings.count == 3, "\(summary.output)")
    }

    @Test func methodOptionsAreChecked() async throws {
        let image = "any.png"
        for (arguments, message) in [
            (["--segments", "30"], "--segments needs --method superpixels"),
            (["--method", "patches", "--segments", "30"], "--segments needs --method superpixels"),
            (["--method", "superpixels", "--patch", "40"], "--patch and --stride are for --method patches"),
            (["--method", "superpixels", "--stride", "10"], "--patch and --stride are for --method patches"),
            (["--method", "superpixels", "--segments", "0"], "--segments must be 1…10000, not 0"),
            (["--method", "blobs"], "blobs"),
        ] {
            let result = try await BlindspotBinary.run(["explain", image, "--out", "heat.png"] + arguments)
            #expect(result.status != 0 && result.errors.contains(message), "\(arguments): \(result.errors)")
        }
    }
}
