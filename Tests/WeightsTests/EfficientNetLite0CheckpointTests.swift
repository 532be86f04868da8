// Loads the real legacy-format EfficientNet-Lite0 checkpoint (when present) and checks values computed by the
// independent standard-library reader Fixtures/efficientnet_lite0_reference.py; prints the load time.
import Engine
import Foundation
import Testing
import Weights

@Suite struct EfficientNetLite0CheckpointTests {
    /// The row-major position of `index` in a tensor of `shape`.
    private func position(of index: [Int], in shape: [Int]) -> Int {
        zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    private func element(_ tensor: Tensor?, _ index: [Int]) -> Float? {
        tensor.map { $0.scalars[position(of: index, in: $0.shape)] }
    }

    @Test(.enabled(if: TestFiles.efficientNetLite0 != nil, "the real checkpoint is absent"))
    func loadsTheRealLegacyCheckpoint() throws {
        let url = try #require(TestFiles.efficientNetLite0)
        var loaded: StateDict?
        let duration = try ContinuousClock().measure { loaded = try WeightsFile.load(contentsOf: url) }
        print("loaded \(url.lastPathComponent) in \(duration)")
        let stateDict = try #require(loaded)

        #expect(stateDict.count == 296)
        let stem = try #require(stateDict["_conv_stem.weight"])
        #expect(stem.shape == [32, 3, 3, 3])
        // Stored with stride (1, 32, 288, 96): element [o,i,h,w] is storage element o + 32i + 288h + 96w.
        #expect(element(stem, [0, 0, 0, 0]) == -1.1103360652923584)
        #expect(element(stem, [0, 1, 2, 0]) == 0.19146288931369781)
        #expect(element(stem, [5, 2, 1, 2]) == -0.04709862917661667)
        #expect(element(stem, [31, 2, 2, 2]) == 2.2351741790771484e-08)
        let weightedSum = stem.scalars.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * Double($1.element) }
        #expect(abs(weightedSum - -6078.560357974842) < 1e-9)

        let classifier = try #require(stateDict["_fc.weight"])  // stored transposed, stride (1, 1000)
        #expect(classifier.shape == [1000, 1280])
        #expect(element(classifier, [0, 0]) == -0.04561043530702591)
        #expect(element(classifier, [999, 1279]) == 0.04085797071456909)
        #expect(element(classifier, [123, 456]) == 0.024716289713978767)
        #expect(element(stateDict["_fc.bias"], [999]) == 0.03138429671525955)
        #expect(element(stateDict["_bn0.running_var"], [7]) == 6.45442008972168)
        #expect(element(stateDict["_blocks.15._bn2.bias"], [191]) == 0.0006771038752049208)

        let counters = stateDict.keys.filter { $0.hasSuffix(".num_batches_tracked") }
        #expect(counters.count == 49)
        #expect(stateDict["_bn0.num_batches_tracked"] == Tensor(shape: [], scalars: [0]))
        #expect(stateDict.sourceTypes["_bn0.num_batches_tracked"] == .int64)
        #expect(stateDict.sourceTypes["_conv_stem.weight"] == .float32)
    }
}
