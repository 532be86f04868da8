// Loads the fixture checkpoints written by Fixtures/make_fixtures.py (zip, ZIP64, legacy, wrapped) and checks
// every value: strided views, shared storages at offsets, float16/bfloat16/float64/int/bool conversion.
import Engine
import Foundation
import Testing
import Weights

/// What every benign fixture holds; see tiny_state_dict in make_fixtures.py.
enum TinyStateDict {
    /// conv.weight[o,i,h,w] is storage element o + 4i + 24h + 12w, and storage element s holds s/8 − 3.
    static var convolutionWeight: Tensor {
        var scalars: [Float] = []
        for output in 0..<4 { for input in 0..<3 { for row in 0..<2 { for column in 0..<2 {
            scalars.append(Float(output + 4 * input + 24 * row + 12 * column) / 8 - 3)
        } } } }
        return Tensor(shape: [4, 3, 2, 2], scalars: scalars)
    }

    static let expected: [String: Tensor] = [
        "conv.weight": convolutionWeight,
        "bn.weight": Tensor(shape: [4], scalars: [100, 101, 102, 103]),
        "bn.bias": Tensor(shape: [4], scalars: [104, 105, 106, 107]),
        "bn.running_mean": Tensor(shape: [4], scalars: [109, 110, 111, 112]),
        "bn.num_batches_tracked": Tensor(shape: [], scalars: [7]),
        "fc.weight": Tensor(shape: [2, 3], scalars: [0.5, 2.5, 4.5, 1.5, 3.5, 5.5]),
        "half.weight": Tensor(shape: [2, 3], scalars: [1, -2.5, 65504, 0x1p-24, -0.0, 0.333251953125]),
        "brain.weight": Tensor(shape: [3], scalars: [1, -2.5, 3.140625]),
        "mask": Tensor(shape: [4], scalars: [1, 0, 0, 1]),
        "index": Tensor(shape: [2], scalars: [2_147_483_648, 5]),  // Int32.max rounds to 2^31 in Float
    ]

    static let sourceTypes: [String: ScalarType] = [
        "conv.weight": .float32, "bn.weight": .float32, "bn.bias": .float32, "bn.running_mean": .float32,
        "bn.num_batches_tracked": .int64, "fc.weight": .float64, "half.weight": .float16,
        "brain.weight": .bfloat16, "mask": .bool, "index": .int32,
    ]

    static func check(_ stateDict: StateDict) {
        #expect(stateDict.keys == expected.keys.sorted())
        for (key, tensor) in expected {
            #expect(stateDict[key] == tensor, "\(key)")
        }
        #expect(stateDict["half.weight"]?.scalars[4].sign == .minus, "float16 −0 keeps its sign")
        #expect(stateDict.sourceTypes == sourceTypes)
    }
}

@Suite struct PyTorchCheckpointTests {
    @Test(arguments: ["tiny_zip.pt", "tiny_zip64.pt", "tiny_legacy.pth", "tiny_wrapped.pt"])
    func loadsEveryFixtureExactly(_ name: String) throws {
        TinyStateDict.check(try WeightsFile.load(contentsOf: TestFiles.fixture(name)))
    }

    @Test func detectsTheFormatFromTheBytes() throws {
        #expect(try WeightsFile.format(of: TestFiles.fixtureBytes("tiny_zip.pt")) == .pyTorchZip)
        #expect(try WeightsFile.format(of: TestFiles.fixtureBytes("tiny_legacy.pth")) == .pyTorchLegacy)
        // The name means nothing: a legacy file called .safetensors still loads as legacy.
        let legacy = try TestFiles.fixtureBytes("tiny_legacy.pth")
        let stateDict = try TestFiles.withTemporaryFile(legacy) { url in
            let renamed = url.appendingPathExtension("safetensors")
            try FileManager.default.moveItem(at: url, to: renamed)
            defer { try? FileManager.default.removeItem(at: renamed) }
            return try WeightsFile.load(contentsOf: renamed)
        }
        TinyStateDict.check(stateDict)
    }

    @Test func rejectsCompressedZipEntries() {
        #expect(throws: WeightsError.compressedZipEntry(name: "archive/data.pkl", method: 8)) {
            try WeightsFile.load(contentsOf: TestFiles.fixture("tiny_deflated.pt"))
        }
    }

    @Test func loadsAStateDictBuiltInSwift() throws {
        var pickle = PickleBuilder()
        pickle.orderedDictionary { items in
            items.string("w")
            items.tensor(storageKey: "0", elementCount: 6, offset: 0, size: [3, 2], stride: [1, 3])
        }
        pickle.stop()
        let file = legacyCheckpoint(statePickle: pickle.bytes,
                                    storages: [("0", 6, float32Bytes([1, 2, 3, 4, 5, 6]))])
        let stateDict = try WeightsFile.load(file)
        #expect(stateDict["w"] == Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
    }
}
