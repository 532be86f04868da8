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
        try #require(SharedData.has("seed-examples/car2.png"), "../shared is present (BLINDSPOT_SHARED)")
        let bytes = try Data(contentsOf: SharedData.url("seed-examples/car2.png"))
        let vault = try Self.vault()
        let stored = try vault.store(bytes, decoder: ImageDecoder())
        #expect(stored.sha256 == ImageVault.sha256(of: bytes))
        #expect(vault.containsFiles(sha256: stored.sha256))
        #expect(vault.originalFile(sha256: stored.sha256) == bytes)
        let display = try Data(contentsOf: vault.displayFile(sha256: stored.sha256))
        #expect(try ImageFormat(sniffing: display) == .png)
        let shown = try ImageDecoder().decode(display)
        #expect(max(shown.width, shown.height) <= ImageVault.displaySide)
        #expect(Double(shown.width) / Double(shown.height) - Double(stored.width) / Double(stored.height) < 0.01)
        #expect(try vault.store(bytes, decoder: ImageDecoder()) == stored, "the same bytes again")
        vault.remove(sha256: stored.sha256)
        #expect(!vault.containsFiles(sha256: stored.sha256) && vault.originalFile(sha256: stored.sha256) == nil)
    }

    @Test func refusesWhatIsNotAnImageAndWritesNothing() throws {
        let vault = try Self.vault()
        for bytes in [Data(), Data("<svg onload='alert(1)'/>".utf8), Data("GIF89a".utf8) + Data(repeating: 7, count: 40)] {
            #expect(throws: ImageError.self) { _ = try vault.store(bytes, decoder: ImageDecoder()) }
        }
        let written = try FileManager.default.subpathsOfDirectory(atPath: vault.directory.path)
        #expect(written.isEmpty, "\(written)")
    }

    /// A 24-megapixel JPEG is decoded at half scale for its display copy (3000 × 2000 still holds twice its
    /// 1024 × 683 pixels): the report keeps the full size, and the copy matches a full-size decode's.
    @Test func aLargeJPEGKeepsItsSizeAndADisplayCopyAsGoodAsAFullDecodes() throws {
        let (width, height) = (6000, 4000)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8(x * 255 / width)
                pixels[offset + 1] = UInt8(y * 255 / height)
                pixels[offset + 2] = UInt8((x / 200 + y / 200) % 2 * 160 + 40)
            }
        }
        let bytes = try RGBImage(width: width, height: height, pixels: pixels).jpegData(quality: 90)
        #expect(ImageDecoder.jpegShrinkFactor(width: width, height: height, minimumShorterSide: 683) == 2)
        let vault = try Self.vault()
        let stored = try vault.store(bytes, decoder: ImageDecoder())
        #expect(stored.width == width && stored.height == height)
        let shown = try ImageDecoder().decode(try Data(contentsOf: vault.displayFile(sha256: stored.sha256)))
        #expect(shown.width == 1024 && shown.height == 683)
        let full = try ImageDecoder().decode(bytes).resized(width: 1024, height: 683, filter: .bicubic)
        let difference = zip(shown.pixels, full.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        let mean = Double(difference) / Double(shown.pixels.count)
        print("display copy from a shrunk decode differs from a full decode's by \(mean) levels on average")
        #expect(mean < 2)
    }
}
