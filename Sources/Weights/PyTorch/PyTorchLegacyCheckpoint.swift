// Reads a checkpoint in the legacy format of torch.save (PyTorch < 1.6): consecutive pickles (magic number,
// protocol version, sys_info, the state_dict, its storage keys), then each storage as an 8-byte element count
// and its raw bytes. Only little-endian files are accepted.

enum PyTorchLegacyCheckpoint {
    /// The pickled magic number 0x1950a86a20f9469cfc6c (PROTO 2, LONG1 of 10 bytes, STOP).
    static let header: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    private static let protocolVersion = 1001

    static func load(_ bytes: UnsafeRawBufferPointer, copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> StateDict {
        var reader = ByteReader(bytes)
        let leading = try reader.read(header.count, "the legacy checkpoint's magic number")
        guard leading.elementsEqual(header) else {
            throw WeightsError.malformedCheckpoint("the legacy magic number is wrong: the file starts with \(Array(leading))")
        }
        let version = try Unpickler.unpickle(bytes, at: reader.offset)
        guard version.root == .integer(protocolVersion) else {
            let found = if case let .integer(number) = version.root { "\(number)" } else { version.root.kindName }
            throw WeightsError.malformedCheckpoint("the legacy protocol version is \(found), expected \(protocolVersion)")
        }
        let systemInformation = try Unpickler.unpickle(bytes, at: version.endOffset)
        try checkLittleEndian(systemInformation)

        let pickled = try Unpickler.unpickle(bytes, at: systemInformation.endOffset)
        let stateDict = try PickledStateDict(pickled)
        let keyList = try Unpickler.unpickle(bytes, at: pickled.endOffset)
        try reader.seek(to: keyList.endOffset, "the legacy storage data")
        var storageBytes: [String: UnsafeRawBufferPointer] = [:]
        for key in try storageKeys(keyList) {
            guard let storage = stateDict.storages[key] else {
                throw WeightsError.malformedCheckpoint("the storage list names \(key), which no tensor uses")
            }
            let count = try reader.readInteger(as: Int64.self, "the element count of storage \(key)")
            guard count == storage.elementCount else {
                throw WeightsError.malformedCheckpoint("storage \(key) holds \(count) elements, but the pickle declares \(storage.elementCount)")
            }
            storageBytes[key] = try reader.read(storage.byteCount(), "the \(count) elements of storage \(key)")
        }
        return try stateDict.materialize(storageBytes: storageBytes, copied: copied)
    }

    /// sys_info is `{'protocol_version': 1001, 'little_endian': bool, 'type_sizes': {…}}`.
    private static func checkLittleEndian(_ systemInformation: Unpickled) throws {
        guard let dictionary = systemInformation.heap.dictionary(systemInformation.root) else {
            throw WeightsError.malformedCheckpoint("the legacy sys_info is \(systemInformation.root.kindName), not a dict")
        }
        guard dictionary[.string("little_endian")] == .bool(true) else {
            throw WeightsError.malformedCheckpoint("the checkpoint was saved on a big-endian machine, which is not supported")
        }
    }

    private static func storageKeys(_ keyList: Unpickled) throws -> [String] {
        guard case .list = keyList.root, let items = keyList.heap.items(of: keyList.root) else {
            throw WeightsError.malformedCheckpoint("the legacy storage key list is \(keyList.root.kindName), not a list")
        }
        return try items.map { item in
            guard case let .string(key) = item else {
                throw WeightsError.malformedCheckpoint("a legacy storage key is \(item.kindName), not a string")
            }
            return key
        }
    }
}
