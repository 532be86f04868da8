// What a server offers: named models with and without weights, the default, states while loading, and the
// errors that tell an API client what to do.
import EngineDNNL
import Foundation
import Inference
import ModelFetch
import ModelRegistry
import Models
import Testing
import TestSupport

@Suite struct ServedModelsTests {
    let loader = ModelLoader(cache: ModelCache(directory: CachedWeights.directory), labels: try! ImageNetLabels.bundled())

    @Test func unknownNamesAreRefusedAtStart() {
        #expect(throws: ModelServiceError.unknownModel("alexnet", known: ModelZoo.standard.names)) {
            try ServedModels(loader: loader, names: ["alexnet"], backend: DNNLBackend())
        }
    }

    @Test func offeredModelsLoadAndOthersSayWhy() async throws {
        _ = try #require(CachedWeights.url("efficientnet-lite0-57934424.pth"), "the weights are in the cache (make test fetches them)")
        let service = try ServedModels(loader: loader, names: ["efficientnet_lite0", "efficientnet_lite4"], backend: DNNLBackend(),
                                       scheduling: .init(maximumBatchSize: 2))
        defer { service.shutDown() }
        #expect(service.defaultModelName == "efficientnet_lite0")
        #expect(!service.isReady)
        #expect(throws: ModelServiceError.loading("efficientnet_lite0")) { try service.scheduler(named: nil) }
        do {
            _ = try service.scheduler(named: "efficientnet_lite4")
            Issue.record("lite4 has no weights here")
        } catch {
            guard case .notPresent(let name, let hint) = error else { Issue.record("\(error)"); return }
            #expect(name == "efficientnet_lite4" && hint.contains("--weights efficientnet_lite4=FILE"))
        }
        do {
            _ = try service.scheduler(named: "efficientnet_lite1")
            Issue.record("lite1 was not asked for")
        } catch {
            guard case .notPresent(_, let hint) = error else { Issue.record("\(error)"); return }
            #expect(hint.contains("--models"))
        }
        service.startLoading()
        await service.waitUntilSettled()
        #expect(service.isReady)
        #expect(try service.scheduler(named: nil).classifier.model.name == "efficientnet_lite0")
        let states = service.statuses().map { "\($0.model.name):\($0.state)" }
        #expect(states.first == "efficientnet_lite0:ready")
        #expect(states.count == ModelZoo.standard.models.count)
    }

    @Test func aBrokenWeightsFileFailsItsModelOnly() async throws {
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).pth")
        try Data("not a checkpoint".utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        let service = try ServedModels(loader: loader, names: ["efficientnet_lite3"], weights: ["efficientnet_lite3": broken],
                                       backend: DNNLBackend())
        service.startLoading()
        await service.waitUntilSettled()
        #expect(!service.isReady)
        do {
            _ = try service.scheduler(named: "efficientnet_lite3")
            Issue.record("a broken file cannot load")
        } catch {
            guard case .failed(let name, let reason) = error else { Issue.record("\(error)"); return }
            #expect(name == "efficientnet_lite3" && reason.contains(broken.path))
        }
    }

    @Test func aBrokenBestModelLeavesTheDefaultToOneThatWorks() async throws {
        _ = try #require(CachedWeights.url("efficientnet-lite0-57934424.pth"), "the weights are in the cache (make test fetches them)")
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).pth")
        try Data("not a checkpoint".utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        let service = try ServedModels(loader: loader, names: ["efficientnet_lite0", "efficientnet_lite3"], weights: ["efficientnet_lite3": broken],
                                       backend: DNNLBackend(), scheduling: .init(maximumBatchSize: 2))
        defer { service.shutDown() }
        #expect(service.defaultModelName == "efficientnet_lite3", "the best offered model, while both load")
        service.startLoading()
        await service.waitUntilSettled()
        #expect(service.defaultModelName == "efficientnet_lite0")
        #expect(try service.scheduler(named: nil).classifier.model.name == "efficientnet_lite0")
        #expect(service.statuses().filter(\.isDefault).map(\.model.name) == ["efficientnet_lite0"])
    }
}
