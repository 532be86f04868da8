// Zip-format checkpoints whose archive lies: entries past the end of the file, missing pickle or storage entries,
// storages shorter than declared, a foreign byte order. Each is tiny_zip.pt with a few bytes patched.
import Foundation
import Testing
import Weights

@Suite struct HostileZipTests {
    /// tiny_zip.pt with every occurrence of `old` replaced by `new` (same length, so offsets stay valid).
    private func patchedFixture(_ old: String, _ new: String) throws -> Data {
        precondition(old.utf8.count == new.utf8.count, "patches keep the length")
        var data = try TestFiles.fixtureBytes("tiny_zip.pt")
        var searchStart = data.startIndex
        while let found = data.range(of: Data(old.utf8), in: searchStart..<data.endIndex) {
            data.replaceSubrange(found, with: Data(new.utf8))
            searchStart = found.upperBound
        }
        return data
    }

    /// tiny_zip.pt with the central directory's compressed and uncompressed sizes of `name` set to `size`.
    private func withCentralDirectorySize(of name: String, _ size: UInt32) throws -> Data {
        var data = try TestFiles.fixtureBytes("tiny_zip.pt")
        let header = Data([0x50, 0x4B, 0x01, 0x02]) + Data(repeating: 0, count: 42) + Data(name.utf8)
        var searchStart = data.startIndex
        while let signature = data.range(of: Data([0x50, 0x4B, 0x01, 0x02]), in: searchStart..<data.endIndex) {
            let start = signature.lowerBound
            if data[(start + 46)...].starts(with: Data(name.utf8)), data.count >= start + header.count {
                for field in [start + 20, start + 24] {
                    withUnsafeBytes(of: size.littleEndian) { data.replaceSubrange(field..<field + 4, with: $0) }
                }
                return data
            }
            searchStart = signature.upperBound
        }
        Issue.record("no central directory header for \(name)")
        return data
    }

    @Test func refusesEntriesReachingPastTheEndOfTheFile() throws {
        #expect(throws: WeightsError.truncated(reading: "zip entry tiny_zip/data/0, which reaches past the end of the file")) {
            try WeightsFile.load(withCentralDirectorySize(of: "tiny_zip/data/0", 0x7FFF_FFFF))
        }
    }

    @Test func refusesStoragesShorterThanDeclared() throws {
        #expect(throws: WeightsError.malformedCheckpoint("entry tiny_zip/data/0 holds 4 bytes but storage 0 declares 48 × float32 = 192 bytes")) {
            try WeightsFile.load(withCentralDirectorySize(of: "tiny_zip/data/0", 4))
        }
    }

    @Test func refusesArchivesWithoutAPickle() throws {
        #expect(throws: WeightsError.malformedCheckpoint("the zip archive has no <archive>/data.pkl entry, so it is not a PyTorch checkpoint")) {
            try WeightsFile.load(patchedFixture("tiny_zip/data.pkl", "tiny_zip/data.pkx"))
        }
    }

    @Test func refusesMissingStorageEntries() throws {
        #expect(throws: WeightsError.malformedCheckpoint("storage 7 has no entry tiny_zip/data/7")) {
            try WeightsFile.load(patchedFixture("tiny_zip/data/7", "tiny_zip/data/9"))
        }
    }

    @Test func refusesAForeignByteOrder() throws {
        #expect(throws: WeightsError.malformedCheckpoint("the checkpoint's byte order is bigend, only little-endian is supported")) {
            try WeightsFile.load(patchedFixture("little", "bigend"))
        }
    }
}
