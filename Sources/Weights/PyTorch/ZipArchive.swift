// A minimal reader of a zip archive's central directory, ZIP64 included, handing out stored entries without copying.
// It does not inflate: a compressed entry is an error (PyTorch writes checkpoints uncompressed); nor does it check CRCs.

struct ZipArchive {
    struct Entry {
        let name: String
        let method: Int
        let flags: UInt16
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    /// Entries by name.
    let entries: [String: Entry]

    private enum Signature {
        static let localHeader: UInt32 = 0x0403_4B50
        static let centralHeader: UInt32 = 0x0201_4B50
        static let endOfCentralDirectory: UInt32 = 0x0605_4B50
        static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4B50
        static let zip64Locator: UInt32 = 0x0706_4B50
    }

    private static let endRecordLength = 22
    private static let zip64LocatorLength = 20
    private static let zip64ExtraFieldID: UInt16 = 0x0001

    init(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes = bytes
        let directory = try ZipArchive.centralDirectoryLocation(in: bytes)
        var reader = ByteReader(bytes)
        try reader.seek(to: directory.offset, "the zip central directory")
        var entries: [String: Entry] = [:]
        for _ in 0..<directory.entryCount {
            let entry = try ZipArchive.readCentralHeader(&reader)
            guard entries.updateValue(entry, forKey: entry.name) == nil else {
                throw WeightsError.malformedZip("two entries are named \(entry.name)")
            }
        }
        self.entries = entries
    }

    /// The bytes of a stored (uncompressed, unencrypted) entry, found through its local header.
    func contents(of entry: Entry) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else { throw WeightsError.compressedZipEntry(name: entry.name, method: entry.method) }
        guard entry.flags & 1 == 0 else { throw WeightsError.malformedZip("entry \(entry.name) is encrypted") }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw WeightsError.malformedZip("stored entry \(entry.name) has different compressed and uncompressed sizes")
        }
        var reader = ByteReader(bytes)
        try reader.seek(to: entry.localHeaderOffset, "the local header of zip entry \(entry.name)")
        guard try reader.readInteger(as: UInt32.self, "zip entry \(entry.name)") == Signature.localHeader else {
            throw WeightsError.malformedZip("entry \(entry.name) does not start with a local file header")
        }
        _ = try reader.read(22, "the local header of zip entry \(entry.name)")
        let nameLength = Int(try reader.readInteger(as: UInt16.self, "the local header of zip entry \(entry.name)"))
        let extraLength = Int(try reader.readInteger(as: UInt16.self, "the local header of zip entry \(entry.name)"))
        _ = try reader.read(nameLength + extraLength, "the local header of zip entry \(entry.name)")
        return try reader.read(entry.uncompressedSize, "the data of zip entry \(entry.name)")
    }

    // MARK: Central directory

    /// Finds the end-of-central-directory record (scanning back over a comment of up to 64 KiB) and, when a
    /// ZIP64 locator precedes it, the ZIP64 record whose 64-bit counts and offsets replace the 16/32-bit ones.
    private static func centralDirectoryLocation(in bytes: UnsafeRawBufferPointer) throws -> (offset: Int, entryCount: Int) {
        guard bytes.count >= endRecordLength else {
            throw WeightsError.truncated(reading: "the zip end-of-central-directory record")
        }
        let lowestStart = max(0, bytes.count - endRecordLength - Int(UInt16.max))
        guard let endRecord = stride(from: bytes.count - endRecordLength, through: lowestStart, by: -1).first(where: {
            bytes.loadUnaligned(fromByteOffset: $0, as: UInt32.self) == Signature.endOfCentralDirectory.littleEndian
        }) else {
            throw WeightsError.truncated(reading: "the zip end-of-central-directory record (not found)")
        }
        var reader = ByteReader(bytes, offset: endRecord + 10)
        let what = "the zip end-of-central-directory record"
        let entryCount = Int(try reader.readInteger(as: UInt16.self, what))
        _ = try reader.readInteger(as: UInt32.self, what)  // directory size
        let offset = Int(try reader.readInteger(as: UInt32.self, what))

        let locator = endRecord - zip64LocatorLength
        guard locator >= 0,
              bytes.loadUnaligned(fromByteOffset: locator, as: UInt32.self) == Signature.zip64Locator.littleEndian else {
            return (offset, entryCount)
        }
        reader = ByteReader(bytes, offset: locator + 8)
        let zip64Record = try readOffset(&reader, "the ZIP64 end-of-central-directory locator")
        try reader.seek(to: zip64Record, "the ZIP64 end-of-central-directory record")
        let zip64What = "the ZIP64 end-of-central-directory record"
        guard try reader.readInteger(as: UInt32.self, zip64What) == Signature.zip64EndOfCentralDirectory else {
            throw WeightsError.malformedZip("the ZIP64 locator points at no ZIP64 end-of-central-directory record")
        }
        _ = try reader.read(28, zip64What)  // record size, versions, disk numbers, entries on this disk
        let zip64EntryCount = try readOffset(&reader, zip64What)
        _ = try readOffset(&reader, zip64What)  // directory size
        return (try readOffset(&reader, zip64What), zip64EntryCount)
    }

    private static func readCentralHeader(_ reader: inout ByteReader) throws -> Entry {
        let what = "a zip central directory header"
        guard try reader.readInteger(as: UInt32.self, what) == Signature.centralHeader else {
            throw WeightsError.malformedZip("a central directory header is missing its signature at byte \(reader.offset - 4)")
        }
        _ = try reader.read(4, what)  // versions
        let flags = try reader.readInteger(as: UInt16.self, what)
        let method = Int(try reader.readInteger(as: UInt16.self, what))
        _ = try reader.read(8, what)  // time, date, CRC-32
        var compressedSize = UInt64(try reader.readInteger(as: UInt32.self, what))
        var uncompressedSize = UInt64(try reader.readInteger(as: UInt32.self, what))
        let nameLength = Int(try reader.readInteger(as: UInt16.self, what))
        let extraLength = Int(try reader.readInteger(as: UInt16.self, what))
        let commentLength = Int(try reader.readInteger(as: UInt16.self, what))
        _ = try reader.read(8, what)  // disk number, internal and external attributes
        var localHeaderOffset = UInt64(try reader.readInteger(as: UInt32.self, what))
        guard let name = String(validating: try reader.read(nameLength, what), as: UTF8.self) else {
            throw WeightsError.malformedZip("an entry name is not UTF-8")
        }
        var extra = ByteReader(try reader.read(extraLength, what))
        _ = try reader.read(commentLength, what)

        // ZIP64 extra field: 64-bit values for exactly those fields that hold 0xFFFFFFFF, in this order.
        while extra.remaining >= 4 {
            let fieldID = try extra.readInteger(as: UInt16.self, what)
            var field = ByteReader(try extra.read(Int(try extra.readInteger(as: UInt16.self, what)), what))
            guard fieldID == zip64ExtraFieldID else { continue }
            let zip64What = "the ZIP64 extra field of zip entry \(name)"
            if uncompressedSize == UInt64(UInt32.max) { uncompressedSize = try field.readInteger(as: UInt64.self, zip64What) }
            if compressedSize == UInt64(UInt32.max) { compressedSize = try field.readInteger(as: UInt64.self, zip64What) }
            if localHeaderOffset == UInt64(UInt32.max) { localHeaderOffset = try field.readInteger(as: UInt64.self, zip64What) }
        }
        let limit = UInt64(reader.bytes.count)
        guard compressedSize <= limit, uncompressedSize <= limit, localHeaderOffset <= limit else {
            throw WeightsError.truncated(reading: "zip entry \(name), which reaches past the end of the file")
        }
        return Entry(name: name, method: method, flags: flags, compressedSize: Int(compressedSize),
                     uncompressedSize: Int(uncompressedSize), localHeaderOffset: Int(localHeaderOffset))
    }

    /// A 64-bit offset or count, which must lie within the file to be of any use.
    private static func readOffset(_ reader: inout ByteReader, _ what: String) throws -> Int {
        let value = try reader.readInteger(as: UInt64.self, what)
        guard value <= UInt64(reader.bytes.count) else {
            throw WeightsError.truncated(reading: "\(what) (it points past the end of the file)")
        }
        return Int(value)
    }
}
