// The contract between networks and the code that runs them: a backend prepares a Graph once, then runs it on batches.
// Backends differ in speed only; ReferenceBackend is the specification every other backend is tested against.

public protocol Backend: Sendable {
    /// A short name for logs and benchmarks ("reference", "onednn").
    var name: String { get }
    /// Prepares `graph` for repeated execution (weights converted, plans cached as needed).
    func prepare(_ graph: Graph) throws -> any PreparedGraph
}

/// A graph ready to run. Implementations are safe to call from concurrent tasks.
public protocol PreparedGraph: Sendable {
    var graph: Graph { get }
    /// Runs a batch: `input` is [N] + graph.inputShape, the result is [N] + graph.outputShape.
    func run(_ input: Tensor) throws -> Tensor
}

public enum EngineError: Error, Equatable, CustomStringConvertible {
    case inputShape(expected: [Int], got: [Int])
    case backend(String)

    public var description: String {
        switch self {
        case .inputShape(let expected, let got):
            return "the network expects input [N, \(expected.map(String.init).joined(separator: ", "))], got \(got)"
        case .backend(let message):
            return message
        }
    }
}

extension PreparedGraph {
    /// Checks that `input` is a batch of this graph's input shape and returns the batch size.
    public func batchSize(of input: Tensor) throws -> Int {
        guard input.rank == graph.inputShape.count + 1, Array(input.shape.dropFirst()) == graph.inputShape, input.shape[0] >= 1 else {
            throw EngineError.inputShape(expected: graph.inputShape, got: input.shape)
        }
        return input.shape[0]
    }
}
