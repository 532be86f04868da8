// `blindspot catalog move-images`: a file catalog's images copied into PostgreSQL, checked by SHA-256 (a tampered
// original is refused, and the exit status says so), and a second run copies nothing twice.
import Catalog
import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct MoveImagesCommandTests {
    static let postgres = ProcessInfo.processInfo.environment["BLINDSPOT_TEST_POSTGRES"] ?? ""

    /// A PNG no other run has made: random pixels.
    static func uniquePNG(side: Int) throws -> Data {
        try RGBImage(width: side, height: side, pixels: (0..<(side * side * 3)).map { _ in UInt8.random(in: 0...255) }).pngData()
    }

    @Test(.enabled(if: !postgres.isEmpty, "BLINDSPOT_TEST_POSTGRES is not set (make test starts a throwaway PostgreSQL and sets it)"))
    func copiesCheckedImagesOnceAndRefusesTamperedOnes() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-move-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let vault = try ImageVault(directory: data.appendingPathComponent("images"))
        let kept = try [Self.uniquePNG(side: 40), Self.uniquePNG(side: 70)].map { try vault.store($0, decoder: ImageDecoder()) }
        let tampered = try vault.store(Self.uniquePNG(side: 30), decoder: ImageDecoder())
        let tamperedFile = try #require(try FileManager.default.contentsOfDirectory(atPath: vault.directory.appendingPathComponent(String(tampered.sha256.prefix(2))).path)
            .first { $0.hasPrefix(tampered.sha256 + ".original.") })
        try Self.uniquePNG(side: 30).write(to: vault.directory.appendingPathComponent(String(tampered.sha256.prefix(2))).appendingPathComponent(tamperedFile))

        let arguments = ["catalog", "move-images", "--from-data", data.path, "--database", Self.postgres]
        let first = try await BlindspotBinary.run(arguments)
        #expect(first.status == 1 && first.output.contains("copied 2 images, 0 already there, 1 refused"), "\(first.output) \(first.errors)")
        #expect(first.errors.contains("refused \(tampered.sha256)"))
        let second = try await BlindspotBinary.run(arguments)
        #expect(second.output.contains("copied 0 images, 2 already there, 1 refused"), "\(second.output)")

        let store = try await PostgresCatalogStore.connect(url: Self.postgres)
        for image in kept {
            #expect(try await store.original(sha256: image.sha256) == vault.originalFile(sha256: image.sha256))
            #expect(try await store.display(sha256: image.sha256) == FileManager.default.contents(atPath: vault.displayFile(sha256: image.sha256).path))
        }
        #expect(try await !store.contains(sha256: tampered.sha256))
        try await store.close()

        let withoutDatabase = try await BlindspotBinary.run(["catalog", "move-images", "--from-data", data.path])
        #expect(withoutDatabase.status != 0 && withoutDatabase.errors.contains("give --database"))
    }
}
