// The torch vocabulary of a state_dict pickle: the allow-listed globals, what calling them builds, and the
// storage persistent ids. Anything outside it is rejected by name; nothing is imported or executed.

/// The only globals a state_dict pickle may name.
enum TorchGlobal: Hashable {
    case orderedDictionary
    case rebuildTensor
    case storageType(ScalarType)

    /// Resolves `module.name` against the allow-list, or throws `WeightsError.forbiddenGlobal` naming it.
    init(module: String, name: String) throws {
        switch (module, name) {
        case ("collections", "OrderedDict"):
            self = .orderedDictionary
        case ("torch._utils", "_rebuild_tensor_v2"):
            self = .rebuildTensor
        case let ("torch", storageName):
            guard let type = ScalarType(torchStorageName: storageName) else {
                throw WeightsError.forbiddenGlobal("\(module).\(name)")
            }
            self = .storageType(type)
        default:
            throw WeightsError.forbiddenGlobal("\(module).\(name)")
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDictionary: "collections.OrderedDict"
        case .rebuildTensor: "torch._utils._rebuild_tensor_v2"
        case let .storageType(type): "torch.\(type.torchStorageName)"
        }
    }

    /// REDUCE: `OrderedDict()` makes an empty dictionary; `_rebuild_tensor_v2(…)` makes a tensor view.
    func call(with arguments: [PickleValue], heap: inout PickleHeap) throws -> PickleValue {
        switch self {
        case .orderedDictionary:
            guard arguments.isEmpty else {
                throw WeightsError.malformedPickle("OrderedDict called with \(arguments.count) arguments instead of none")
            }
            return heap.makeDictionary()
        case .rebuildTensor:
            return .tensor(try TensorReference(rebuildArguments: arguments, heap: heap))
        case .storageType:
            throw WeightsError.malformedPickle("\(qualifiedName) is called directly instead of through a persistent id")
        }
    }
}

/// A storage named by a persistent id: `('storage', storage_type, key, location, numel[, view_metadata])`.
struct StorageReference: Hashable {
    var key: String
    var type: ScalarType
    var elementCount: Int
}

extension StorageReference {
    /// Reads a persistent id; legacy checkpoints add a sixth element, view_metadata, which must be None.
    init(persistentID: PickleValue, heap: PickleHeap) throws {
        guard let fields = heap.items(of: persistentID), fields.count == 5 || fields.count == 6,
              fields[0] == .string("storage"),
              case let .global(.storageType(type)) = fields[1],
              case let .string(key) = fields[2],
              case .string = fields[3],
              case let .integer(elementCount) = fields[4], elementCount >= 0 else {
            throw WeightsError.malformedPickle("a persistent id is not ('storage', type, key, location, numel)")
        }
        if fields.count == 6, fields[5] != .none {
            throw WeightsError.malformedCheckpoint("storage \(key) is a view into another storage (view_metadata), which is not supported")
        }
        self.init(key: key, type: type, elementCount: elementCount)
    }
}

/// A tensor as `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
struct TensorReference: Hashable {
    var storage: StorageReference
    var view: StridedView

    init(rebuildArguments arguments: [PickleValue], heap: PickleHeap) throws {
        guard arguments.count == 6 || arguments.count == 7,
              case let .storage(storage) = arguments[0],
              case let .integer(offset) = arguments[1],
              let shape = TensorReference.integers(arguments[2], heap: heap),
              let strides = TensorReference.integers(arguments[3], heap: heap),
              case .bool = arguments[4] else {
            throw WeightsError.malformedPickle(
                "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, requires_grad, hooks)")
        }
        guard shape.count == strides.count else {
            throw WeightsError.malformedPickle("a tensor has size \(shape) but stride \(strides)")
        }
        self.storage = storage
        self.view = StridedView(offset: offset, shape: shape, strides: strides)
    }

    /// A tuple of integers, or nil.
    private static func integers(_ value: PickleValue, heap: PickleHeap) -> [Int]? {
        guard case .tuple = value, let items = heap.items(of: value) else { return nil }
        var integers: [Int] = []
        for item in items {
            guard case let .integer(integer) = item else { return nil }
            integers.append(integer)
        }
        return integers
    }
}
