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

    /// One `[key, shape]` pair of the fixtures' `state_dict` list.
    struct KeyShape: Decodable, Equatable {
        let key: String
        let shape: [Int]

        init(from decoder: any Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            key = try pair.decode(String.self)
            shape = try pair.decode([Int].self)
        }
    }

    let cases: [Case]
    let stateDictKeys: [String]?
    /// Every state_dict key with its shape, in the newer fixtures.
    var stateDict: [KeyShape]? = nil

    enum CodingKeys: String, CodingKey {
        case cases
        case stateDictKeys = "state_dict_keys"
        case stateDict = "state_dict"
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

    /// The largest |logit| of the fixture, for networks whose logits are large under the deterministic weights.
    var largestLogit: Double {
        cases.flatMap(\.logits).map(abs).max() ?? 0
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
        // Untimed, Winograd runs by its rule alone within the allowance, whatever the machine's load: 3×3 layers on
        // F(4×4, 3×3), the factorised 1×7, 7×1, 1×3 and 3×1 ones on F(m, r) along their line. The bound holds for
        // their rounding too.
        let untimed = try DNNLBackend(timesWinograd: false).prepare(graph)
        let implementations = try DNNLBackend.implementations(of: untimed, batchSize: fixture.cases.count)
        for kernel in ["blindspot_wino_4x3:avx2", "blindspot_wino_line_2x7:avx2", "blindspot_wino_line_4x3:avx2"] {
            #expect(implementations.filter { $0 == kernel }.count >= 2, "\(kernel): \(Set(implementations))")
        }
        let winogradError = fixture.maximumError(try untimed.run(batch))
        print("inception_v3, Winograd untimed (\(implementations.filter { $0.contains("wino") }.count) steps): max |logit - PyTorch| = \(winogradError)")
        #expect(winogradError <= 1e-3)
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

extension FixtureParityTests {
    /// torchvision's `name` under the deterministic weights: every key (`keyCount` of them) and shape as its state_dict
    /// has them, and on each backend logits within `tolerance` of the largest (they reach 10⁴ for ResNet-50) with
    /// PyTorch's top class.
    /// With `winograd`, the images also run on a backend that admits Winograd by its rule alone, untimed, so that the
    /// plan runs its 3×3 stride-1 layers with Winograd within the allowance whatever the machine's load, and the bound
    /// holds for Winograd's rounding too: as the fixture's batch (below 4 images: WinogradKernels' F(4×4, 3×3) on every
    /// CPU) and as one batch of 4 or more, the images repeated (oneDNN's Winograd where the CPU has AVX-512 and it fits
    /// the allowance left by the smaller batch's plan, WinogradKernels' elsewhere).
    func expectTorchvisionParity(_ name: String, keyCount: Int, tolerance: Double, backends: [any Backend],
                                 winograd: Bool = false) throws {
        let model = try #require(Self.zoo.model(named: name))
        let fixture = try Fixture.load(name)
        let parameters = model.parameters()
        let expected = try #require(fixture.stateDict)
        #expect(parameters.allKeys == expected.map(\.key), "\(name)'s keys differ from torchvision's state_dict")
        let shapes = Dictionary(uniqueKeysWithValues: parameters.required.map { ($0.key, $0.shape) })
        #expect(expected.filter { !$0.key.hasSuffix("num_batches_tracked") }.allSatisfy { shapes[$0.key] == $0.shape })
        #expect(parameters.allKeys.count == keyCount)
        let graph = try model.deterministicGraph()
        let batch = try fixture.batch(name, preprocessing: model.preprocessing)
        let count = fixture.cases.count
        let copies = (4 + count - 1) / count
        let repeated = Tensor(shape: [copies * count] + Array(batch.shape.dropFirst()), scalars: Array([[Float]](repeating: batch.scalars, count: copies).joined()))
        for backend in backends {
            let prepared = try backend.prepare(graph)
            var runs = [(try prepared.run(batch), "batch \(count)")]
            if winograd, backend is DNNLBackend {
                let untimed = try DNNLBackend(timesWinograd: false).prepare(graph)
                for size in [count, copies * count] {
                    let implementations = try DNNLBackend.implementations(of: untimed, batchSize: size)
                    let steps = implementations.filter { $0.contains("wino") }
                    print("\(name) on \(DNNLBackend.instructionSet): \(steps.count) Winograd steps of \(implementations.count) at batch \(size): \(Set(steps))")
                    #expect(!steps.isEmpty, "\(DNNLBackend.instructionSet), batch \(size): \(Set(implementations))")
                }
                runs.append((try untimed.run(batch), "batch \(count), Winograd untimed"))
                let logits = try untimed.run(repeated)
                let classes = logits.scalars.count / (copies * count)
                for copy in 0..<copies {
                    let rows = Array(logits.scalars[(copy * count * classes)..<((copy + 1) * count * classes)])
                    runs.append((Tensor(shape: [count, classes], scalars: rows), "batch \(copies * count), Winograd untimed, copy \(copy + 1)"))
                }
            }
            for (logits, label) in runs {
                let relative = fixture.maximumError(logits) / fixture.largestLogit
                print("\(name) on \(backend.name), \(label): max |logit - PyTorch| / largest = \(relative) (largest \(fixture.largestLogit)) over \(count) images")
                #expect(relative <= tolerance, "\(backend.name), \(label)")
                for (row, testCase) in fixture.cases.enumerated() {
                    let scores = Array(logits.scalars[(row * 1000)..<((row + 1) * 1000)])
                    #expect(scores.indices.max { scores[$0] < scores[$1] } == testCase.top5[0], "\(backend.name), \(label)")
                }
            }
        }
    }

    @Test(.enabled(if: SharedData.has("fixtures/resnet50/reference.json")))
    func resNet50MatchesPyTorch() throws {
        try expectTorchvisionParity("resnet50", keyCount: 320, tolerance: 1e-5, backends: [try DNNLBackend()], winograd: true)
    }

    /// Its LayerNorms follow the formula's batch-norm rules and its layer scales are 0.02·u.
    @Test(.enabled(if: SharedData.has("fixtures/convnext_tiny/reference.json")))
    func convNeXtTinyMatchesPyTorch() throws {
        try expectTorchvisionParity("convnext_tiny", keyCount: 182, tolerance: 1e-4, backends: [try DNNLBackend(), ReferenceBackend()])
    }

    /// The reference backend would take minutes here; the attention layer's own test compares the two backends.
    @Test(.enabled(if: SharedData.has("fixtures/vit_b_16/reference.json")))
    func visionTransformerB16MatchesPyTorch() throws {
        try expectTorchvisionParity("vit_b_16", keyCount: 152, tolerance: 1e-4, backends: [try DNNLBackend()])
    }

    /// Every ResNet depth builds, with the key count torchvision's state_dict has, and each preprocessing follows its
    /// weights' recipe.
    @Test func everyResNetDepthBuilds() throws {
        let keys = [18: 122, 34: 218, 50: 320, 101: 626, 152: 932]
        for (depth, count) in keys {
            let model = try #require(Self.zoo.model(named: "resnet\(depth)"))
            #expect(model.parameters().allKeys.count == count, "resnet\(depth)")
            #expect(model.preprocessing.geometry == .resizeShorterSideThenCenterCrop(resize: 256, crop: 224, filter: .bilinear))
        }
        for depth in [50, 101, 152] {
            let model = try #require(Self.zoo.model(named: "resnet\(depth)_v2"))
            #expect(model.preprocessing.geometry == .resizeShorterSideThenCenterCrop(resize: 232, crop: 224, filter: .bilinear))
            #expect(model.release?.fileName.hasPrefix("resnet\(depth)-") == true && model.release?.sha256.count == 8)
        }
    }
}

extension ModelDescriptor {
    /// The network under the fixtures' deterministic weights (../shared/fixtures/detweights.py), whose rules for a
    /// normalisation layer's keys differ.
    func deterministicGraph() throws -> Graph {
        let parameters = parameters()
        let shapes = Dictionary(uniqueKeysWithValues: parameters.required.map { ($0.key, $0.shape) })
        var tensors: [String: Tensor] = [:]
        for key in parameters.allKeys {
            tensors[key] = DeterministicWeights.tensor(key, shape: shapes[key] ?? [], isBatchNorm: parameters.normalization.contains(key))
        }
        return try graph(from: StateDict(tensors: tensors))
    }
}
