// Hands a model definition the tensors it asks for by checkpoint name and shape, and records every request,
// so one definition yields both the network and the exact key list it expects (strict loading).
import Engine
import Weights

public struct ParameterReader {
    /// Every key the definition asked for, in order, with the shape it expects.
    public private(set) var requested: [(key: String, shape: [Int])] = []
    /// Every key the definition named, required or optional, in the order a PyTorch state_dict lists them.
    public private(set) var allKeys: [String] = []
    private let stateDict: StateDict?

    /// A reader that hands out `stateDict`'s tensors (zeros where a key is missing or mis-shaped;
    /// `validate` then reports those).
    init(stateDict: StateDict?) {
        self.stateDict = stateDict
    }

    public mutating func tensor(_ key: String, shape: [Int]) -> Tensor {
        requested.append((key, shape))
        allKeys.append(key)
        if let found = stateDict?[key], found.shape == shape { return found }
        return Tensor(zeros: shape)
    }

    /// Names a key a checkpoint may or may not carry (BatchNorm's `num_batches_tracked`).
    public mutating func optional(_ key: String) {
        allKeys.append(key)
    }

    /// Throws `WeightsError.keyMismatch` unless the state dict has exactly the requested keys and shapes,
    /// apart from the keys matching `ignored`.
    func validate(ignoring ignored: [KeyPattern]) throws {
        guard let stateDict else { return }
        try stateDict.validate(against: Dictionary(requested.map { ($0.key, $0.shape) }, uniquingKeysWith: { first, _ in first }),
                               ignoring: ignored)
    }
}
