// The models a server offers: every known model with its state (weights absent, loading, ready, failed), loaded
// in the background one after another and warmed up, each behind its own BatchScheduler. Not HTTP.
import Engine
import Foundation
import Inference
import ModelFetch
import Models

public final class ServedModels: ModelService, @unchecked Sendable {
    private struct Offer {
        let model: ModelDescriptor
        let weights: URL
    }

    public let zoo: ModelZoo
    private let loader: ModelLoader
    private let backend: any Backend
    private let scheduling: BatchScheduler.Configuration
    private let observer: (any BatchSchedulerObserver)?
    private let offers: [Offer]
    private let absent: [String: String]
    private let lock = NSLock()
    // Guarded by `lock`.
    private var states: [String: ModelState] = [:]
    private var schedulers: [String: BatchScheduler] = [:]
    private var digests: [String: String] = [:]

    /// Offers `names` (nil: every model whose weights are in the cache), with weights from `weights[name]` where
    /// given, else from the cache. A named model without weights is listed as not present, not an error, so the
    /// server still starts; an unknown name is an error.
    public init(loader: ModelLoader, names: [String]?, weights: [String: URL] = [:], backend: any Backend,
                scheduling: BatchScheduler.Configuration = .init(), observer: (any BatchSchedulerObserver)? = nil) throws {
        self.loader = loader
        zoo = loader.zoo
        self.backend = backend
        self.scheduling = scheduling
        self.observer = observer
        for name in (names ?? []) + weights.keys.sorted() where zoo.model(named: name) == nil {
            throw ModelServiceError.unknownModel(name, known: zoo.names)
        }
        let wanted = names.map(Set.init) ?? Set(zoo.names)
        var offers: [Offer] = []
        var absent: [String: String] = [:]
        for model in zoo.models.sorted(by: { $0.preference > $1.preference }) {
            if wanted.contains(model.name), let file = weights[model.name] ?? loader.cachedWeights(of: model) {
                offers.append(Offer(model: model, weights: file))
            } else if !wanted.contains(model.name) {
                absent[model.name] = "not among the models this server was started with (--models)"
            } else if model.release != nil {
                absent[model.name] = "its weights are not in \(loader.cache.directory.path); run `blindspot models fetch \(model.name)`"
            } else {
                absent[model.name] = "it has no published weights; start the server with --weights \(model.name)=FILE"
            }
        }
        self.offers = offers
        self.absent = absent
        for offer in offers { states[offer.model.name] = .loading }
    }

    /// The model that answers requests naming none: the best offered model that is ready, else the best one still
    /// loading (whose client hears so), else the best offered one (whose client hears why it failed). A model that
    /// failed to load never hides one that works.
    public var defaultModelName: String? {
        lock.lock()
        defer { lock.unlock() }
        return defaultModelNameLocked()
    }

    private func defaultModelNameLocked() -> String? {
        (offers.first { states[$0.model.name] == .ready } ?? offers.first { states[$0.model.name] == .loading } ?? offers.first)?.model.name
    }

    /// Every zoo model, offered ones first (best first), then the others in zoo order.
    public func statuses() -> [ModelStatus] {
        lock.lock()
        defer { lock.unlock() }
        let defaultName = defaultModelNameLocked()
        let offered = offers.map { offer in
            ModelStatus(model: offer.model, state: states[offer.model.name] ?? .loading, weightsSource: offer.weights.lastPathComponent,
                   isDefault: offer.model.name == defaultName)
        }
        let others = zoo.models.compactMap { model in
            absent[model.name].map { ModelStatus(model: model, state: .notPresent(hint: $0), weightsSource: nil, isDefault: false) }
        }
        return offered + others
    }

    /// True once at least one model is loaded and warmed up.
    public var isReady: Bool {
        lock.lock()
        defer { lock.unlock() }
        return states.values.contains(.ready)
    }

    /// True when every offered model is ready or has failed.
    public var isSettled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !states.values.contains(.loading)
    }

    /// The scheduler of `name` (nil: the default model).
    public func scheduler(named name: String?) throws(ModelServiceError) -> BatchScheduler {
        guard let name = name ?? defaultModelName else { throw .noModel }
        lock.lock()
        defer { lock.unlock() }
        if let scheduler = schedulers[name] { return scheduler }
        switch states[name] {
        case .loading: throw .loading(name)
        case .failed(let reason): throw .failed(name, reason: reason)
        case .ready, .notPresent, nil: break
        }
        if let hint = absent[name] { throw .notPresent(name, hint: hint) }
        throw .unknownModel(name, known: zoo.names)
    }

    /// The SHA-256 of the weights file a ready model was loaded from.
    public func weightsDigest(of name: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return digests[name]
    }

    /// Every ready scheduler, best model first.
    public func readySchedulers() -> [BatchScheduler] {
        lock.lock()
        defer { lock.unlock() }
        return offers.compactMap { schedulers[$0.model.name] }
    }

    /// Loads every offered model on a background thread, one after another, warming each up (batch 1 and the
    /// maximum batch) before it takes requests. Returns at once; `progress` hears of each model as it settles.
    public func startLoading(progress: @escaping @Sendable (String, ModelState) -> Void = { _, _ in }) {
        let thread = Thread { [self] in
            WorkPriority.lowerCurrentThread()
            for offer in offers {
                let state: ModelState
                do {
                    let classifier = try loader.load(offer.model.name, weights: offer.weights, backend: backend)
                    try classifier.warmUp(batchSize: 1)
                    if scheduling.maximumBatchSize > 1 { try classifier.warmUp(batchSize: scheduling.maximumBatchSize) }
                    let scheduler = BatchScheduler(classifier: classifier, configuration: scheduling, observer: observer)
                    let digest = try ModelCache.sha256(ofFileAt: offer.weights)
                    lock.lock()
                    schedulers[offer.model.name] = scheduler
                    digests[offer.model.name] = digest
                    lock.unlock()
                    state = .ready
                } catch {
                    state = .failed(reason: String(describing: error))
                }
                lock.lock()
                states[offer.model.name] = state
                lock.unlock()
                progress(offer.model.name, state)
            }
        }
        thread.name = "blindspot.model-loading"
        thread.start()
    }

    /// Waits until every offered model is ready or failed.
    public func waitUntilSettled() async {
        while !isSettled { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Stops every scheduler after the work already admitted.
    public func shutDown() {
        for scheduler in readySchedulers() { scheduler.shutDown() }
    }
}
