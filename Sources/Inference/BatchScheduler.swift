// One model's inference queue: concurrent callers' images are decoded on a small thread pool, then batched by
// one inference thread (what arrives within a short window, up to a maximum batch) with a bounded queue.
// It never runs on Swift's cooperative threads or on network event loops. Not HTTP: the web app maps its errors.
import Engine
import Foundation
import Models
import Synchronization

/// What the scheduler reports as it works, for metrics. Called from the scheduler's threads.
public protocol BatchSchedulerObserver: Sendable {
    func batchCompleted(model: String, size: Int, milliseconds: Double)
    func queueDepthChanged(model: String, depth: Int)
}

public enum BatchSchedulerError: Error, Equatable, CustomStringConvertible {
    /// The queue is full; try again after about `retryAfterSeconds`.
    case overloaded(model: String, queued: Int, retryAfterSeconds: Int)
    case shutDown(model: String)

    public var description: String {
        switch self {
        case let .overloaded(model, queued, retryAfterSeconds):
            return "\(model) is busy (\(queued) images queued); retry in \(retryAfterSeconds) s"
        case .shutDown(let model):
            return "\(model) is shutting down"
        }
    }
}

/// One image's answer and how it was computed.
public struct ScheduledClassification: Sendable {
    public let classification: Classification
    /// Decoding and preprocessing, in milliseconds.
    public let decodeMilliseconds: Double
    /// Inference of the whole batch this image was part of, in milliseconds.
    public let inferenceMilliseconds: Double
    /// How long the prepared image waited for its batch, in milliseconds.
    public let queueMilliseconds: Double
    public let batchSize: Int
    public let image: PreparedImage
}

public final class BatchScheduler: @unchecked Sendable {
    public struct Configuration: Sendable, Equatable {
        public var maximumBatchSize: Int
        /// How long the inference thread waits for more images once one is ready, when fewer than a full batch are.
        public var batchWindow: Duration
        /// Images admitted (decoding, queued or in inference) beyond which callers are refused at once.
        public var queueCapacity: Int
        /// Threads decoding and preprocessing images.
        public var decodeThreads: Int

        public init(maximumBatchSize: Int = 8, batchWindow: Duration = .milliseconds(5), queueCapacity: Int = 64,
                    decodeThreads: Int = 2) {
            precondition(maximumBatchSize >= 1 && queueCapacity >= 0 && decodeThreads >= 1)
            self.maximumBatchSize = maximumBatchSize
            self.batchWindow = batchWindow
            self.queueCapacity = queueCapacity
            self.decodeThreads = decodeThreads
        }
    }

    private struct Pending {
        let image: PreparedImage
        let top: Int
        let readyAt: ContinuousClock.Instant
        let continuation: CheckedContinuation<ScheduledClassification, any Error>
    }

    public let classifier: Classifier
    public let configuration: Configuration
    private let observer: (any BatchSchedulerObserver)?
    private let condition = NSCondition()
    private let decodeQueue: OperationQueue
    // Guarded by `condition`.
    private var admitted = 0
    /// Admitted images being decoded: the batch window waits for these (not for bodies still arriving).
    private var decoding = 0
    private var ready: [Pending] = []
    private var running = true
    private var millisecondsPerImage = 10.0

    public init(classifier: Classifier, configuration: Configuration = Configuration(), observer: (any BatchSchedulerObserver)? = nil) {
        self.classifier = classifier
        self.configuration = configuration
        self.observer = observer
        decodeQueue = OperationQueue()
        decodeQueue.maxConcurrentOperationCount = configuration.decodeThreads
        decodeQueue.name = "blindspot.decode.\(classifier.model.name)"
        let thread = Thread { [self] in
            WorkPriority.lowerCurrentThread()
            inferenceLoop()
        }
        thread.name = "blindspot.inference.\(classifier.model.name)"
        thread.start()
    }

    /// Images admitted and not yet answered.
    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return admitted
    }

    /// Admits one image (or refuses it at once when the queue is full), prepares it with `prepare` on a decode
    /// thread, then classifies it in the next batch. Errors from `prepare` and from inference are rethrown.
    public func classify(top: Int, prepare: @escaping @Sendable () throws -> PreparedImage) async throws -> ScheduledClassification {
        try await classify(admit(), top: top, prepare: prepare)
    }

    /// Takes a place in the queue, or refuses at once when it is full: callers take it before reading a request
    /// body, so that an overloaded server refuses without receiving megabytes first.
    public func admit() throws -> Admission {
        try reserve()
        return Admission(self)
    }

    /// Classifies with a place taken by `admit()`.
    public func classify(_ admission: Admission, top: Int, prepare: @escaping @Sendable () throws -> PreparedImage) async throws -> ScheduledClassification {
        precondition(admission.scheduler === self, "an admission is used with the scheduler that gave it")
        guard admission.use() else { throw BatchSchedulerError.shutDown(model: classifier.model.name) }
        let image: PreparedImage
        changeDecoding(by: 1)
        do {
            image = try await withCheckedThrowingContinuation { continuation in
                decodeQueue.addOperation {
                    WorkPriority.lowerCurrentThread()
                    continuation.resume(with: Result { try prepare() })
                }
            }
        } catch {
            changeDecoding(by: -1)
            release(count: 1)
            throw error
        }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            // No longer decoding and now ready, in one step: the batch window sees no gap between the two.
            decoding -= 1
            guard running else {
                condition.unlock()
                continuation.resume(throwing: BatchSchedulerError.shutDown(model: classifier.model.name))
                return
            }
            ready.append(Pending(image: image, top: top, readyAt: .now, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// A place in the queue that has not been classified yet; given back when dropped unused.
    public final class Admission: Sendable {
        let scheduler: BatchScheduler
        private let state = Mutex(false)

        init(_ scheduler: BatchScheduler) {
            self.scheduler = scheduler
        }

        /// Marks the place as used; false when it was already.
        func use() -> Bool {
            state.withLock { used in
                defer { used = true }
                return !used
            }
        }

        /// Gives the place back unused (a request that failed before its image was classified). Idempotent.
        public func cancel() {
            if use() { scheduler.release(count: 1) }
        }

        deinit { cancel() }
    }

    /// Stops the inference thread after the images already admitted; later callers get `.shutDown`.
    public func shutDown() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    private func reserve() throws {
        condition.lock()
        defer { condition.unlock() }
        guard running else { throw BatchSchedulerError.shutDown(model: classifier.model.name) }
        guard admitted < configuration.queueCapacity else {
            let seconds = Double(admitted) * millisecondsPerImage / 1000
            throw BatchSchedulerError.overloaded(model: classifier.model.name, queued: admitted,
                                                 retryAfterSeconds: max(1, Int(seconds.rounded(.up))))
        }
        admitted += 1
        observer?.queueDepthChanged(model: classifier.model.name, depth: admitted)
    }

    private func changeDecoding(by change: Int) {
        condition.lock()
        decoding += change
        condition.signal()
        condition.unlock()
    }

    fileprivate func release(count: Int) {
        condition.lock()
        admitted -= count
        let depth = admitted
        condition.unlock()
        observer?.queueDepthChanged(model: classifier.model.name, depth: depth)
    }

    /// Takes the next batch: waits for a first image, then up to the batch window for images still being decoded.
    /// Nil when shut down with nothing left.
    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty {
            if !running && admitted == 0 { return nil }
            condition.wait()
        }
        // Wait only for images already being decoded: when none are, waiting would add latency to a lone request.
        let deadline = Date(timeIntervalSinceNow: configuration.batchWindow.seconds)
        while ready.count < configuration.maximumBatchSize && decoding > 0 && running {
            if !condition.wait(until: deadline) { break }
        }
        let batch = Array(ready.prefix(configuration.maximumBatchSize))
        ready.removeFirst(batch.count)
        return batch
    }

    private func inferenceLoop() {
        while let batch = nextBatch() {
            let top = batch.map(\.top).max() ?? 5
            let started = ContinuousClock.now
            let outcome = Result { try classifier.classify(batch.map(\.image), top: top) }
            switch outcome {
            case .success(let (classifications, milliseconds)):
                condition.lock()
                millisecondsPerImage = 0.8 * millisecondsPerImage + 0.2 * milliseconds / Double(batch.count)
                condition.unlock()
                observer?.batchCompleted(model: classifier.model.name, size: batch.count, milliseconds: milliseconds)
                release(count: batch.count)  // before answering, so a caller that asks again at once finds its slot free
                for (pending, classification) in zip(batch, classifications) {
                    let trimmed = Classification(model: classification.model, predictions: Array(classification.predictions.prefix(pending.top)),
                                                 logits: classification.logits, probabilities: classification.probabilities,
                                                 features: classification.features)
                    pending.continuation.resume(returning: ScheduledClassification(
                        classification: trimmed, decodeMilliseconds: pending.image.milliseconds, inferenceMilliseconds: milliseconds,
                        queueMilliseconds: (started - pending.readyAt).milliseconds, batchSize: batch.count, image: pending.image))
                }
            case .failure(let error):
                release(count: batch.count)
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}

extension Duration {
    /// This duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
