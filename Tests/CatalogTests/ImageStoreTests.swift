// Both places images live: files beside SQLite (ImageVault) and PostgreSQL's image table, through one protocol; and
// PostgreSQL's promise that an image and its report are written in one transaction.
import Catalog
import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct ImageStoreTests {
    /// The SQLite store with a file vault, and, when configured, PostgreSQL keeping both.
    static func places() async throws -> [(name: String, store: any CatalogStore, images: any ImageStore)] {
        let (sqlite, path) = try Stores.temporarySQLite()
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var places: [(name: String, store: any CatalogStore, images: any ImageStore)] = [
            ("files", sqlite, try ImageVault(directory: folder.appendingPathComponent("images"))),
        ]
        if let postgres = try await PostgresStoreFactory.make() as? PostgresCatalogStore { places.append(("postgres", postgres, postgres)) }
        return places
    }

    static func photo() throws -> (bytes: Data, image: EncodedImage) {
        try #require(SharedData.has("seed-examples/car2.png"), "../shared is present (BLINDSPOT_SHARED)")
        let bytes = try Data(contentsOf: SharedData.url("seed-examples/car2.png"))
        return (bytes, try ImageVault.encode(bytes, decoder: ImageDecoder()))
    }

    /// Kept as the store asks (before the report, or with it), read back byte for byte, kept while a report points to
    /// it and removed after.
    @Test func keptReadAndRemovedWithTheirReports() async throws {
        let (bytes, image) = try Self.photo()
        for (name, store, images) in try await Self.places() {
            let sha256 = image.stored.sha256
            #expect(try await !images.contains(sha256: sha256), "\(name)")
            if !images.keepsImagesWithReports { try await images.write(image) }
            let report = try await store.add(NewFiledReport(image: image.stored, expected: CatalogClass(index: 817, label: "sports car"), category: nil,
                                                            note: "", reporter: nil, verdicts: [], encoded: images.keepsImagesWithReports ? image : nil)).report
            #expect(try await images.contains(sha256: sha256), "\(name)")
            #expect(try await images.original(sha256: sha256) == bytes, "\(name)")
            let display = try #require(try await images.display(sha256: sha256), "\(name)")
            let format = try ImageFormat(sniffing: display)
            #expect(display == image.display && format == .png, "\(name)")
            try await images.removeIfUnreferenced(sha256: sha256, store: store)
            #expect(try await images.contains(sha256: sha256), "\(name): a report still points to it")
            _ = try await store.delete(id: report.id)
            try await images.removeIfUnreferenced(sha256: sha256, store: store)
            let original = try await images.original(sha256: sha256)
            #expect(try await !images.contains(sha256: sha256) && original == nil, "\(name)")
            try await store.close()
        }
    }

    /// A report PostgreSQL refuses (its category does not exist) leaves no image behind: both were one transaction.
    @Test(.enabled(if: PostgresStoreFactory.isConfigured, PostgresStoreFactory.notConfigured))
    func aRefusedReportLeavesNoImageInPostgreSQL() async throws {
        let (_, image) = try Self.photo()
        let store = try #require(try await PostgresStoreFactory.make() as? PostgresCatalogStore)
        await #expect(throws: CatalogError.self) {
            _ = try await store.add(NewFiledReport(image: image.stored, expected: CatalogClass(index: 817, label: "sports car"), category: "no-such-category",
                                                   note: "", reporter: nil, verdicts: [], encoded: image))
        }
        #expect(try await !store.contains(sha256: image.stored.sha256))
        try await store.close()
    }
}
