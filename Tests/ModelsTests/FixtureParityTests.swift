// The networks against PyTorch: logits on ../shared/fixtures within 1e-3, and the exact state_dict key lists.
import Engine
import EngineDNNL
import Foundation
import Imaging
import Models
import TestSupport
import Testing
import Weights

struct Fixture: Decodable {
    struct Case: Decodable {
        let input: String
        let logits: [Double]
        let top5: [Int]
    }

    let cases: [Case]
    let stateDictKeys: [String]?

    enum CodingKeys: String, CodingKey {
        case cases
        case stateDictKeys = "state_dict_keys"
    }

    static func load(_ model: String) throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: SharedData.url("fixtures/\(model)/reference.json")))
    }

    /// The fixture's inputs as one batch, normalised by `model`'s preprocessing without resizing.
    func batch(_ model: String, preprocessing: Preprocessing) throws -> Tensor {
        let exact = preprocessing.withoutResizing()
        var batch = Tensor(zeros: [cases.count] + exact.tensorShape)
        for (index, testCase) in cases.enumerated() {
            let image = try ImageDecoder().decode(Data(contentsOf: SharedData.url("fixtures/\(model)/\(testCase.input)")))
            try exact.write(image, into: &batch, at: index)
        }
        return batch
    }

    /// The largest difference between `logits` ([N, 1000]) and the fixture's.
    func maximumError(_ logits: Tensor) -> Double {
        var worst = 0.0
        for (row, testCase) in cases.enumerated() {
            for (index, expected) in testCase.logits.enumerated() {
                worst = max(worst, abs(Double(logits.scalars[row * 1000 + index]) - expected))
            }
        }
        return worst
    }
}

@Suite struct FixtureParityTests {
    static let zoo = ModelZoo.standard

    @Test(.enabled(if: SharedData.has("fixtures/inception_v3/reference.json")))
    func inceptionV3MatchesPyTorch() throws {
        let model = try #require(Self.zoo.model(named: "inception_v3"))
        let fixture = try Fixture.load("inception_v3")
        let parameters = model.parameters()
        #expect(parameters.allKeys == fixture.stateDictKeys, "Inception v3's keys differ from torchvision's state_dict")
        #expect(parameters.allKeys.count == 566)

        let graph = try model.deterministicGraph()
        let prepared = try DNNLBackend().prepare(graph)
        let batch = try fixture.batch("inception_v3", preprocessing: model.preprocessing)
        let logits = try prepared.run(batch)
        let error = fixture.maximumError(logits)
        print("inception_v3: max |logit - PyTorch| = \(error) over \(fixture.cases.count) images")
        #expect(error <= 1e-3)
        // One image at a time runs another plan; it must give the same numbers.
        let single = try prepared.run(Tensor(shape: [1] + Array(batch.shape.dropFirst()), scalars: Array(batch.scalars.prefix(batch.count / fixture.cases.count))))
        #expect(Fixture(cases: [fixture.cases[0]], stateDictKeys: nil).maximumError(single) <= 1e-3)
    }

    @Test(.enabled(if: SharedData.has("fixtures/efficientnet_lite0/reference.json")))
    func efficientNetLite0MatchesPyTorch() throws {
        let model = try #require(Self.zoo.model(named: "efficientnet_lite0"))
        let release = try #require(model.release)
        let weights = try #require(CachedWeights.url(release.fileName), "the weights are in the cache (make test fetches them)")
        let fixture = try Fixture.load("efficientnet_lite0")
        let graph = try model.graph(from: WeightsFile.load(contentsOf: weights))
        let batch = try fixture.batch("efficientnet_lite0", preprocessing: model.preprocessing)
        for backend in [try DNNLBackend() as any Backend, ReferenceBackend()] {
            let logits = try backend.prepare(graph).run(batch)
            let error = fixture.maximumError(logits)
            print("efficientnet_lite0 on \(backend.name): max |logit - PyTorch| = \(error) over \(fixture.cases.count) images")
            #expect(error <= 1e-3, "\(backend.name)")
            for (row, testCase) in fixture.cases.enumerated() {
                let scores = Array(logits.scalars[(row * 1000)..<((row + 1) * 1000)])
                #expect(scores.indices.max { scores[$0] < scores[$1] } == testCase.top5[0])
            }
        }
    }
}

extension ModelDescriptor {
    /// The network under the fixtures' deterministic weights (../shared/fixtures/detweights.py); batch-norm
    /// modules are named `….bn.…` in torchvision's Inception and `_bn…` in EfficientNet-Lite.
    func deterministicGraph() throws -> Graph {
        let parameters = parameters()
        let shapes = Dictionary(uniqueKeysWithValues: parameters.required.map { ($0.key, $0.shape) })
        var tensors: [String: Tensor] = [:]
        for key in parameters.allKeys {
            let isBatchNorm = key.contains(".bn.") || key.hasPrefix("_bn") || key.contains("._bn")
            tensors[key] = DeterministicWeights.tensor(key, shape: shapes[key] ?? [], isBatchNorm: isBatchNorm)
        }
        return try graph(from: StateDict(tensors: tensors))
    }
}
