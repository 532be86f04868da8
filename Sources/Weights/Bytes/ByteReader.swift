// A bounds-checked cursor over raw bytes that reads little-endian integers and byte runs.
// Every read past the end throws `WeightsError.truncated`; it never copies the bytes it hands out.

struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// The next `count` bytes, without copying; `what` names them in the error if the data ends first.
    mutating func read(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw WeightsError.truncated(reading: what()) }
        let run = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return run
    }

    /// A count that a file declared as unsigned: checked against the bytes left before it becomes an `Int`.
    mutating func readLength<Length: FixedWidthInteger & UnsignedInteger>(
        as type: Length.Type, _ what: @autoclosure () -> String
    ) throws -> Int {
        let length = try readInteger(as: type, what())
        guard length <= remaining else { throw WeightsError.truncated(reading: what()) }
        return Int(length)
    }

    mutating func readInteger<Integer: FixedWidthInteger>(as type: Integer.Type, _ what: @autoclosure () -> String) throws -> Integer {
        let run = try read(MemoryLayout<Integer>.size, what())
        return Integer(littleEndian: run.loadUnaligned(as: Integer.self))
    }

    mutating func readByte(_ what: @autoclosure () -> String) throws -> UInt8 {
        try read(1, what())[0]
    }

    /// Moves the cursor to `newOffset`, which must lie inside the bytes (or at their end).
    mutating func seek(to newOffset: Int, _ what: @autoclosure () -> String) throws {
        guard newOffset >= 0, newOffset <= bytes.count else { throw WeightsError.truncated(reading: what()) }
        offset = newOffset
    }
}
