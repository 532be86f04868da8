// Writes F32 tensors as a safetensors file, keys sorted, header padded to 8 bytes as the reference writer does: a
// StateDict at once, or tensors whose bytes arrive in pieces. It converts nothing back to the source types.
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension SafeTensors {
    public static func write(_ stateDict: StateDict, to url: URL) throws {
        try encode(stateDict).write(to: url, options: .atomic)
    }

    /// The file's bytes.
    static func encode(_ stateDict: StateDict) throws -> Data {
        let sorted = stateDict.tensors.sorted { $0.key < $1.key }
        var file = try header(shapes: stateDict.tensors.mapValues(\.shape))
        for (_, tensor) in sorted {
            tensor.scalars.map { $0.bitPattern.littleEndian }.withUnsafeBytes { file.append(contentsOf: $0) }
        }
        return file
    }

    /// Writes F32 tensors of the given shapes whose little-endian bytes `tensor` hands, key by key in sorted order, to
    /// the function it is given, so that no tensor need be in memory whole. The file appears complete or not at all.
    public static func write(shapes: [String: [Int]], to url: URL, tensor: (String, (Data) throws -> Void) throws -> Void) throws {
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw WeightsError.unreadableFile(path: partial.path, reason: "cannot be created")
        }
        do {
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            try handle.write(contentsOf: header(shapes: shapes))
            for key in shapes.keys.sorted() {
                var written = 0
                try tensor(key) { bytes in
                    written += bytes.count
                    try handle.write(contentsOf: bytes)
                }
                let expected = (shapes[key] ?? []).reduce(1, *) * MemoryLayout<Float>.size
                guard written == expected else { throw WeightsError.malformedSafeTensors("\(key): \(written) bytes written, \(expected) expected") }
            }
            try handle.synchronize()
            guard rename(partial.path, url.path) == 0 else {
                throw WeightsError.unreadableFile(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    /// The header's length (8 bytes) and JSON for F32 tensors of `shapes` stored one after another in key order.
    static func header(shapes: [String: [Int]]) throws -> Data {
        struct HeaderEntry: Encodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }
        var header: [String: HeaderEntry] = [:]
        var offset = 0
        for (key, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            let length = shape.reduce(1, *) * MemoryLayout<Float>.size
            header[key] = HeaderEntry(dtype: ScalarType.float32.safeTensorsName, shape: shape, data_offsets: [offset, offset + length])
            offset += length
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = try encoder.encode(header)
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        return file
    }
}
