// The values the safe unpickler can build: plain scalars and strings, containers kept in a heap by index,
// and the few torch objects a state_dict holds (allowed globals, storage references, tensor views).
// Containers live in `PickleHeap` so that mutation through the memo behaves as in Python and no value nests.

enum PickleValue: Hashable {
    case none
    case bool(Bool)
    case integer(Int)
    case float(Double)
    case string(String)
    case tuple(Int)
    case list(Int)
    case dictionary(Int)
    case global(TorchGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    /// How errors name the kind of a value.
    var kindName: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .integer: "an integer"
        case .float: "a float"
        case .string: "a string"
        case .tuple: "a tuple"
        case .list: "a list"
        case .dictionary: "a dict"
        case let .global(global): "the global \(global.qualifiedName)"
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }
}

/// An ordered dictionary, as Python's dicts are: later assignments to an existing key replace its value.
struct PickleDictionary {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var positions: [PickleValue: Int] = [:]

    subscript(key: PickleValue) -> PickleValue? {
        positions[key].map { entries[$0].value }
    }

    mutating func set(_ value: PickleValue, for key: PickleValue) {
        if let position = positions[key] {
            entries[position].value = value
        } else {
            positions[key] = entries.count
            entries.append((key, value))
        }
    }
}

/// Storage for every tuple, list and dictionary of one unpickling; values refer to them by index.
struct PickleHeap {
    private(set) var tuples: [[PickleValue]] = []
    private(set) var lists: [[PickleValue]] = []
    private(set) var dictionaries: [PickleDictionary] = []

    mutating func makeTuple(_ items: [PickleValue]) -> PickleValue {
        tuples.append(items)
        return .tuple(tuples.count - 1)
    }

    mutating func makeList() -> PickleValue {
        lists.append([])
        return .list(lists.count - 1)
    }

    mutating func makeDictionary() -> PickleValue {
        dictionaries.append(PickleDictionary())
        return .dictionary(dictionaries.count - 1)
    }

    mutating func append(_ items: some Sequence<PickleValue>, toList index: Int) {
        lists[index].append(contentsOf: items)
    }

    mutating func set(_ value: PickleValue, for key: PickleValue, inDictionary index: Int) {
        dictionaries[index].set(value, for: key)
    }

    /// The items of a tuple or list value, or nil for any other value.
    func items(of value: PickleValue) -> [PickleValue]? {
        switch value {
        case let .tuple(index): tuples[index]
        case let .list(index): lists[index]
        default: nil
        }
    }

    func dictionary(_ value: PickleValue) -> PickleDictionary? {
        guard case let .dictionary(index) = value else { return nil }
        return dictionaries[index]
    }
}
