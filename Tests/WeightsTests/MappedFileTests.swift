// MappedFile gives a checkpoint's pages back once they are copied: measured on the mapping itself, in
// /proc/self/smaps, so that other tests' memory cannot blur the numbers.
import Engine
import Foundation
import TestSupport
import Testing
import Weights

@Suite struct MappedFileTests {
    /// The resident kilobytes of the mapping that starts at `address`, from /proc/self/smaps.
    func residentKilobytes(ofMappingAt address: UnsafeRawPointer) throws -> Int? {
        let start = String(UInt(bitPattern: address), radix: 16)
        // Read to the end: /proc files give one page per read, and Foundation stops after the first.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        var contents = Data()
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty { contents.append(chunk) }
        let smaps = String(decoding: contents, as: UTF8.self)
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit) {
                inMapping = line[..<dash].drop { $0 == "0" } == start.drop { $0 == "0" }
            } else if inMapping, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
            }
        }
        return nil
    }

    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    }

    @Test func releasedPagesLeaveResidentMemoryAndReadTheSame() throws {
        let url = temporaryFile("mapped.bin")
        defer { try? FileManager.default.removeItem(at: url) }
        var random = SplitMix64(seed: 3)
        let bytes = (0..<(16 << 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try Data(bytes).write(to: url)

        let file = try MappedFile(url)
        try file.data.withUnsafeBytes { mapped in
            let base = try #require(mapped.baseAddress)
            #expect(mapped.elementsEqual(bytes))
            let touched = try #require(try residentKilobytes(ofMappingAt: base))
            #expect(touched >= 16 * 1024 - 4, "after reading every byte, \(touched) kB of 16384 are resident")

            // Give back all but the first and last 100 bytes: every page strictly inside them leaves.
            file.release(UnsafeRawBufferPointer(rebasing: mapped[100..<(mapped.count - 100)]))
            let released = try #require(try residentKilobytes(ofMappingAt: base))
            #expect(released <= 8, "after release, \(released) kB are still resident")

            #expect(mapped.elementsEqual(bytes), "released pages read back the file's bytes")
        }
    }

    @Test func buffersOutsideTheMappingAreLeftAlone() throws {
        let url = temporaryFile("small.bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: 7, count: 1 << 16).write(to: url)
        let file = try MappedFile(url)
        let heap = [UInt8](repeating: 9, count: 1 << 20)
        heap.withUnsafeBytes { file.release($0) }
        #expect(heap.allSatisfy { $0 == 9 })
        #expect(file.data.allSatisfy { $0 == 7 })
    }

    @Test func emptyMissingAndNonRegularFiles() throws {
        let empty = temporaryFile("empty.bin")
        defer { try? FileManager.default.removeItem(at: empty) }
        try Data().write(to: empty)
        #expect(try MappedFile(empty).data.isEmpty)
        #expect(throws: WeightsError.self) { try MappedFile(temporaryFile("missing.bin")) }
        #expect(throws: WeightsError.self) { try MappedFile(FileManager.default.temporaryDirectory) }
    }

    @Test func loadingACheckpointGivesItsPagesBack() throws {
        let url = temporaryFile("weights.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var random = SplitMix64(seed: 5)
        let tensors = (0..<4).reduce(into: [String: Tensor]()) { tensors, index in
            tensors["layer\(index).weight"] = random.tensor([256, 256, 3, 3])
        }
        try SafeTensors.write(StateDict(tensors: tensors), to: url)
        let file = try MappedFile(url)
        let loaded = try WeightsFile.load(file)
        #expect(loaded.tensors == tensors)
        let resident = try file.data.withUnsafeBytes { try #require(try residentKilobytes(ofMappingAt: $0.baseAddress!)) }
        #expect(resident <= 5 * 4, "\(resident) kB of the 9 MB file stay resident after loading")
    }
}
