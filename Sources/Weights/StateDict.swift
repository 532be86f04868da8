// Weights as one dictionary of Float32 tensors keyed by the checkpoint's own names, whatever the file format.
// It does not rename keys or change layouts; models do that once, as data, after loading.
import Engine

public struct StateDict: Sendable, Equatable {
    /// Every tensor, converted to Float32, under the name the checkpoint gave it.
    public var tensors: [String: Tensor]
    /// The element type each tensor had in the file before conversion.
    public var sourceTypes: [String: ScalarType]

    public init(tensors: [String: Tensor], sourceTypes: [String: ScalarType]) {
        self.tensors = tensors
        self.sourceTypes = sourceTypes
    }

    /// A state dict of Float32 tensors (as built in memory, e.g. for export).
    public init(tensors: [String: Tensor]) {
        self.init(tensors: tensors, sourceTypes: tensors.mapValues { _ in .float32 })
    }

    public subscript(key: String) -> Tensor? { tensors[key] }

    /// The keys in ascending order.
    public var keys: [String] { tensors.keys.sorted() }

    public var count: Int { tensors.count }
}
