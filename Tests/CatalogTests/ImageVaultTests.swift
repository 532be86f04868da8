// Images in the catalog: kept once by content, originals byte-exact, display copies re-encoded PNGs no larger
// than 1024 px, and anything that is not an acceptable image refused before a file is written.
import Catalog
import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct ImageVaultTests {
    static func vault() throws -> ImageVault {
        try ImageVault(directory: FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-vault-\(UUID().uuidString)"))
    }

    @Test func keepsTheOriginalAndAReencodedDisplayCopy() throws {
        guard SharedData.has("seed-examples/car2.png") else {
            print("SKIP: \(SharedData.url("seed-examples").path) is absent")
            return
        }
        let bytes = try Data(contentsOf: SharedData.url("seed-examples/car2.png"))
        let vault = try Self.vault()
        let stored = try vault.store(bytes, decoder: ImageDecoder())
        #expect(stored.sha256 == ImageVault.sha256(of: bytes))
        #expect(vault.contains(sha256: stored.sha256))
        #expect(vault.original(sha256: stored.sha256) == bytes)
        let display = try Data(contentsOf: vault.displayFile(sha256: stored.sha256))
        #expect(try ImageFormat(sniffing: display) == .png)
        let shown = try ImageDecoder().decode(display)
        #expect(max(shown.width, shown.height) <= ImageVault.displaySide)
        #expect(Double(shown.width) / Double(shown.height) - Double(stored.width) / Double(stored.height) < 0.01)
        #expect(try vault.store(bytes, decoder: ImageDecoder()) == stored, "the same bytes again")
        vault.remove(sha256: stored.sha256)
        #expect(!vault.contains(sha256: stored.sha256) && vault.original(sha256: stored.sha256) == nil)
    }

    @Test func refusesWhatIsNotAnImageAndWritesNothing() throws {
        let vault = try Self.vault()
        for bytes in [Data(), Data("<svg onload='alert(1)'/>".utf8), Data("GIF89a".utf8) + Data(repeating: 7, count: 40)] {
            #expect(throws: ImageError.self) { _ = try vault.store(bytes, decoder: ImageDecoder()) }
        }
        let written = try FileManager.default.subpathsOfDirectory(atPath: vault.directory.path)
        #expect(written.isEmpty, "\(written)")
    }
}
