// Reads the safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
// dtype, shape and data_offsets (relative to the data after the header), then the data. `__metadata__` is ignored.
import Engine
import Foundation

public enum SafeTensors {
    /// The largest header accepted, as in the reference implementation (100 MB).
    static let maximumHeaderLength = 100_000_000

    public static func read(contentsOf url: URL) throws -> StateDict {
        let file = try MappedFile(url)
        return try file.data.withUnsafeBytes { try read($0, copied: file.release) }
    }

    /// `copied` is told of each tensor's bytes once they are in its tensor.
    static func read(_ bytes: UnsafeRawBufferPointer, copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> StateDict {
        var reader = ByteReader(bytes)
        let headerLength = try reader.readInteger(as: UInt64.self, "the safetensors header length")
        guard headerLength <= maximumHeaderLength else {
            throw WeightsError.malformedSafeTensors("the header declares \(headerLength) bytes, more than the \(maximumHeaderLength) allowed")
        }
        let header = try reader.read(Int(headerLength), "the safetensors header")
        let data = try reader.read(reader.remaining, "the safetensors data")
        let entries = try decodeHeader(Data(header))
        try checkLayout(entries, dataLength: data.count)

        var tensors: [String: Tensor] = [:]
        var sourceTypes: [String: ScalarType] = [:]
        for entry in entries {
            let bytes = UnsafeRawBufferPointer(rebasing: data[entry.begin..<entry.end])
            tensors[entry.name] = try StridedView(contiguous: entry.shape).materialize(
                from: bytes, storageCount: bytes.count / entry.type.byteCount, type: entry.type, name: entry.name)
            copied(bytes)
            sourceTypes[entry.name] = entry.type
        }
        return StateDict(tensors: tensors, sourceTypes: sourceTypes)
    }

    /// One tensor as the header describes it, checked on its own (type known, shape and byte length agree).
    private struct Entry {
        let name: String
        let type: ScalarType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    private struct HeaderEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    private struct Header: Decodable {
        let entries: [String: HeaderEntry]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            var entries: [String: HeaderEntry] = [:]
            for key in container.allKeys where key.stringValue != "__metadata__" {
                entries[key.stringValue] = try container.decode(HeaderEntry.self, forKey: key)
            }
            self.entries = entries
        }
    }

    private static func decodeHeader(_ json: Data) throws -> [Entry] {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: json)
        } catch {
            throw WeightsError.malformedSafeTensors("the header is not the expected JSON: \(error)")
        }
        return try header.entries.map { name, entry in
            guard let type = ScalarType(safeTensorsName: entry.dtype) else {
                throw WeightsError.unsupportedScalarType("\(entry.dtype) (tensor \(name))")
            }
            guard entry.data_offsets.count == 2, let count = StridedView.elementCount(of: entry.shape) else {
                throw WeightsError.malformedSafeTensors("tensor \(name) has shape \(entry.shape) and data_offsets \(entry.data_offsets)")
            }
            let (begin, end) = (entry.data_offsets[0], entry.data_offsets[1])
            let (length, overflow) = count.multipliedReportingOverflow(by: type.byteCount)
            guard !overflow, begin >= 0, end >= begin, end - begin == length else {
                throw WeightsError.malformedSafeTensors(
                    "tensor \(name): data_offsets [\(begin), \(end)] do not hold \(entry.shape) × \(entry.dtype)")
            }
            return Entry(name: name, type: type, shape: entry.shape, begin: begin, end: end)
        }
    }

    /// The tensors, sorted by offset, must tile the data exactly: no overlap, no gap, nothing past the end.
    private static func checkLayout(_ entries: [Entry], dataLength: Int) throws {
        var position = 0
        for entry in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard entry.begin == position else {
                throw WeightsError.malformedSafeTensors(entry.begin < position
                    ? "tensor \(entry.name) at bytes [\(entry.begin), \(entry.end)] overlaps the tensor before it"
                    : "bytes [\(position), \(entry.begin)] before tensor \(entry.name) belong to no tensor")
            }
            position = entry.end
        }
        guard position == dataLength else {
            throw position > dataLength
                ? WeightsError.truncated(reading: "safetensors data: the header needs \(position) bytes, the file has \(dataLength)")
                : WeightsError.malformedSafeTensors("the last \(dataLength - position) bytes of data belong to no tensor")
        }
    }
}
