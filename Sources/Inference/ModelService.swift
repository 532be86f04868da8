// What the web app and the catalog need of the models a server offers: their states, a scheduler per ready model,
// the weights' digests. ServedModels (ModelRegistry) loads real ones; tests serve a tiny synthetic one.
import Models

/// Where one offered model stands.
public enum ModelState: Sendable, Equatable {
    case notPresent(hint: String)
    case loading
    case ready
    case failed(reason: String)
}

/// One known model as the server sees it.
public struct ModelStatus: Sendable {
    public let model: ModelDescriptor
    public let state: ModelState
    /// The weights file's name, when the model is offered.
    public let weightsSource: String?
    public let isDefault: Bool

    public init(model: ModelDescriptor, state: ModelState, weightsSource: String?, isDefault: Bool) {
        self.model = model
        self.state = state
        self.weightsSource = weightsSource
        self.isDefault = isDefault
    }
}

public enum ModelServiceError: Error, Equatable, CustomStringConvertible {
    case unknownModel(String, known: [String])
    /// A known model (of the zoo) that this server does not offer because its weights are not present.
    case notPresent(String, hint: String)
    case loading(String)
    case failed(String, reason: String)
    case noModel

    public var description: String {
        switch self {
        case let .unknownModel(name, known): return "unknown model '\(name)'; known models: \(known.joined(separator: ", "))"
        case let .notPresent(name, hint): return "\(name) is not available on this server: \(hint)"
        case .loading(let name): return "\(name) is still loading; try again in a few seconds"
        case let .failed(name, reason): return "\(name) failed to load: \(reason)"
        case .noModel: return "no model is available on this server; fetch one with `blindspot models fetch efficientnet_lite0`"
        }
    }
}

public protocol ModelService: AnyObject, Sendable {
    /// The model that answers requests naming none.
    var defaultModelName: String? { get }
    /// Every known model, offered ones first (best first).
    func statuses() -> [ModelStatus]
    /// True once at least one model is ready.
    var isReady: Bool { get }
    /// The scheduler of `name` (nil: the default model), or why there is none.
    func scheduler(named name: String?) throws(ModelServiceError) -> BatchScheduler
    /// The SHA-256 of the weights a ready model was loaded from.
    func weightsDigest(of name: String) -> String?
    /// Every ready scheduler, best model first.
    func readySchedulers() -> [BatchScheduler]
    /// Stops every scheduler after the work already admitted.
    func shutDown()
}
