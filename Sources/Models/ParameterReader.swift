// Hands a model definition the tensors it asks for by checkpoint name and shape, and records every request,
// so one definition yields both the network and the exact key list it expects (strict loading).
import Engine
import Weights

public struct ParameterReader {
    /// Every key the definition asked for, in order, with the shape it expects.
    public private(set) var requested: [(key: String, shape: [Int])] = []
    /// Every key the definition named, required or optional, in the order a PyTorch state_dict lists them.
    public private(set) var allKeys: [String] = []
    /// The keys that belong to normalisation layers (batch norm's γ, β and running statistics).
    public private(set) var normalizationKeys: Set<String> = []
    /// The tensors not yet handed out.
    private var stateDict: StateDict?
    /// The shape of every tensor the state dict had, for `validate`.
    private let shapes: [String: [Int]]?

    /// A reader that hands out `stateDict`'s tensors, each taken out of it as it goes (zeros where a key is missing
    /// or mis-shaped; `validate` then reports those).
    init(stateDict: consuming StateDict?) {
        shapes = stateDict?.tensors.mapValues(\.shape)
        self.stateDict = stateDict
    }

    public mutating func tensor(_ key: String, shape: [Int]) -> Tensor {
        precondition(!requested.contains { $0.key == key }, "the model definition asks for \(key) twice")
        requested.append((key, shape))
        allKeys.append(key)
        if stateDict?[key]?.shape == shape, let found = stateDict?.tensors.removeValue(forKey: key) { return found }
        return Tensor(zeros: shape)
    }

    /// A normalisation layer's tensor: as `tensor`, and recorded in `normalizationKeys`.
    public mutating func normalization(_ key: String, shape: [Int]) -> Tensor {
        normalizationKeys.insert(key)
        return tensor(key, shape: shape)
    }

    /// Names a key a checkpoint may or may not carry (BatchNorm's `num_batches_tracked`).
    public mutating func optional(_ key: String) {
        allKeys.append(key)
    }

    /// Throws `WeightsError.keyMismatch` unless the state dict has exactly the requested keys and shapes,
    /// apart from the keys matching `ignored`.
    func validate(ignoring ignored: [KeyPattern]) throws {
        guard let shapes else { return }
        try StateDict.validate(shapes: shapes, against: Dictionary(uniqueKeysWithValues: requested.map { ($0.key, $0.shape) }),
                               ignoring: ignored)
    }
}
