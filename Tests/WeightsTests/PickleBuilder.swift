// Builds pickles and legacy checkpoints opcode by opcode, so tests can make hostile and edge-case inputs
// that Python's pickle would not write. It mirrors the opcodes' byte layout, nothing more.
import Foundation

struct PickleBuilder {
    private(set) var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2

    mutating func opcode(_ code: UInt8, _ operand: [UInt8] = []) {
        bytes.append(code)
        bytes.append(contentsOf: operand)
    }

    mutating func mark() { opcode(0x28) }
    mutating func none() { opcode(0x4E) }
    mutating func bool(_ value: Bool) { opcode(value ? 0x88 : 0x89) }
    mutating func emptyDictionary() { opcode(0x7D) }
    mutating func emptyList() { opcode(0x5D) }
    mutating func emptyTuple() { opcode(0x29) }
    mutating func tupleFromMark() { opcode(0x74) }
    mutating func reduce() { opcode(0x52) }
    mutating func build() { opcode(0x62) }
    mutating func setItems() { opcode(0x75) }
    mutating func appends() { opcode(0x65) }
    mutating func persistentID() { opcode(0x51) }
    mutating func stop() { opcode(0x2E) }

    /// BININT: a 4-byte signed integer.
    mutating func integer(_ value: Int32) {
        opcode(0x4A, littleEndian(value))
    }

    /// LONG1 with the given little-endian bytes.
    mutating func long(_ bytes: [UInt8]) {
        opcode(0x8A, [UInt8(bytes.count)] + bytes)
    }

    /// BINUNICODE: a 4-byte length, then UTF-8.
    mutating func string(_ value: String) {
        opcode(0x58, littleEndian(UInt32(value.utf8.count)) + Array(value.utf8))
    }

    /// GLOBAL: `module\nname\n`.
    mutating func global(_ module: String, _ name: String) {
        opcode(0x63, Array("\(module)\n\(name)\n".utf8))
    }

    mutating func tuple(_ items: [Int32]) {
        mark()
        items.forEach { integer($0) }
        tupleFromMark()
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` over a persistent-id storage.
    mutating func tensor(storageKey: String, storageType: String = "FloatStorage", elementCount: Int32,
                         offset: Int32, size: [Int32], stride: [Int32], viewMetadata: Int32? = nil) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage")
        global("torch", storageType)
        string(storageKey)
        string("cpu")
        integer(elementCount)
        if let viewMetadata { integer(viewMetadata) } else { none() }
        tupleFromMark()
        persistentID()
        integer(offset)
        tuple(size)
        tuple(stride)
        bool(false)
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tupleFromMark()
        reduce()
    }

    /// An OrderedDict filled by `items`, which pushes keys and values in turn.
    mutating func orderedDictionary(_ items: (inout PickleBuilder) -> Void) {
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        mark()
        items(&self)
        setItems()
    }

    private func littleEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }
}

/// A legacy-format checkpoint around a given state pickle: magic, protocol, sys_info, the pickle, the storage
/// keys, then each storage's 8-byte element count and bytes.
func legacyCheckpoint(statePickle: [UInt8], storages: [(key: String, count: Int64, bytes: [UInt8])],
                      littleEndian: Bool = true) -> Data {
    var data = Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E])
    data.append(contentsOf: [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E])  // 1001
    var systemInformation = PickleBuilder()
    systemInformation.emptyDictionary()
    systemInformation.mark()
    systemInformation.string("protocol_version")
    systemInformation.integer(1001)
    systemInformation.string("little_endian")
    systemInformation.bool(littleEndian)
    systemInformation.setItems()
    systemInformation.stop()
    data.append(contentsOf: systemInformation.bytes)
    data.append(contentsOf: statePickle)
    var keys = PickleBuilder()
    keys.emptyList()
    keys.mark()
    storages.forEach { keys.string($0.key) }
    keys.appends()
    keys.stop()
    data.append(contentsOf: keys.bytes)
    for storage in storages {
        withUnsafeBytes(of: storage.count.littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: storage.bytes)
    }
    return data
}

/// Little-endian float32 bytes.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
}
