// The protocol-buffer wire format, as much of it as ONNX files use: varints, 32/64-bit scalars and
// length-delimited fields. Reading works on a Data window without copying: a bytes field is a slice of the file.
import Foundation

enum WireType: UInt64 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

struct ProtobufReader {
    private let data: Data
    private var position: Int
    private let end: Int
    /// What is being read, for error messages ("ModelProto.graph.node").
    let context: String

    init(_ data: Data, context: String) {
        self.data = data
        self.position = data.startIndex
        self.end = data.endIndex
        self.context = context
    }

    var isAtEnd: Bool { position >= end }

    func malformed(_ reason: String) -> OnnxError {
        OnnxError.malformed("\(context): \(reason) at byte \(position - data.startIndex)")
    }

    mutating func varint() throws(OnnxError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw malformed("truncated varint") }
            let byte = data[position]
            position += 1
            guard shift < 64 else { throw malformed("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func field() throws(OnnxError) -> (number: Int, wire: WireType)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        guard let wire = WireType(rawValue: key & 7) else { throw malformed("unsupported wire type \(key & 7)") }
        guard key >> 3 >= 1, key >> 3 <= 536_870_911 else { throw malformed("field number \(key >> 3)") }
        return (Int(key >> 3), wire)
    }

    mutating func bytes() throws(OnnxError) -> Data {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw malformed("a field of \(length) bytes runs past the end") }
        let slice = data[position..<(position + Int(length))]
        position += Int(length)
        return slice
    }

    mutating func string() throws(OnnxError) -> String {
        let raw = try bytes()
        guard let text = String(data: raw, encoding: .utf8) else { throw malformed("a string is not UTF-8") }
        return text
    }

    mutating func message(_ name: String) throws(OnnxError) -> ProtobufReader {
        ProtobufReader(try bytes(), context: context + "." + name)
    }

    mutating func int64() throws(OnnxError) -> Int64 {
        Int64(bitPattern: try varint())
    }

    mutating func fixed32() throws(OnnxError) -> UInt32 {
        guard end - position >= 4 else { throw malformed("truncated 32-bit value") }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(data[position + offset]) << (8 * UInt32(offset)) }
        position += 4
        return value
    }

    mutating func fixed64() throws(OnnxError) -> UInt64 {
        guard end - position >= 8 else { throw malformed("truncated 64-bit value") }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(data[position + offset]) << (8 * UInt64(offset)) }
        position += 8
        return value
    }

    mutating func float() throws(OnnxError) -> Float {
        Float(bitPattern: try fixed32())
    }

    /// A repeated integer field, packed or not.
    mutating func int64s(_ wire: WireType, into values: inout [Int64]) throws(OnnxError) {
        if wire == .lengthDelimited {
            var packed = ProtobufReader(try bytes(), context: context)
            while !packed.isAtEnd { values.append(try packed.int64()) }
        } else {
            try expect(wire, .varint)
            values.append(try int64())
        }
    }

    /// A repeated float field, packed or not.
    mutating func floats(_ wire: WireType, into values: inout [Float]) throws(OnnxError) {
        if wire == .lengthDelimited {
            var packed = ProtobufReader(try bytes(), context: context)
            while !packed.isAtEnd { values.append(try packed.float()) }
        } else {
            try expect(wire, .fixed32)
            values.append(try float())
        }
    }

    /// A repeated double field, packed or not.
    mutating func doubles(_ wire: WireType, into values: inout [Double]) throws(OnnxError) {
        if wire == .lengthDelimited {
            var packed = ProtobufReader(try bytes(), context: context)
            while !packed.isAtEnd { values.append(Double(bitPattern: try packed.fixed64())) }
        } else {
            try expect(wire, .fixed64)
            values.append(Double(bitPattern: try fixed64()))
        }
    }

    func expect(_ wire: WireType, _ expected: WireType) throws(OnnxError) {
        guard wire == expected else { throw malformed("a field has wire type \(wire.rawValue), expected \(expected.rawValue)") }
    }

    mutating func skip(_ wire: WireType) throws(OnnxError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try bytes()
        }
    }
}

struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func append(varint value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func key(_ field: Int, _ wire: WireType) {
        append(varint: UInt64(field) << 3 | wire.rawValue)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        append(varint: UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes<Bytes: Collection>(_ field: Int, _ value: Bytes) where Bytes.Element == UInt8 {
        key(field, .lengthDelimited)
        append(varint: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        bytes(field, nested.bytes)
    }

    mutating func packedInt64s(_ field: Int, _ values: [Int64]) {
        var packed = ProtobufWriter()
        for value in values { packed.append(varint: UInt64(bitPattern: value)) }
        bytes(field, packed.bytes)
    }

    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var packed = ProtobufWriter()
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { packed.bytes.append(contentsOf: $0) } }
        bytes(field, packed.bytes)
    }
}
