// The element types a weights file may store, their names in each format, and their conversion to Float.
// It decodes one little-endian element from raw bytes; it does not know about shapes or strides.

public enum ScalarType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The storage class torch.save names in its pickles (`torch.FloatStorage`, …).
    var torchStorageName: String {
        switch self {
        case .float32: "FloatStorage"
        case .float64: "DoubleStorage"
        case .float16: "HalfStorage"
        case .bfloat16: "BFloat16Storage"
        case .int64: "LongStorage"
        case .int32: "IntStorage"
        case .int16: "ShortStorage"
        case .int8: "CharStorage"
        case .uint8: "ByteStorage"
        case .bool: "BoolStorage"
        }
    }

    /// The dtype string of a safetensors header (`F32`, …).
    var safeTensorsName: String {
        switch self {
        case .float32: "F32"
        case .float64: "F64"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint8: "U8"
        case .bool: "BOOL"
        }
    }

    init?(torchStorageName name: String) {
        guard let match = ScalarType.allCases.first(where: { $0.torchStorageName == name }) else { return nil }
        self = match
    }

    init?(safeTensorsName name: String) {
        guard let match = ScalarType.allCases.first(where: { $0.safeTensorsName == name }) else { return nil }
        self = match
    }

    /// Element `index` of `storage`, a buffer of little-endian elements of this type, as a Float.
    /// The caller has checked that the element lies inside the buffer.
    func float(at index: Int, in storage: UnsafeRawBufferPointer) -> Float {
        let byteOffset = index &* byteCount
        switch self {
        case .float32:
            return Float(bitPattern: UInt32(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: UInt32.self)))
        case .float64:
            return Float(Double(bitPattern: UInt64(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: UInt64.self))))
        case .float16:
            return ScalarType.floatFromHalf(UInt16(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
        case .bfloat16:
            return Float(bitPattern: UInt32(UInt16(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self))) << 16)
        case .int64:
            return Float(Int64(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: Int64.self)))
        case .int32:
            return Float(Int32(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: Int32.self)))
        case .int16:
            return Float(Int16(littleEndian: storage.loadUnaligned(fromByteOffset: byteOffset, as: Int16.self)))
        case .int8:
            return Float(storage.load(fromByteOffset: byteOffset, as: Int8.self))
        case .uint8:
            return Float(storage[byteOffset])
        case .bool:
            return storage[byteOffset] == 0 ? 0 : 1
        }
    }

    /// IEEE 754 binary16 bits to Float, written out because `Float16` is unavailable on some platforms.
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let fraction = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:  // zero or subnormal: fraction × 2^-24, exact in Float
            return Float(bitPattern: sign | (Float(fraction) * 0x1p-24).bitPattern)
        case 0x1F:  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
        default:  // rebias the exponent from 15 to 127
            return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
        }
    }
}
