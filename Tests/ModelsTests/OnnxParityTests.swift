// The peer models' ONNX files (../shared/peers) imported and run by Blindspot's engine against the PyTorch fixtures.
import Engine
import EngineDNNL
import Foundation
import Models
import Onnx
import TestSupport
import Testing

@Suite struct OnnxParityTests {
    static let tolerance = 1e-4

    func importPeer(_ name: String) throws -> ImportedNetwork {
        let data = try Data(contentsOf: SharedData.url("peers/\(name).onnx"), options: .alwaysMapped)
        return try OnnxImporter.network(from: data, name: name)
    }

    @Test(.enabled(if: SharedData.has("peers/inception_v3.onnx") && SharedData.has("fixtures/inception_v3/reference.json")),
          arguments: ["inception_v3", "efficientnet_lite0"])
    func peerMatchesPyTorch(_ name: String) throws {
        let model = try #require(ModelCatalog.standard.model(named: name))
        let imported = try importPeer(name)
        #expect(imported.graph.inputShape == model.preprocessing.tensorShape)
        #expect(imported.graph.outputShape == [1000])
        #expect(!imported.droppedSoftmax)
        let fixture = try Fixture.load(name)
        let batch = try fixture.batch(name, preprocessing: model.preprocessing)
        let logits = try DNNLBackend().prepare(imported.graph).run(batch)
        let error = fixture.maximumError(logits)
        print("\(name).onnx through Blindspot: max |logit - PyTorch| = \(error) over \(fixture.cases.count) images, \(imported.graph.nodes.count) nodes")
        #expect(error <= Self.tolerance)
    }
}
