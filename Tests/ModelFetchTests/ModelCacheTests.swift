// Tests for ModelCache: where the cache is, and verified / missing / corrupt files. No network.
import Foundation
import Models
import ModelFetch
import Testing

@Suite struct ModelCacheTests {
    /// SHA-256 of the three bytes "abc" (FIPS 180-2, appendix B.1).
    static let abcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    @Test func directoryComesFromBlindspotHomeThenHome() {
        #expect(ModelCache.defaultDirectory(environment: ["BLINDSPOT_HOME": "/data/weights", "HOME": "/home/ada"]).path == "/data/weights")
        #expect(ModelCache.defaultDirectory(environment: ["HOME": "/home/ada"]).path == "/home/ada/.cache/blindspot")
        #expect(ModelCache.defaultDirectory(environment: ["BLINDSPOT_HOME": "", "HOME": "/home/ada"]).path == "/home/ada/.cache/blindspot")
        #expect(ModelCache(environment: ["BLINDSPOT_HOME": "/data/weights"]).directory.path == "/data/weights")
    }

    @Test func digestOfAFileMatchesTheStandardVector() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.url.appendingPathComponent("abc")
        try Data("abc".utf8).write(to: file)
        #expect(try ModelCache.sha256(ofFileAt: file) == Self.abcDigest)
    }

    @Test func verifyReportsMissingVerifiedAndCorrupt() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let cache = ModelCache(directory: folder.url)
        let release = WeightsRelease(fileName: "weights-ba7816bf.pth", source: .url("http://127.0.0.1:9/unused"), sha256: "ba7816bf")
        let file = folder.url.appendingPathComponent("weights-ba7816bf.pth")
        #expect(cache.path(for: release) == file)
        #expect(try cache.verify(release) == .missing(file))

        try Data("abc".utf8).write(to: file)
        #expect(try cache.verify(release) == .verified(file))

        try Data("abd".utf8).write(to: file)
        let corruptDigest = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9"
        #expect(try cache.verify(release) == .corrupt(file, foundDigest: corruptDigest))
    }
}
