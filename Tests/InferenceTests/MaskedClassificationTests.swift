// Classifying with the outputs masked to a class subset (ImageNet-A/R's 200): the softmax runs over the subset only,
// answers come only from it, the raw logits stay whole. On hand numbers and on the tiny synthetic model.
import Engine
import Foundation
import Inference
import Models
import Testing
import TestSupport

@Suite struct MaskedClassificationTests {
    /// Logits (0, ln 3, 5, 0) masked to classes 0 and 1: e^0 / (e^0 + 3) = 1/4 and 3/4; the 5 outside gets 0.
    @Test func theSoftmaxRunsOverTheSubsetOnly() {
        let probabilities = Classifier.softmax([0, Float(log(3.0)), 5, 0], among: [0, 1])
        #expect(abs(probabilities[0] - 0.25) < 1e-6 && abs(probabilities[1] - 0.75) < 1e-6)
        #expect(probabilities[2] == 0 && probabilities[3] == 0)
    }

    @Test func answersComeOnlyFromTheSubset() throws {
        let labels = try ImageNetLabels.bundled()
        let classifier = try TinyModelService(labels: labels).classifier
        let subset = try ImageNetSubset.imagenetR.classIndices(in: labels)
        var random = SplitMix64(seed: 7)
        let batch = random.tensor([3] + classifier.model.preprocessing.tensorShape)
        let whole = try classifier.classify(batch, top: 5)
        let masked = try classifier.classify(batch, top: 5, among: subset)
        for (plain, restricted) in zip(whole, masked) {
            #expect(restricted.logits == plain.logits)
            #expect(restricted.predictions.count == 5 && restricted.predictions.allSatisfy { subset.contains($0.index) })
            let best = try #require(subset.max { plain.logits[$0] < plain.logits[$1] })
            #expect(restricted.predictions[0].index == best)
            #expect(abs(subset.map { restricted.probabilities[$0] }.reduce(0, +) - 1) < 1e-9)
            #expect(restricted.probabilities.indices.filter { !subset.contains($0) }.allSatisfy { restricted.probabilities[$0] == 0 })
            // Within the subset, the masked probabilities are the whole softmax's renormalised.
            let mass = subset.map { plain.probabilities[$0] }.reduce(0, +)
            #expect(abs(restricted.predictions[0].probability - plain.probabilities[best] / mass) < 1e-9)
        }
    }
}
