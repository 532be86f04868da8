// Finds and loads models: which zoo models have weights in the cache, which one is the default, and
// building a Classifier from the cache or from a local weights file. Downloading is ModelFetch's job.
import Engine
import Foundation
import Imaging
import Inference
import ModelFetch
import Models
import Onnx
import Weights

public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    case noWeights(model: String, expected: String, fetchable: Bool)
    case noModelPresent(cache: String)
    case badWeights(model: String, file: String, reason: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "unknown model '\(name)'; known models: \(known.joined(separator: ", "))"
        case .noWeights(let model, let expected, let fetchable):
            return fetchable
                ? "no weights for \(model) at \(expected); run `blindspot models fetch \(model)` or pass --weights FILE"
                : "\(model) has no published weights; pass --weights FILE (a PyTorch or safetensors checkpoint)"
        case .noModelPresent(let cache):
            return "no model weights in \(cache); run `blindspot models fetch efficientnet_lite0` (or inception_v3), or pass --model and --weights"
        case .badWeights(let model, let file, let reason):
            return "\(file) does not hold \(model) weights: \(reason)"
        }
    }
}

public struct ModelLoader: Sendable {
    public let zoo: ModelZoo
    public let cache: ModelCache
    public let labels: ImageNetLabels

    public init(zoo: ModelZoo = .standard, cache: ModelCache, labels: ImageNetLabels) {
        self.zoo = zoo
        self.cache = cache
        self.labels = labels
    }

    /// The weights file of `model` in the cache, if it is there (its digest is checked by `blindspot models verify`).
    public func cachedWeights(of model: ModelDescriptor) -> URL? {
        if let file = model.importedFile { return FileManager.default.fileExists(atPath: file.path) ? file : nil }
        guard let release = model.release else { return nil }
        let url = cache.path(for: release)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Catalog models whose weights are in the cache, best first.
    public func presentModels() -> [ModelDescriptor] {
        zoo.models.filter { cachedWeights(of: $0) != nil }.sorted { $0.preference > $1.preference }
    }

    /// The present model with the smallest weights file (ties by name): the default reference of a robustness card.
    public func smallestPresentModel() -> ModelDescriptor? {
        func size(_ model: ModelDescriptor) -> Int {
            cachedWeights(of: model).flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int } ?? Int.max
        }
        return presentModels().min { (size($0), $0.name) < (size($1), $1.name) }
    }

    /// inception_v3 when its weights are present, otherwise the best present model.
    public func defaultModel() -> ModelDescriptor? {
        presentModels().first
    }

    public func descriptor(named name: String) throws -> ModelDescriptor {
        guard let model = zoo.model(named: name) else { throw ModelLoadError.unknownModel(name, known: zoo.names) }
        return model
    }

    /// Loads `name` (or the default model) with weights from `weights` (or the cache) onto `backend`.
    public func load(_ name: String?, weights: URL? = nil, backend: any Backend) throws -> Classifier {
        let model: ModelDescriptor
        if let name {
            model = try descriptor(named: name)
        } else if let found = defaultModel() {
            model = found
        } else {
            throw ModelLoadError.noModelPresent(cache: cache.directory.path)
        }
        guard let file = weights ?? cachedWeights(of: model) else {
            throw ModelLoadError.noWeights(model: model.name, expected: model.release.map { cache.path(for: $0).path } ?? "-",
                                           fetchable: model.release != nil)
        }
        do {
            return try Classifier(model: model, graph: graph(of: model, from: file), weightsSource: file.lastPathComponent, backend: backend, labels: labels)
        } catch let error as WeightsError {
            throw ModelLoadError.badWeights(model: model.name, file: file.path, reason: error.description)
        }
    }

    /// `model`'s network with the weights in `file`: a checkpoint (PyTorch or safetensors) for a built-in
    /// network, or an ONNX file, whose own network must take `model`'s input and give 1000 classes.
    public func graph(of model: ModelDescriptor, from file: URL) throws -> Graph {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(file)
        } catch let WeightsError.unreadableFile(_, reason) {
            throw ModelLoadError.badWeights(model: model.name, file: file.path, reason: "cannot read it: \(reason)")
        }
        let data = mapped.data
        if model.importedFile != nil || OnnxModel.isLikely(data) && (try? WeightsFile.format(of: data)) == nil {
            let expected = model.preprocessing.tensorShape
            let network: ImportedNetwork
            do {
                network = try OnnxImporter.network(from: data, name: model.name, inputSize: Size2D(expected[1], expected[2]),
                                                   copied: mapped.release)
            } catch {
                throw ModelLoadError.badWeights(model: model.name, file: file.path, reason: String(describing: error))
            }
            guard network.graph.inputShape == expected else {
                throw ModelLoadError.badWeights(model: model.name, file: file.path,
                                                reason: "the ONNX network takes \(network.graph.inputShape); \(model.name)'s preprocessing makes \(expected)")
            }
            guard network.graph.outputShape == [labels.count] else {
                throw ModelLoadError.badWeights(model: model.name, file: file.path,
                                                reason: "the ONNX network gives \(network.graph.outputShape) outputs; Blindspot's labels are the \(labels.count) ImageNet classes")
            }
            return network.graph
        }
        let stateDict: StateDict
        do {
            stateDict = try WeightsFile.load(mapped)
        } catch {
            throw ModelLoadError.badWeights(model: model.name, file: file.path, reason: String(describing: error))
        }
        do {
            // Consumed: the definition takes each tensor out of the state dict as it builds, so that tensors whose
            // batch norm it folds do not stay alive beside their folded copies.
            return try model.graph(from: consume stateDict)
        } catch let error as WeightsError {
            throw ModelLoadError.badWeights(model: model.name, file: file.path, reason: error.description)
        }
    }
}
