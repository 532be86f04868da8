// The state_dict a checkpoint's pickle describes (keys, tensor views, storages), and its conversion to a
// StateDict once the storage bytes are found. Shared by the zip and legacy formats; it reads no file itself.
import Engine

struct PickledStateDict {
    /// Tensor views in the pickle's order.
    let entries: [(key: String, tensor: TensorReference)]
    /// Every storage the tensors view, by its key.
    let storages: [String: StorageReference]

    /// Accepts a dict of tensors, or a dict holding one under `state_dict` or `model` (training checkpoints).
    init(_ unpickled: Unpickled) throws {
        let heap = unpickled.heap
        guard let root = heap.dictionary(unpickled.root) else {
            throw WeightsError.notAStateDict("the pickle holds \(unpickled.root.kindName), not a dict")
        }
        let wrapped = ["state_dict", "model"].lazy.compactMap { root[.string($0)].flatMap(heap.dictionary) }.first
        var entries: [(key: String, tensor: TensorReference)] = []
        var storages: [String: StorageReference] = [:]
        for (key, value) in (wrapped ?? root).entries {
            guard case let .string(name) = key else {
                throw WeightsError.notAStateDict("a key is \(key.kindName), not a string")
            }
            guard case let .tensor(tensor) = value else {
                throw WeightsError.notAStateDict("the value of \(name) is \(value.kindName), not a tensor")
            }
            if let known = storages[tensor.storage.key], known != tensor.storage {
                throw WeightsError.malformedCheckpoint(
                    "storage \(known.key) is declared both as \(known.elementCount) × \(known.type) and as \(tensor.storage.elementCount) × \(tensor.storage.type)")
            }
            storages[tensor.storage.key] = tensor.storage
            entries.append((name, tensor))
        }
        self.entries = entries
        self.storages = storages
    }

    /// Copies every tensor out of its storage's bytes; `storageBytes` holds each storage named in `storages`.
    /// `copied` is told of a storage's bytes after each tensor read from it (several may share one).
    func materialize(storageBytes: [String: UnsafeRawBufferPointer],
                     copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> StateDict {
        var tensors: [String: Tensor] = [:]
        var sourceTypes: [String: ScalarType] = [:]
        for (key, tensor) in entries {
            guard let bytes = storageBytes[tensor.storage.key] else {
                throw WeightsError.malformedCheckpoint("the data of storage \(tensor.storage.key) (tensor \(key)) is missing")
            }
            tensors[key] = try tensor.view.materialize(from: bytes, storageCount: tensor.storage.elementCount,
                                                       type: tensor.storage.type, name: key)
            copied(bytes)
            sourceTypes[key] = tensor.storage.type
        }
        return StateDict(tensors: tensors, sourceTypes: sourceTypes)
    }
}

extension StorageReference {
    /// The storage's size in bytes, or a thrown error if numel × element size overflows.
    func byteCount() throws -> Int {
        let (bytes, overflow) = elementCount.multipliedReportingOverflow(by: type.byteCount)
        guard !overflow else {
            throw WeightsError.malformedCheckpoint("storage \(key) declares \(elementCount) elements, too many to address")
        }
        return bytes
    }
}
