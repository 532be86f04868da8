// One behaviour, two databases: every test runs against SQLite and, when make test has started one, PostgreSQL.
import Catalog
import Foundation
import TestSupport
import Testing

enum Stores {
    static func temporarySQLite() throws -> (store: SQLiteCatalogStore, path: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("catalog.sqlite").path
        return (try SQLiteCatalogStore(path: path), path)
    }

    /// Fresh, empty stores of every kind available here, with their names.
    static func all() async throws -> [(name: String, store: any CatalogStore)] {
        var stores: [(String, any CatalogStore)] = [("sqlite", try temporarySQLite().store)]
        if let postgres = try await PostgresStoreFactory.make() { stores.append(("postgres", postgres)) }
        return stores
    }

    static func each(_ body: (String, any CatalogStore) async throws -> Void) async throws {
        for (name, store) in try await all() {
            do {
                try await body(name, store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }
}

enum Samples {
    static func sha(_ seed: Int) -> String {
        ImageVault.sha256(of: Data("image \(seed)".utf8))
    }

    static func verdict(_ model: String, rank: Int, at milliseconds: Int64 = 1_700_000_000_000) -> ModelVerdict {
        ModelVerdict(model: model, weightsDigest: String(repeating: "ab", count: 32),
                     predictions: [CatalogPrediction(index: 409, label: "analog clock", probability: 0.48),
                                   CatalogPrediction(index: 485, label: "CD player", probability: 0.12)],
                     expectedRank: rank, expectedProbability: rank == 1 ? 0.6 : 0.001, checkedAt: Date(millisecondsSince1970: milliseconds))
    }

    static func report(_ seed: Int, expected: Int = 436, category: String? = nil, note: String = "", verdicts: [ModelVerdict] = []) -> NewFiledReport {
        NewFiledReport(image: StoredImage(sha256: sha(seed), width: 300, height: 200), expected: CatalogClass(index: expected, label: "class \(expected)"),
                  category: category, note: note, reporter: nil, verdicts: verdicts)
    }
}

@Suite struct StoreConformanceTests {
    /// Every test below runs on each store of `Stores.all()`; this one says, as a skip, when PostgreSQL is not among them.
    @Test(.enabled(if: PostgresStoreFactory.isConfigured, PostgresStoreFactory.notConfigured))
    func postgreSQLIsAmongTheStores() async throws {
        let stores = try await Stores.all()
        #expect(stores.map(\.name) == ["sqlite", "postgres"])
        for (_, store) in stores { try await store.close() }
    }

    @Test func aNewReportIsPendingWithEverythingItWasGiven() async throws {
        try await Stores.each { name, store in
            try await store.ensureCategory(Category(slug: "upside-down-cars", title: "Upside down cars", finding: "Not a car when upside down"))
            let new = NewFiledReport(image: StoredImage(sha256: Samples.sha(1), width: 640, height: 480), expected: CatalogClass(index: 436, label: "beach wagon"),
                                category: "upside-down-cars", note: "<script>alert(1)</script> ünïcödé", reporter: "Ada",
                                verdicts: [Samples.verdict("inception_v3", rank: 37), Samples.verdict("efficientnet_lite0", rank: 1)])
            let (report, merged) = try await store.add(new)
            #expect(!merged, "\(name)")
            #expect(report.status == .pending && report.confirmations == 1, "\(name)")
            #expect(report.image == new.image && report.expected == new.expected && report.note == new.note && report.reporter == "Ada", "\(name)")
            #expect(report.category == "upside-down-cars", "\(name)")
            #expect(report.verdicts.sorted { $0.model < $1.model } == new.verdicts.sorted { $0.model < $1.model }, "\(name)")
            #expect(report.rechecks.isEmpty, "\(name)")
            #expect(try await store.report(id: report.id) == report, "\(name)")
            #expect(try await store.report(id: report.id + 1000) == nil, "\(name)")
            #expect(try await store.isReferenced(imageSHA256: Samples.sha(1)), "\(name)")
            #expect(try await !store.isReferenced(imageSHA256: Samples.sha(2)), "\(name)")
        }
    }

    @Test func theSameImageAndClassIsMergedNotStoredTwice() async throws {
        try await Stores.each { name, store in
            let first = try await store.add(Samples.report(1, note: "first"))
            let again = try await store.add(Samples.report(1, note: "second"))
            #expect(again.merged && again.report.id == first.report.id, "\(name)")
            #expect(again.report.confirmations == 2 && again.report.note == "first", "\(name)")
            let otherClass = try await store.add(Samples.report(1, expected: 468))
            #expect(!otherClass.merged && otherClass.report.id != first.report.id, "\(name)")
            #expect(try await store.list(ReportQuery()).total == 2, "\(name)")
        }
    }

    @Test func concurrentReportsOfOneBlindSpotAllCount() async throws {
        try await Stores.each { name, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<32 {
                    group.addTask { _ = try await store.add(Samples.report(7)) }
                    group.addTask { _ = try await store.add(Samples.report(100 + index)) }
                }
                try await group.waitForAll()
            }
            let page = try await store.list(ReportQuery(pageSize: 200))
            #expect(page.total == 33, "\(name)")
            #expect(page.reports.first { $0.image.sha256 == Samples.sha(7) }?.confirmations == 32, "\(name)")
        }
    }

    @Test func listingFiltersPagesAndPutsTheNewestFirst() async throws {
        try await Stores.each { name, store in
            try await store.ensureCategory(Category(slug: "roombas", title: "Roombas"))
            var ids: [Int64] = []
            for seed in 0..<7 {
                let report = try await store.add(Samples.report(seed, expected: seed < 3 ? 436 : 500, category: seed.isMultiple(of: 2) ? "roombas" : nil,
                                                                note: seed == 5 ? "Looks like a CD Player" : "",
                                                                verdicts: [Samples.verdict("lite0", rank: seed == 4 ? 1 : 9)])).report
                ids.append(report.id)
                try await Task.sleep(for: .milliseconds(3))
            }
            _ = try await store.setStatus(.approved, of: ids[1])
            _ = try await store.setStatus(.rejected, of: ids[2])
            let all = try await store.list(ReportQuery())
            #expect(all.reports.map(\.id) == ids.reversed(), "\(name): newest first")
            #expect(try await store.list(ReportQuery(category: "roombas")).reports.map(\.id) == [ids[6], ids[4], ids[2], ids[0]], "\(name)")
            #expect(try await store.list(ReportQuery(expected: 436)).total == 3, "\(name)")
            #expect(try await store.list(ReportQuery(status: .approved)).reports.map(\.id) == [ids[1]], "\(name)")
            #expect(try await store.list(ReportQuery(status: .pending)).total == 5, "\(name)")
            #expect(try await store.list(ReportQuery(text: "cd player")).reports.map(\.id) == [ids[5]], "\(name): case-insensitive")
            #expect(try await store.list(ReportQuery(text: "roomb")).total == 4, "\(name): the category matches too")
            #expect(try await store.list(ReportQuery(text: "100%")).total == 0, "\(name): % is a character, not a wildcard")
            #expect(try await store.list(ReportQuery(model: "lite0")).total == 6, "\(name): the blind spot holds for lite0 on all but one")
            #expect(try await store.list(ReportQuery(text: "cd_player")).total == 0, "\(name): _ is a character, not a wildcard")
            #expect(try await store.list(ReportQuery(text: "looks player")).total == 1, "\(name): every word must match")
            #expect(try await store.list(ReportQuery(text: "looks roombas")).total == 0, "\(name)")
            let beyond = try await store.list(ReportQuery(page: Int.max))
            #expect(beyond.reports.isEmpty && beyond.total == 7, "\(name): a page past the end is empty")
            let second = try await store.list(ReportQuery(page: 2, pageSize: 3))
            #expect(second.reports.map(\.id) == [ids[3], ids[2], ids[1]] && second.total == 7 && second.page == 2, "\(name)")
        }
    }

    @Test func rechecksReplaceTheLatestVerdictAndTheModelFilterFollowsThem() async throws {
        try await Stores.each { name, store in
            let report = try await store.add(Samples.report(1, verdicts: [Samples.verdict("lite0", rank: 12, at: 1_000)])).report
            #expect(try await store.list(ReportQuery(model: "lite0")).total == 1, "\(name)")
            try await store.recordRecheck(of: report.id, verdicts: [Samples.verdict("lite0", rank: 1, at: 2_000)])
            #expect(try await store.list(ReportQuery(model: "lite0")).total == 0, "\(name): fixed by the new version")
            try await store.recordRecheck(of: report.id, verdicts: [Samples.verdict("lite0", rank: 3, at: 3_000), Samples.verdict("lite1", rank: 2, at: 3_000)])
            let rechecked = try #require(try await store.report(id: report.id))
            #expect(rechecked.rechecks.count == 2 && rechecked.rechecks.first { $0.model == "lite0" }?.expectedRank == 3, "\(name)")
            #expect(rechecked.verdicts.count == 1 && rechecked.verdicts[0].expectedRank == 12, "\(name): the report-time verdict stays")
            #expect(try await store.list(ReportQuery(model: "lite0")).total == 1, "\(name)")
            await #expect(throws: CatalogError.notFound(report.id + 99)) { try await store.recordRecheck(of: report.id + 99, verdicts: []) }
        }
    }

    @Test func moderationAndDeletion() async throws {
        try await Stores.each { name, store in
            let report = try await store.add(Samples.report(1, verdicts: [Samples.verdict("lite0", rank: 4)])).report
            let approved = try #require(try await store.setStatus(.approved, of: report.id))
            #expect(approved.status == .approved && approved.updatedAt >= report.updatedAt, "\(name)")
            #expect(try await store.setStatus(.approved, of: report.id + 50) == nil, "\(name)")
            #expect(try await store.delete(id: report.id)?.id == report.id, "\(name)")
            #expect(try await store.delete(id: report.id) == nil, "\(name)")
            #expect(try await store.report(id: report.id) == nil, "\(name)")
            #expect(try await !store.isReferenced(imageSHA256: report.image.sha256), "\(name)")
        }
    }

    @Test func categoriesKeepTheirFirstDefinitionAndOrder() async throws {
        try await Stores.each { name, store in
            try await store.ensureCategory(Category(slug: "sliced-apples", title: "Sliced apples", finding: "cucumbers"))
            try await store.ensureCategory(Category(slug: "geese-in-the-sky", title: "Geese in the sky"))
            try await store.ensureCategory(Category(slug: "sliced-apples", title: "Changed"))
            #expect(try await store.categories().map(\.slug) == ["sliced-apples", "geese-in-the-sky"], "\(name)")
            #expect(try await store.categories().first?.title == "Sliced apples", "\(name)")
            await #expect(throws: CatalogError.self) { try await store.ensureCategory(Category(slug: "Bad Slug", title: "x")) }
        }
    }

    @Test func badReportsAreRefusedWithReasons() async throws {
        try await Stores.each { name, store in
            await #expect(throws: CatalogError.self, "\(name)") { _ = try await store.add(Samples.report(1, expected: 1000)) }
            await #expect(throws: CatalogError.self, "\(name)") { _ = try await store.add(Samples.report(1, note: String(repeating: "x", count: 2001))) }
            await #expect(throws: CatalogError.self, "\(name): unknown category") { _ = try await store.add(Samples.report(1, category: "nope")) }
            let total = try await store.list(ReportQuery()).total
            #expect(total == 0, "\(name): nothing half-written")
        }
    }

    @Test func restoreRoundTripsExactly() async throws {
        try await Stores.each { name, store in
            try await store.ensureCategory(Category(slug: "roombas", title: "Roombas"))
            let original = try await store.add(Samples.report(3, category: "roombas", note: "n", verdicts: [Samples.verdict("lite0", rank: 2)])).report
            _ = try await store.add(Samples.report(3))
            try await store.recordRecheck(of: original.id, verdicts: [Samples.verdict("lite0", rank: 5, at: 9_000)])
            let full = try #require(try await store.setStatus(.approved, of: original.id))
            let (other, _) = try await Stores.temporarySQLite()
            try await other.ensureCategory(Category(slug: "roombas", title: "Roombas"))
            try await other.restore(full)
            #expect(try await other.report(id: full.id) == full, "\(name) → sqlite")
            try await other.close()
            try await store.restore(full)
            #expect(try await store.report(id: full.id) == full, "\(name): restoring over itself")
            #expect(try await store.allReports() == [full], "\(name)")
            let far = FiledReport(id: full.id + 100, image: StoredImage(sha256: Samples.sha(9), width: 2, height: 2), expected: full.expected,
                             category: nil, note: "", reporter: nil, status: .approved, confirmations: 3, createdAt: full.createdAt,
                             updatedAt: full.updatedAt, verdicts: [], rechecks: [])
            try await store.restore(far)
            let next = try await store.add(Samples.report(10)).report
            #expect(next.id > far.id, "\(name): new reports never take a restored id")
        }
    }
}

@Suite struct SQLiteFileTests {
    @Test func aReopenedCatalogHasEverythingAndIsSound() async throws {
        let (store, path) = try Stores.temporarySQLite()
        let report = try await store.add(Samples.report(1, verdicts: [Samples.verdict("lite0", rank: 2)])).report
        try await store.close()
        let reopened = try SQLiteCatalogStore(path: path)
        #expect(try await reopened.report(id: report.id) == report)
        #expect(try await reopened.integrityCheck() == "ok")
        try await reopened.close()
    }
}
