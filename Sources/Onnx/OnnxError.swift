// Everything that can be wrong with an ONNX file, said so that its author can act on it.

/// A node Blindspot cannot run, named as in the file.
public struct UnsupportedNode: Sendable, Equatable, CustomStringConvertible {
    public let node: String
    public let operation: String
    public let reason: String?

    public var description: String {
        "\(operation) (node '\(node)')" + (reason.map { ": \($0)" } ?? "")
    }
}

public enum OnnxError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a valid ONNX protobuf.
    case malformed(String)
    /// Operators Blindspot does not implement, all of them, found before anything runs.
    case unsupportedOperators([UnsupportedNode])
    /// A supported operator used in a way Blindspot cannot run (a computed Gather, a transposed activation…).
    case unsupportedUse(UnsupportedNode)
    /// The graph is inconsistent (an input that nothing produces, shapes that do not fit).
    case invalid(String)

    public var description: String {
        switch self {
        case .malformed(let reason):
            return "not a valid ONNX file: \(reason)"
        case .unsupportedOperators(let nodes):
            let names = Set(nodes.map(\.operation)).sorted()
            return "the model uses operators Blindspot does not support: \(names.joined(separator: ", ")); at "
                + nodes.map { "'\($0.node)' (\($0.operation)\($0.reason.map { ", \($0)" } ?? ""))" }.joined(separator: ", ")
        case .unsupportedUse(let node):
            return "cannot run \(node)"
        case .invalid(let reason):
            return "invalid ONNX model: \(reason)"
        }
    }
}
