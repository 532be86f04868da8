// What a discovery scan has read, kept in a folder: each model's features appended as Float32 rows, then one JSON line
// per finished chunk (its images' facts, every model's answers), so a killed scan resumes at its first unfinished chunk.
import Foundation

public final class ScanStore {
    /// What the folder was made for; a resumed scan must match it.
    struct Manifest: Codable, Equatable {
        let models: [String]
        let featureWidths: [Int?]
        let batchSize: Int
    }

    /// One finished chunk: its readable images, each model's answers on them (in model order), and its unreadable files.
    struct Chunk: Codable {
        let images: [DiscoveryImage]
        let answers: [[DiscoveryAnswer]]
        let unreadable: [UnlabelledFile]
    }

    public let directory: URL
    let manifest: Manifest
    public private(set) var images: [DiscoveryImage] = []
    public private(set) var answers: [[DiscoveryAnswer]]
    public private(set) var unreadable: [UnlabelledFile] = []
    private let log: FileHandle
    private let featureFiles: [FileHandle?]

    static let manifestName = "scan.json"
    static let logName = "chunks.jsonl"

    /// Opens `directory` for a scan by `models` (with their feature widths, nil for none) in chunks of `batchSize`.
    /// A folder left by an earlier scan is an error unless `resume`, and then it must be for the same models and batch.
    public init(directory: URL, models: [String], featureWidths: [Int?], batchSize: Int, resume: Bool) throws {
        self.directory = directory
        manifest = Manifest(models: models, featureWidths: featureWidths, batchSize: batchSize)
        answers = Array(repeating: [], count: models.count)
        let manager = FileManager.default
        let manifestURL = directory.appendingPathComponent(Self.manifestName)
        if manager.fileExists(atPath: directory.path) {
            guard resume else { throw ScanStoreError.leftOver(directory.path) }
            let found = try? JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
            guard let found, found == manifest else {
                throw ScanStoreError.mismatch(directory.path, models: found?.models, batchSize: found?.batchSize)
            }
        } else {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONEncoder().encode(manifest).write(to: manifestURL, options: .atomic)
        }
        let logURL = directory.appendingPathComponent(Self.logName)
        if !manager.fileExists(atPath: logURL.path) { manager.createFile(atPath: logURL.path, contents: nil) }
        // Finished chunks; a torn last line (the kill came mid-write, perhaps inside a character) is dropped. Split as
        // bytes, so that a torn character cannot make the whole log unreadable.
        let bytes = (try? Data(contentsOf: logURL)) ?? Data()
        var validLength = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(line)), chunk.answers.count == models.count else { break }
            images += chunk.images
            for index in models.indices { answers[index] += chunk.answers[index] }
            unreadable += chunk.unreadable
            validLength += line.count + 1
        }
        log = try FileHandle(forWritingTo: logURL)
        try log.truncate(atOffset: UInt64(min(validLength, bytes.count)))
        if validLength > bytes.count { try log.write(contentsOf: Data("\n".utf8)) }
        // Feature rows beyond the finished chunks' came from the chunk that was cut short.
        let rows = images.count
        featureFiles = try featureWidths.enumerated().map { index, width in
            guard let width else { return nil }
            let url = directory.appendingPathComponent("features-\(index).f32")
            if !manager.fileExists(atPath: url.path) { manager.createFile(atPath: url.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: url)
            let expected = UInt64(rows * width * MemoryLayout<Float>.size)
            guard try handle.seekToEnd() >= expected else { throw ScanStoreError.mismatch(directory.path, models: models, batchSize: batchSize) }
            try handle.truncate(atOffset: expected)
            return handle
        }
    }

    deinit {
        try? log.close()
        for file in featureFiles { try? file?.close() }
    }

    /// The files whose chunk is finished, readable or not.
    public var finishedFiles: Set<String> {
        Set(images.map(\.file) + unreadable.map(\.file))
    }

    /// Records a finished chunk: the features first (one row per image per model that has them), flushed, then its line.
    func append(images chunkImages: [DiscoveryImage], answers chunkAnswers: [[DiscoveryAnswer]], features: [[[Float]]?],
                unreadable chunkUnreadable: [UnlabelledFile]) throws {
        for (file, rows) in zip(featureFiles, features) {
            guard let file, let rows else { continue }
            try file.write(contentsOf: rows.flatMap { $0 }.withUnsafeBufferPointer { Data(buffer: $0) })
            try file.synchronize()
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = try encoder.encode(Chunk(images: chunkImages, answers: chunkAnswers, unreadable: chunkUnreadable)) + Data("\n".utf8)
        try log.write(contentsOf: line)
        try log.synchronize()
        images += chunkImages
        for index in answers.indices { answers[index] += chunkAnswers[index] }
        unreadable += chunkUnreadable
    }

    /// Every model's answers on the images read so far, with their features read from this folder.
    func modelAnswers() -> [DiscoveryModelAnswers] {
        manifest.models.indices.map { index in
            let features = manifest.featureWidths[index].map { width in
                FeatureRows(file: directory.appendingPathComponent("features-\(index).f32"), width: width, count: images.count)
            }
            return DiscoveryModelAnswers(model: manifest.models[index], answers: answers[index], features: features)
        }
    }

    /// Deletes the folder, once its results are written.
    public func remove() throws {
        try FileManager.default.removeItem(at: directory)
    }
}

public enum ScanStoreError: Error, CustomStringConvertible {
    case leftOver(String)
    case mismatch(String, models: [String]?, batchSize: Int?)

    public var description: String {
        switch self {
        case .leftOver(let path):
            "an interrupted run left \(path): add --resume to continue it, or delete it to start over"
        case .mismatch(let path, let models, let batchSize):
            "\(path) was left by a run with " + (models.map { "--model \($0.joined(separator: " --model "))" } ?? "other settings")
                + (batchSize.map { " --batch \($0)" } ?? "") + " or is damaged: resume with those, or delete it to start over"
        }
    }
}
