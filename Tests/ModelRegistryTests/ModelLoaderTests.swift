// Which model answers when none is named, and the errors that tell a newcomer what to do.
import Analysis
import EngineDNNL
import Foundation
import Inference
import ModelFetch
import ModelRegistry
import Models
import Testing

@Suite struct ModelLoaderTests {
    let labels = try! ImageNetLabels.bundled()

    func temporaryCache(with files: [String]) throws -> ModelCache {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in files { try Data("not really weights".utf8).write(to: directory.appendingPathComponent(file)) }
        return ModelCache(directory: directory)
    }

    @Test func inceptionIsTheDefaultWhenPresentOtherwiseTheBestPresentModel() throws {
        let some = ModelLoader(cache: try temporaryCache(with: ["efficientnet-lite0-57934424.pth", "efficientnet-lite2-9656183e.pth"]), labels: labels)
        #expect(some.defaultModel()?.name == "efficientnet_lite2")
        #expect(some.presentModels().map(\.name) == ["efficientnet_lite2", "efficientnet_lite0"])
        let all = ModelLoader(cache: try temporaryCache(with: ["efficientnet-lite0-57934424.pth", "inception_v3_google-0cc3c7bd.pth"]), labels: labels)
        #expect(all.defaultModel()?.name == "inception_v3")
        let none = ModelLoader(cache: try temporaryCache(with: []), labels: labels)
        #expect(none.defaultModel() == nil)
        #expect(throws: ModelLoadError.noModelPresent(cache: none.cache.directory.path)) { try none.load(nil, backend: DNNLBackend()) }
    }

    @Test func errorsSayWhatToDo() throws {
        let loader = ModelLoader(cache: try temporaryCache(with: ["efficientnet-lite0-57934424.pth"]), labels: labels)
        #expect(throws: ModelLoadError.unknownModel("alexnet", known: ModelZoo.standard.names)) { try loader.load("alexnet", backend: DNNLBackend()) }
        let missing = ModelLoadError.noWeights(model: "efficientnet_lite1", expected: loader.cache.directory.appendingPathComponent("efficientnet-lite1-77cc7160.pth").path, fetchable: true)
        #expect(throws: missing) { try loader.load("efficientnet_lite1", backend: DNNLBackend()) }
        #expect(missing.description.contains("blindspot models fetch efficientnet_lite1"))
        #expect(throws: ModelLoadError.self) { try loader.load("efficientnet_lite0", backend: DNNLBackend()) }
        do {
            _ = try loader.load("efficientnet_lite0", backend: DNNLBackend())
        } catch let error as ModelLoadError {
            guard case .badWeights(let model, _, let reason) = error else { Issue.record("unexpected \(error)"); return }
            #expect(model == "efficientnet_lite0")
            #expect(!reason.isEmpty)
        }
    }

    @Test func labelsResolveByIndexWordNetIDAndName() throws {
        #expect(labels.count == 1000)
        #expect(labels.resolve("409") == 409)
        #expect(labels.resolve("analog clock") == 409)
        #expect(labels.resolve("Analog Clock") == 409)
        #expect(labels.resolve("n02708093") == 409)
        #expect(labels.resolve("not a class") == nil)
        #expect(labels.resolve("1000") == nil)
    }

    @Test func softmaxIsStableAndSumsToOne() {
        let probabilities = Classifier.softmax([0, Float(log(3.0)), -1000])
        #expect(abs(probabilities[0] - 0.25) < 1e-6)
        #expect(abs(probabilities[1] - 0.75) < 1e-6)
        #expect(probabilities[2] == 0)
        // Large logits do not overflow: the maximum is subtracted first.
        #expect(Classifier.softmax([1000, 1000]) == [0.5, 0.5])
    }

    @Test func imageNetFileNamesCarryTheirWordNetID() throws {
        #expect(ImageFiles.wordNetID(of: "../x/n01440764_tench.JPEG") == "n01440764")
        #expect(ImageFiles.wordNetID(of: "car1.png") == nil)
        #expect(ImageFiles.wordNetID(of: "n0144_short.JPEG") == nil)
    }
}
