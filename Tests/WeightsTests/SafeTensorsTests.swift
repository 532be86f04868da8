// The safetensors writer and reader: round trips, every dtype the reader converts, and malformed headers,
// with the files built here byte by byte.
import Engine
import Foundation
import Testing
import Weights

/// A safetensors file from a header given as JSON text and the data bytes after it.
func safeTensorsFile(header: String, data: [UInt8]) -> Data {
    var file = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(contentsOf: Array(header.utf8))
    file.append(contentsOf: data)
    return file
}

@Suite struct SafeTensorsTests {
    let stateDict = StateDict(tensors: [
        "layer.weight": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0x1p-149, .greatestFiniteMagnitude, -0.0]),
        "layer.bias": Tensor(shape: [2], scalars: [0.25, -0.125]),
        "scale": Tensor(shape: [], scalars: [42]),
        "empty": Tensor(shape: [0, 3], scalars: []),
    ])

    @Test func roundTripsExactly() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("round-trip-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(stateDict, to: url)
        let loaded = try WeightsFile.load(contentsOf: url)
        #expect(loaded == stateDict)
        #expect(try SafeTensors.read(contentsOf: url) == stateDict)
        #expect(try WeightsFile.format(of: Data(contentsOf: url)) == .safeTensors)
    }

    @Test func writesSortedKeysAndAPaddedHeader() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("layout-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(stateDict, to: url)
        let file = try Data(contentsOf: url)
        let headerLength = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let header = String(decoding: file.dropFirst(8).prefix(headerLength), as: UTF8.self)
        let json = header.trimmingCharacters(in: .whitespaces)
        #expect(json == #"{"empty":{"data_offsets":[0,0],"dtype":"F32","shape":[0,3]},"#
            + #""layer.bias":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},"#
            + #""layer.weight":{"data_offsets":[8,32],"dtype":"F32","shape":[2,3]},"#
            + #""scale":{"data_offsets":[32,36],"dtype":"F32","shape":[]}}"#)
        #expect(header == json + String(repeating: " ", count: headerLength - json.utf8.count))
        #expect(headerLength - json.utf8.count < 8)
        #expect(file.count == 8 + headerLength + 36)
    }

    @Test func convertsEveryDtype() throws {
        let header = """
        {"__metadata__":{"format":"pt"},
         "f64":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},
         "f16":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},
         "bf16":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},
         "i64":{"dtype":"I64","shape":[1],"data_offsets":[14,22]},
         "i32":{"dtype":"I32","shape":[1],"data_offsets":[22,26]},
         "i16":{"dtype":"I16","shape":[1],"data_offsets":[26,28]},
         "i8":{"dtype":"I8","shape":[1],"data_offsets":[28,29]},
         "u8":{"dtype":"U8","shape":[1],"data_offsets":[29,30]},
         "bool":{"dtype":"BOOL","shape":[2],"data_offsets":[30,32]}}
        """
        var data: [UInt8] = []
        withUnsafeBytes(of: (-1.5).bitPattern.littleEndian) { data += $0 }  // f64
        data += [0x00, 0x7C, 0x01, 0x80]  // f16: +infinity, −2^-24 (the smallest subnormal)
        data += [0x49, 0x40]              // bf16: 3.140625
        withUnsafeBytes(of: Int64(-9_007_199_254_740_993).littleEndian) { data += $0 }  // rounds to −2^53 in Float
        withUnsafeBytes(of: Int32(-123_456).littleEndian) { data += $0 }
        withUnsafeBytes(of: Int16(-32768).littleEndian) { data += $0 }
        data += [0x80, 0xFF, 0x00, 0x02]  // i8 −128, u8 255, bool false, bool true (any nonzero byte)
        let loaded = try WeightsFile.load(safeTensorsFile(header: header, data: data))
        #expect(loaded["f64"]?.scalars == [-1.5])
        #expect(loaded["f16"]?.scalars == [.infinity, -0x1p-24])
        #expect(loaded["bf16"]?.scalars == [3.140625])
        #expect(loaded["i64"]?.scalars == [-0x1p53])
        #expect(loaded["i32"]?.scalars == [-123_456])
        #expect(loaded["i16"]?.scalars == [-32768])
        #expect(loaded["i8"]?.scalars == [-128])
        #expect(loaded["u8"]?.scalars == [255])
        #expect(loaded["bool"]?.scalars == [0, 1])
        #expect(loaded.sourceTypes["bf16"] == .bfloat16)
        #expect(loaded.count == 9)
    }

    @Test func refusesMalformedHeaders() {
        let eightBytes = [UInt8](repeating: 0, count: 8)
        #expect(throws: WeightsError.unsupportedScalarType("F8_E4M3 (tensor a)")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, data: eightBytes))
        }
        #expect(throws: WeightsError.malformedSafeTensors("tensor a: data_offsets [0, 8] do not hold [3] × F32")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eightBytes))
        }
        #expect(throws: WeightsError.malformedSafeTensors("tensor a has shape [-1, -2] and data_offsets [0, 8]")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}"#, data: eightBytes))
        }
        #expect(throws: WeightsError.malformedSafeTensors("tensor b at bytes [4, 8] overlaps the tensor before it")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eightBytes))
        }
        #expect(throws: WeightsError.malformedSafeTensors("bytes [0, 4] before tensor a belong to no tensor")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eightBytes))
        }
        #expect(throws: WeightsError.truncated(reading: "safetensors data: the header needs 16 bytes, the file has 8")) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eightBytes))
        }
        let error = #expect(throws: WeightsError.self) {
            try WeightsFile.load(safeTensorsFile(header: #"{"a": not json}"#, data: []))
        }
        guard case let .malformedSafeTensors(detail) = error, detail.hasPrefix("the header is not the expected JSON") else {
            Issue.record("expected a JSON error, got \(String(describing: error))")
            return
        }
    }

    @Test func refusesDeeplyNestedJSON() {
        let error = #expect(throws: WeightsError.self) {
            try WeightsFile.load(safeTensorsFile(header: "{\"a\":" + String(repeating: "[", count: 100_000), data: []))
        }
        guard case .malformedSafeTensors = error else {
            Issue.record("expected malformedSafeTensors, got \(String(describing: error))")
            return
        }
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 is unavailable there
    @Test func convertsEveryFloat16BitPattern() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let header = #"{"all":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#
        let data = patterns.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let loaded = try #require(try WeightsFile.load(safeTensorsFile(header: header, data: data))["all"])
        for (pattern, converted) in zip(patterns, loaded.scalars) {
            let reference = Float(Float16(bitPattern: pattern))
            let agrees = reference.isNaN ? converted.isNaN : converted.bitPattern == reference.bitPattern
            if !agrees {
                Issue.record("float16 0x\(String(pattern, radix: 16)) became \(converted), expected \(reference)")
                return
            }
        }
    }
    #endif

    @Test func refusesHugeOrTruncatedHeaderLengths() {
        var declaresTooMuch = Data([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00])  // 2^36 bytes
        declaresTooMuch.append(contentsOf: Array("{}".utf8))
        #expect(throws: WeightsError.malformedSafeTensors("the header declares 68719476736 bytes, more than the 100000000 allowed")) {
            try WeightsFile.load(declaresTooMuch)
        }
        var declaresMore = Data([0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])  // 64 bytes, 2 present
        declaresMore.append(contentsOf: Array("{}".utf8))
        #expect(throws: WeightsError.truncated(reading: "the safetensors header")) {
            try WeightsFile.load(declaresMore)
        }
    }
}
