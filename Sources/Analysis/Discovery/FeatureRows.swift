// Penultimate features, one Float32 row per image: held in memory (tests, small folders) or in a file the scan appends
// to, read back block by block, so a large folder's features never sit in memory.
import Foundation

public struct FeatureRows: Sendable {
    enum Storage: Sendable {
        /// Rows one after another.
        case memory([Float])
        /// Rows one after another, little-endian Float32, from the file's start.
        case file(URL)
    }

    public let count: Int
    public let width: Int
    let storage: Storage

    /// Rows visited at a time when they come from a file (4 MB for 1280 features).
    static let blockRows = 800

    /// In-memory rows; nil when they are not all `width` wide.
    public init?(_ rows: [[Float]]) {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else { return nil }
        count = rows.count
        self.width = width
        storage = .memory(rows.flatMap { $0 })
    }

    /// The first `count` rows of `file`, which must hold at least that many.
    public init(file: URL, width: Int, count: Int) {
        self.count = count
        self.width = width
        storage = .file(file)
    }

    /// Calls `body` with consecutive blocks of rows, in order: the first row's index and the block's scalars.
    public func forEachBlock(_ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        switch storage {
        case .memory(let scalars):
            try scalars.withUnsafeBufferPointer { try body(0, $0) }
        case .file(let url):
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var first = 0
            while first < count {
                let rows = min(Self.blockRows, count - first)
                let bytes = rows * width * MemoryLayout<Float>.size
                guard let data = try handle.read(upToCount: bytes), data.count == bytes else {
                    throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url.path])
                }
                var block = [Float](repeating: 0, count: rows * width)
                block.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
                try block.withUnsafeBufferPointer { try body(first, $0) }
                first += rows
            }
        }
    }

    /// Calls `body` with every row in order: its index and its scalars.
    public func forEachRow(_ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        let width = self.width
        try forEachBlock { first, block in
            guard width > 0 else { return }
            for row in 0..<(block.count / width) {
                try body(first + row, UnsafeBufferPointer(rebasing: block[(row * width)..<((row + 1) * width)]))
            }
        }
    }

    /// The raw little-endian bytes of all rows, in blocks, for writing them out.
    public func forEachByteBlock(_ body: (Data) throws -> Void) throws {
        try forEachBlock { _, block in try body(Data(buffer: block)) }
    }
}
