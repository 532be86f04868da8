// One loaded model ready to classify images: batched inference on a backend, softmax and top-k.
// Decoding and preprocessing are in PreparedImage.swift; choosing and loading models is ModelRegistry's job.
import Engine
import Foundation
import Imaging
import Models
import Weights

/// One class and its probability.
public struct Prediction: Sendable, Equatable, Codable {
    public let index: Int
    public let label: String
    public let probability: Double
}

/// What a model said about one image.
public struct Classification: Sendable {
    public let model: String
    /// The top classes, most probable first.
    public let predictions: [Prediction]
    /// The 1000 raw outputs.
    public let logits: [Float]
    /// The softmax of `logits`, in class order.
    public let probabilities: [Double]
}

/// Where one class stands in a classification: its probability and rank (1 = first choice).
public struct ClassRank: Sendable, Equatable, Codable {
    public let index: Int
    public let label: String
    public let probability: Double
    public let rank: Int
}

extension Classification {
    /// The rank of class `index` among all classes (ties go to the lower index, as in `predictions`).
    public func rank(of index: Int) -> Int {
        let mine = probabilities[index]
        return probabilities.indices.count { probabilities[$0] > mine || (probabilities[$0] == mine && $0 < index) } + 1
    }

    /// The best-ranked of `classes`; nil when none is given. `labels` name it.
    public func bestRank(of classes: [Int], labels: ImageNetLabels) -> ClassRank? {
        var best: (index: Int, rank: Int)?
        for index in classes where probabilities.indices.contains(index) {
            let candidate = (index: index, rank: rank(of: index))
            if let current = best, current.rank <= candidate.rank { continue }
            best = candidate
        }
        guard let best else { return nil }
        return ClassRank(index: best.index, label: labels[best.index].name, probability: probabilities[best.index], rank: best.rank)
    }
}

public final class Classifier: Sendable {
    public let model: ModelDescriptor
    public let labels: ImageNetLabels
    /// Where the weights came from, for reports ("efficientnet-lite0-57934424.pth" or a path).
    public let weightsSource: String
    private let network: any PreparedGraph

    public convenience init(model: ModelDescriptor, stateDict: StateDict, weightsSource: String, backend: any Backend, labels: ImageNetLabels) throws {
        try self.init(model: model, graph: model.graph(from: stateDict), weightsSource: weightsSource, backend: backend, labels: labels)
    }

    /// A classifier running `graph` (from a checkpoint or an ONNX file) with `model`'s preprocessing.
    public init(model: ModelDescriptor, graph: Graph, weightsSource: String, backend: any Backend, labels: ImageNetLabels) throws {
        self.model = model
        self.labels = labels
        self.weightsSource = weightsSource
        network = try backend.prepare(graph)
    }

    /// Builds the execution plan for `batchSize` by running one batch of zeros, so that later timings
    /// measure inference only (the first run of each batch size also plans and compiles kernels).
    public func warmUp(batchSize: Int) throws {
        _ = try logits(Tensor(zeros: [batchSize] + model.preprocessing.tensorShape))
    }

    /// Runs the network on a prepared batch: [N, 3, H, W] → [N, 1000] logits.
    public func logits(_ batch: Tensor) throws -> Tensor {
        try network.run(batch)
    }

    /// Classifies a prepared batch, keeping the `top` most probable classes of each image.
    public func classify(_ batch: Tensor, top: Int) throws -> [Classification] {
        let logits = try logits(batch)
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            let scores = Array(logits.scalars[(row * classes)..<((row + 1) * classes)])
            let probabilities = Self.softmax(scores)
            let best = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            let predictions = best.prefix(max(top, 0)).map { Prediction(index: $0, label: labels[$0].name, probability: probabilities[$0]) }
            return Classification(model: model.name, predictions: predictions, logits: scores, probabilities: probabilities)
        }
    }

    /// Softmax in double precision, with the maximum subtracted first.
    public static func softmax(_ logits: [Float]) -> [Double] {
        let largest = Double(logits.max() ?? 0)
        let exponentials = logits.map { exp(Double($0) - largest) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }
}
