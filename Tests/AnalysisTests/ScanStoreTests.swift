// A discovery scan's progress folder after a kill: finished chunks come back, the chunk cut short does not (even when
// the cut falls inside a character of a file name), and the features of that chunk are dropped with it.
import Analysis
import Foundation
import Testing

@Suite struct ScanStoreTests {
    /// One chunk line as the scan writes it.
    struct Chunk: Encodable {
        let images: [DiscoveryImage]
        let answers: [[DiscoveryAnswer]]
        let unreadable: [UnlabelledFile]
    }

    static func chunk(_ files: [String]) throws -> Data {
        let images = files.map { DiscoveryImage(file: $0, truth: 3, numeric: ["brightness": 0.5], categories: [:], groups: ["dog"]) }
        let answers = [files.map { _ in DiscoveryAnswer(predicted: 3, confidence: 0.9, truthProbability: 0.9, top5: [3]) }]
        return try JSONEncoder().encode(Chunk(images: images, answers: answers, unreadable: [])) + Data("\n".utf8)
    }

    @Test func aKilledScanResumesAtItsLastFinishedChunk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scan-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = #"{"batchSize":2,"featureWidths":[3],"models":["m"]}"#
        try Data(manifest.utf8).write(to: folder.appendingPathComponent("scan.json"))
        // Two finished chunks, then a third cut inside the two bytes of "é".
        let torn = try Self.chunk(["n01/caf\u{e9}-5.jpg", "n01/6.jpg"])
        let cut = torn.prefix(upTo: try #require(torn.firstIndex(of: 0xC3)) + 1)
        try (Self.chunk(["n01/1.jpg", "n01/2.jpg"]) + Self.chunk(["n01/caf\u{e9}-3.jpg", "n01/4.jpg"]) + cut)
            .write(to: folder.appendingPathComponent("chunks.jsonl"))
        // Six feature rows of width 3 were flushed, the torn chunk's included.
        try (0..<18).map { Float($0) }.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: folder.appendingPathComponent("features-0.f32"))

        #expect(throws: ScanStoreError.self, "a leftover folder without --resume") {
            _ = try ScanStore(directory: folder, models: ["m"], featureWidths: [3], batchSize: 2, resume: false)
        }
        #expect(throws: ScanStoreError.self, "other chunks") {
            _ = try ScanStore(directory: folder, models: ["m"], featureWidths: [3], batchSize: 4, resume: true)
        }
        let store = try ScanStore(directory: folder, models: ["m"], featureWidths: [3], batchSize: 2, resume: true)
        #expect(store.images.map(\.file) == ["n01/1.jpg", "n01/2.jpg", "n01/caf\u{e9}-3.jpg", "n01/4.jpg"])
        #expect(store.finishedFiles.count == 4 && store.answers[0].count == 4)
        let log = try Data(contentsOf: folder.appendingPathComponent("chunks.jsonl"))
        #expect(log.count == (try Self.chunk(["n01/1.jpg", "n01/2.jpg"]) + Self.chunk(["n01/caf\u{e9}-3.jpg", "n01/4.jpg"])).count, "the torn line is cut off")
        let features = try Data(contentsOf: folder.appendingPathComponent("features-0.f32"))
        #expect(features.count == 4 * 3 * MemoryLayout<Float>.size, "the torn chunk's feature rows are dropped")
    }
}
