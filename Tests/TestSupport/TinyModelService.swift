// A model service with one tiny synthetic classifier on the reference backend (32×32 input, one convolution, 1000
// classes, deterministic weights): route and scheduler tests run in milliseconds without downloaded weights.
import Crypto
import Engine
import Foundation
import Imaging
import Inference
import Models

public final class TinyModelService: ModelService, @unchecked Sendable {
    public static let modelName = "tiny_test"

    public let classifier: Classifier
    private let scheduler: BatchScheduler
    private let digest: String
    private let lock = NSLock()
    // Guarded by `lock`.
    private var loaded: Bool

    /// `loaded: false` keeps the model loading until `finishLoading()` (for readiness tests).
    public init(labels: ImageNetLabels, scheduling: BatchScheduler.Configuration = .init(), observer: (any BatchSchedulerObserver)? = nil,
                loaded: Bool = true) throws {
        let graph = Self.graph()
        classifier = try Classifier(model: Self.descriptor, graph: graph, weightsSource: "tiny-test-synthetic", backend: ReferenceBackend(), labels: labels)
        scheduler = BatchScheduler(classifier: classifier, configuration: scheduling, observer: observer)
        digest = SHA256.hash(data: Data(graph.separatingWeights().weights.sorted { $0.key < $1.key }.flatMap(\.value).withUnsafeBytes { Array($0) }))
            .map { String(format: "%02x", $0) }.joined()
        self.loaded = loaded
    }

    /// The tiny model: 36 px on the shorter side (bilinear), the centred 32×32, pixels scaled to [-1, 1].
    public static let descriptor = ModelDescriptor(
        builtName: modelName,
        preprocessing: Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: 36, crop: 32, filter: .bilinear),
                                     normalization: .unitScaleThenStandardize(mean: SIMD3(repeating: 0.5), standardDeviation: SIMD3(repeating: 0.5))))

    /// 3×32×32 → 3×3 convolution (stride 2, 16 channels, ReLU) → global average pool → 1000 logits.
    static func graph() -> Graph {
        var builder = GraphBuilder(name: modelName, inputShape: [3, 32, 32])
        let features = builder.convolution(builder.input, Convolution(
            weight: DeterministicWeights.tensor("tiny.conv.weight", shape: [16, 3, 3, 3], isBatchNorm: false),
            bias: DeterministicWeights.tensor("tiny.conv.bias", shape: [16], isBatchNorm: false),
            stride: Size2D(2, 2), padding: Padding2D(symmetric: 1, 1), activation: .relu))
        let pooled = builder.globalAveragePool(features)
        let scaled = DeterministicWeights.tensor("tiny.fc.weight", shape: [1000, 16], isBatchNorm: false).scalars.map { $0 * 8 }
        let logits = builder.linear(pooled, Linear(weight: Tensor(shape: [1000, 16], scalars: scaled),
                                                   bias: DeterministicWeights.tensor("tiny.fc.bias", shape: [1000], isBatchNorm: false)))
        return builder.build(output: logits)
    }

    public func finishLoading() {
        lock.withLock { loaded = true }
    }

    private var isLoaded: Bool { lock.withLock { loaded } }

    public var defaultModelName: String? { Self.modelName }

    public func statuses() -> [ModelStatus] {
        [ModelStatus(model: Self.descriptor, state: isLoaded ? .ready : .loading, weightsSource: classifier.weightsSource, isDefault: true)]
    }

    public var isReady: Bool { isLoaded }

    public func scheduler(named name: String?) throws(ModelServiceError) -> BatchScheduler {
        guard (name ?? Self.modelName) == Self.modelName else { throw .unknownModel(name ?? "", known: [Self.modelName]) }
        guard isLoaded else { throw .loading(Self.modelName) }
        return scheduler
    }

    public func weightsDigest(of name: String) -> String? {
        name == Self.modelName && isLoaded ? digest : nil
    }

    public func readySchedulers() -> [BatchScheduler] {
        isLoaded ? [scheduler] : []
    }

    public func shutDown() {
        scheduler.shutDown()
    }
}
