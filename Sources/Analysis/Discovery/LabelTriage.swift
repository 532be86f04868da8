// Label triage, confident-learning style (Northcutt et al., JAIR 2021): an image whose model is at least as sure of
// another class as it is on average of that class's own images, and on which every other model agrees, is suspect.
import Foundation

struct LabelTriage {
    /// Classes with fewer labelled images than this use the folder-wide threshold.
    static let fewestForOwnThreshold = 3

    /// Positions of the suspect images for `model` (an index into `answers`), with every model's answers in the same
    /// image order. Class k's threshold is the mean probability the model gives k on images labelled k (its
    /// self-confidence); an image labelled y whose top class k ≠ y has p_k at or above k's threshold is suspect when
    /// every other model's top class is k too.
    static func suspects(images: [DiscoveryImage], model: Int, answers: [DiscoveryModelAnswers]) -> [Int] {
        let own = answers[model].answers
        var sums: [Int: (total: Double, count: Int)] = [:]
        for (image, answer) in zip(images, own) {
            let probability = answer.truthProbability
            sums[image.truth, default: (0, 0)].total += probability
            sums[image.truth, default: (0, 0)].count += 1
        }
        let overall = own.isEmpty ? 1 : own.map(\.truthProbability).reduce(0, +) / Double(own.count)
        func threshold(_ label: Int) -> Double {
            guard let sum = sums[label], sum.count >= fewestForOwnThreshold else { return overall }
            return sum.total / Double(sum.count)
        }
        return images.indices.filter { index in
            let answer = own[index]
            guard answer.predicted != images[index].truth, answer.confidence >= threshold(answer.predicted) else { return false }
            return answers.allSatisfy { $0.answers[index].predicted == answer.predicted }
        }
    }
}
