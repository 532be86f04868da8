// Strict validation of a state_dict against a model's expected keys and shapes, and the key patterns it uses.
import Engine
import Testing
import Weights

@Suite struct ValidationTests {
    let stateDict = StateDict(tensors: [
        "conv.weight": Tensor(zeros: [8, 3, 3, 3]),
        "bn.weight": Tensor(zeros: [8]),
        "bn.num_batches_tracked": Tensor(zeros: []),
        "AuxLogits.fc.weight": Tensor(zeros: [1000, 768]),
    ])

    @Test func acceptsAnExactMatch() throws {
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8]], ignoring: ["AuxLogits.*"])
    }

    @Test func treatsNumBatchesTrackedAsOptional() throws {
        // Present but not expected, expected with another shape, or expected but absent: all fine.
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8]], ignoring: ["AuxLogits.*"])
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8], "bn.num_batches_tracked": [1]],
                               ignoring: ["AuxLogits.*"])
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8], "bn.num_batches_tracked": [],
                                         "other.num_batches_tracked": []], ignoring: ["AuxLogits.*"])
    }

    @Test func acceptsExtraOptionalPatterns() throws {
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8], "bn.bias": [8]],
                               ignoring: ["AuxLogits.*"], optional: ["bn.bias"])
    }

    @Test func reportsEveryProblemInOneError() {
        let expected: [String: [Int]] = [
            "conv.weight": [8, 3, 5, 5],
            "bn.weight": [8],
            "bn.bias": [8],
            "fc.weight": [10, 8],
        ]
        let problems: [KeyProblem] = [
            .unexpected(key: "AuxLogits.fc.weight", found: [1000, 768]),
            .missing(key: "bn.bias", expected: [8]),
            .shapeMismatch(key: "conv.weight", expected: [8, 3, 5, 5], found: [8, 3, 3, 3]),
            .missing(key: "fc.weight", expected: [10, 8]),
        ]
        #expect(throws: WeightsError.keyMismatch(problems)) {
            try stateDict.validate(against: expected)
        }
        #expect(WeightsError.keyMismatch(problems).description == """
            the weights do not match the model (4 problems):
              - unexpected AuxLogits.fc.weight: expected nothing, found [1000, 768]
              - missing bn.bias: expected [8], found nothing
              - wrong shape for conv.weight: expected [8, 3, 5, 5], found [8, 3, 3, 3]
              - missing fc.weight: expected [10, 8], found nothing
            """)
    }

    @Test func ignoresPatternsOnBothSides() throws {
        try stateDict.validate(against: ["conv.weight": [8, 3, 3, 3], "bn.weight": [8], "AuxLogits.conv.weight": [1]],
                               ignoring: ["AuxLogits.*"])
    }

    @Test(arguments: [
        ("AuxLogits.*", "AuxLogits.fc.weight", true),
        ("AuxLogits.*", "Mixed.AuxLogits.fc", false),
        ("*.num_batches_tracked", "layer1.0.bn1.num_batches_tracked", true),
        ("*.num_batches_tracked", "num_batches_tracked", false),
        ("*.bn*.weight", "layer.bn2.weight", true),
        ("*.bn*.weight", "layer.bn2.bias", false),
        ("ab*ba", "aba", false),
        ("ab*ba", "abba", true),
        ("fc.weight", "fc.weight", true),
        ("fc.weight", "fc.weights", false),
        ("*", "", true),
    ])
    func matchesGlobPatterns(pattern: String, key: String, matches: Bool) {
        #expect(KeyPattern(pattern).matches(key) == matches)
    }
}
