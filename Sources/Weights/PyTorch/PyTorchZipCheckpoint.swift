// Reads a checkpoint in the zip format of torch.save (PyTorch ≥ 1.6): `<archive>/data.pkl` describes the
// state_dict and `<archive>/data/<key>` holds each storage's raw little-endian bytes. It trusts no name or size.

enum PyTorchZipCheckpoint {
    static func load(_ bytes: UnsafeRawBufferPointer, copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> StateDict {
        let archive = try ZipArchive(bytes)
        let (prefix, pickleEntry) = try findPickle(in: archive)
        let stateDict = try PickledStateDict(Unpickler.unpickle(archive.contents(of: pickleEntry)))
        if let byteOrder = archive.entries["\(prefix)/byteorder"] {
            let order = String(decoding: try archive.contents(of: byteOrder), as: UTF8.self)
            guard order == "little" else {
                throw WeightsError.malformedCheckpoint("the checkpoint's byte order is \(order), only little-endian is supported")
            }
        }

        var storageBytes: [String: UnsafeRawBufferPointer] = [:]
        for (key, storage) in stateDict.storages {
            let name = "\(prefix)/data/\(key)"
            guard let entry = archive.entries[name] else {
                throw WeightsError.malformedCheckpoint("storage \(key) has no entry \(name)")
            }
            let contents = try archive.contents(of: entry)
            let needed = try storage.byteCount()
            guard contents.count >= needed else {
                throw WeightsError.malformedCheckpoint(
                    "entry \(name) holds \(contents.count) bytes but storage \(key) declares \(storage.elementCount) × \(storage.type) = \(needed) bytes")
            }
            storageBytes[key] = contents
        }
        return try stateDict.materialize(storageBytes: storageBytes, copied: copied)
    }

    /// The `<archive>/data.pkl` entry and its top folder, whose name varies (`archive`, or the saved file's name).
    private static func findPickle(in archive: ZipArchive) throws -> (prefix: String, entry: ZipArchive.Entry) {
        let pickles = archive.entries.compactMap { name, entry -> (prefix: String, entry: ZipArchive.Entry)? in
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" ? (String(parts[0]), entry) : nil
        }
        guard pickles.count == 1, let pickle = pickles.first else {
            throw WeightsError.malformedCheckpoint(pickles.isEmpty
                ? "the zip archive has no <archive>/data.pkl entry, so it is not a PyTorch checkpoint"
                : "the zip archive has several data.pkl entries: \(pickles.map(\.prefix).sorted())")
        }
        return pickle
    }
}
