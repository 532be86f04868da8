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
    /// The penultimate features (the classifier's input, after global pooling) from the same forward pass; nil for a
    /// network whose output is not a linear layer.
    public let features: [Float]?

    public init(model: String, predictions: [Prediction], logits: [Float], probabilities: [Double], features: [Float]? = nil) {
        self.model = model
        self.predictions = predictions
        self.logits = logits
        self.probabilities = probabilities
        self.features = features
    }
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
    /// The network up to its penultimate features, then its classifier; the whole network in `trunk` (and no
    /// classifier) when it does not end in a linear layer.
    private let trunk: any PreparedGraph
    private let classifier: (any PreparedGraph)?

    public convenience init(model: ModelDescriptor, stateDict: StateDict, weightsSource: String, backend: any Backend, labels: ImageNetLabels) throws {
        try self.init(model: model, graph: model.graph(from: stateDict), weightsSource: weightsSource, backend: backend, labels: labels)
    }

    /// A classifier running `graph` (from a checkpoint or an ONNX file) with `model`'s preprocessing.
    public init(model: ModelDescriptor, graph: Graph, weightsSource: String, backend: any Backend, labels: ImageNetLabels) throws {
        self.model = model
        self.labels = labels
        self.weightsSource = weightsSource
        if let split = graph.splitAtClassifier() {
            trunk = try backend.prepare(split.trunk)
            classifier = try backend.prepare(split.classifier)
        } else {
            trunk = try backend.prepare(graph)
            classifier = nil
        }
    }

    /// The number of penultimate features each image gets; nil when the network has none to give.
    public var featureCount: Int? {
        classifier.map { $0.graph.inputShape.reduce(1, *) }
    }

    /// Builds the execution plan for `batchSize` by running one batch of zeros, so that later timings
    /// measure inference only (the first run of each batch size also plans and compiles kernels).
    public func warmUp(batchSize: Int) throws {
        _ = try logits(Tensor(zeros: [batchSize] + model.preprocessing.tensorShape))
    }

    /// Runs the network on a prepared batch: [N, 3, H, W] → [N, 1000] logits.
    public func logits(_ batch: Tensor) throws -> Tensor {
        try forward(batch).logits
    }

    /// One forward pass: the logits [N, 1000] and, when the network ends in a linear layer, its input [N, C].
    public func forward(_ batch: Tensor) throws -> (logits: Tensor, features: Tensor?) {
        let output = try trunk.run(batch)
        guard let classifier else { return (output, nil) }
        let count = output.count / max(output.shape[0], 1)
        let features = Tensor(shape: [output.shape[0], count], scalars: output.scalars)
        let logits = try classifier.run(Tensor(shape: [output.shape[0], count, 1, 1], scalars: output.scalars))
        return (logits, features)
    }

    /// Classifies a prepared batch, keeping the `top` most probable classes of each image, with its features.
    /// `among` masks the outputs to those classes (ImageNet-A's or -R's 200): the softmax runs over them only, every
    /// other class gets probability 0 and is never among the predictions; `logits` stay all the network's.
    public func classify(_ batch: Tensor, top: Int, among classes: [Int]? = nil) throws -> [Classification] {
        let (logits, features) = try forward(batch)
        let classCount = logits.shape[1]
        let featureCount = features.map { $0.count / max($0.shape[0], 1) } ?? 0
        let kept = classes.map { $0.filter { (0..<classCount).contains($0) } }
        return (0..<logits.shape[0]).map { row in
            let scores = Array(logits.scalars[(row * classCount)..<((row + 1) * classCount)])
            let probabilities = kept.map { Self.softmax(scores, among: $0) } ?? Self.softmax(scores)
            let candidates = kept ?? Array(probabilities.indices)
            let best = candidates.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            let predictions = best.prefix(max(top, 0)).map { Prediction(index: $0, label: labels[$0].name, probability: probabilities[$0]) }
            let imageFeatures = features.map { Array($0.scalars[(row * featureCount)..<((row + 1) * featureCount)]) }
            return Classification(model: model.name, predictions: predictions, logits: scores, probabilities: probabilities, features: imageFeatures)
        }
    }

    /// Classifies decoded pictures as one batch, each through the model's own preprocessing.
    public func classify(_ pictures: [RGBImage], top: Int) throws -> [Classification] {
        let preprocessing = model.preprocessing
        var batch = Tensor(zeros: [pictures.count] + preprocessing.tensorShape)
        for (slot, picture) in pictures.enumerated() { try preprocessing.write(picture, into: &batch, at: slot) }
        return try classify(batch, top: top)
    }

    /// The softmax over `classes` only, in class order over all of `logits` (0 for every other class).
    public static func softmax(_ logits: [Float], among classes: [Int]) -> [Double] {
        var probabilities = [Double](repeating: 0, count: logits.count)
        for (index, probability) in zip(classes, softmax(classes.map { logits[$0] })) { probabilities[index] = probability }
        return probabilities
    }

    /// Softmax in double precision, with the maximum subtracted first.
    public static func softmax(_ logits: [Float]) -> [Double] {
        let largest = Double(logits.max() ?? 0)
        let exponentials = logits.map { exp(Double($0) - largest) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }
}
