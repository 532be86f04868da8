// Writes a StateDict as a safetensors file of F32 tensors, keys sorted, header padded to 8 bytes as the
// reference writer does. It converts nothing back to the source types.
import Engine
import Foundation

extension SafeTensors {
    public static func write(_ stateDict: StateDict, to url: URL) throws {
        try encode(stateDict).write(to: url, options: .atomic)
    }

    /// The file's bytes.
    static func encode(_ stateDict: StateDict) throws -> Data {
        struct HeaderEntry: Encodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }
        var header: [String: HeaderEntry] = [:]
        var offset = 0
        let sorted = stateDict.tensors.sorted { $0.key < $1.key }
        for (key, tensor) in sorted {
            let length = tensor.count * MemoryLayout<Float>.size
            header[key] = HeaderEntry(dtype: ScalarType.float32.safeTensorsName, shape: tensor.shape,
                                      data_offsets: [offset, offset + length])
            offset += length
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = try encoder.encode(header)
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))

        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in sorted {
            tensor.scalars.map { $0.bitPattern.littleEndian }.withUnsafeBytes { file.append(contentsOf: $0) }
        }
        return file
    }
}
