// Confirmation by intervention: for a confirmed slice, images outside it that the model gets right are moved to the
// slice's median of a suspected attribute by the transformation that sets it, and classified again beside a control.
import Engine
import Foundation
import Imaging
import Inference
import Models
import Transforms

public struct SliceIntervention: Sendable {
    /// Images moved per slice at most.
    public static let sampleSize = 60

    /// Which family moves an attribute in which direction ("low" brightness: darken).
    static func family(for attribute: String, low: Bool) -> TransformFamily? {
        switch (attribute, low) {
        case ("brightness", true): .darken
        case ("brightness", false): .brighten
        case ("contrast", true): .contrast
        case ("saturation", true), ("colourfulness", true), ("greyness", false): .grayscale
        case ("sharpness", true): .blur
        default: nil
        }
    }

    static let verbs: [TransformFamily: String] = [.darken: "darkening", .brighten: "brightening", .contrast: "lowering the contrast of",
                                                   .grayscale: "turning grey", .blur: "blurring"]

    public let classifiers: [Classifier]
    public let root: URL
    public let seed: UInt64

    public init(classifiers: [Classifier], root: URL, seed: UInt64) {
        self.classifiers = classifiers
        self.root = root
        self.seed = seed
    }

    /// `results` with an intervention on every confirmed slice with a suspected cause a family can set (of several,
    /// the one that flips most).
    public func run(_ results: DiscoveryResults, input: DiscoveryInput) throws -> DiscoveryResults {
        let byFile = Dictionary(uniqueKeysWithValues: input.images.enumerated().map { ($1.file, $0) })
        var models = results.models
        for (modelIndex, model) in models.enumerated() {
            guard let classifier = classifiers.first(where: { $0.model.name == model.model }),
                  let answers = input.models.first(where: { $0.model == model.model }) else { continue }
            var slices = model.slices
            for (sliceIndex, slice) in slices.enumerated() where slice.confirmed {
                let members = Set(slice.members.compactMap { byFile[$0] })
                var best: Intervention?
                for cause in Self.suspectedCauses(slice, members: members, input: input) {
                    let outcome = try intervene(family: cause.family, attribute: cause.attribute, members: members, others: cause.others,
                                                input: input, answers: answers, classifier: classifier)
                    if let outcome, outcome.flipRate > (best?.flipRate ?? -1) { best = outcome }
                }
                slices[sliceIndex].intervention = best
            }
            models[modelIndex].slices = slices
        }
        var updated = results
        updated.models = models
        return updated
    }

    /// The attributes a family can set that may cause `slice`'s errors, with the family and the rule's other predicates:
    /// an attribute slice's range predicates at an end of their attribute's scale; for an embedding slice, the
    /// attributes on which its members' median lies below the folder's 20th percentile or above its 80th.
    static func suspectedCauses(_ slice: Slice, members: Set<Int>, input: DiscoveryInput)
        -> [(attribute: String, family: TransformFamily, others: [SlicePredicate])] {
        guard let rule = slice.rule else {
            return SliceDescription.deviations(members: members.sorted(), folder: Array(input.images.indices), input: input).compactMap { deviation in
                family(for: deviation.name, low: deviation.percentile < 0.5).map { (deviation.name, $0, []) }
            }
        }
        return rule.enumerated().compactMap { position, predicate in
            guard case let .range(attribute, from, to, _, _) = predicate, from == 0 || to == 1,
                  let family = family(for: attribute, low: from == 0) else { return nil }
            return (attribute, family, rule.enumerated().filter { $0.offset != position }.map(\.element))
        }
    }

    /// Moves up to `sampleSize` right-answered images outside the slice (those that meet the rule's other predicates
    /// when there are at least 10 of them) to the slice members' median `attribute`, at the family's level whose result
    /// comes closest to it, and classifies them beside their re-encoded originals.
    func intervene(family: TransformFamily, attribute: String, members: Set<Int>, others: [SlicePredicate], input: DiscoveryInput,
                   answers: DiscoveryModelAnswers, classifier: Classifier) throws -> Intervention? {
        let values = members.compactMap { input.images[$0].numeric[attribute] }.sorted()
        guard !values.isEmpty, let key = ImageAttributes.Key(rawValue: attribute) else { return nil }
        let target = values[values.count / 2]
        let right = input.images.indices.filter { !members.contains($0) && answers.answers[$0].predicted == input.images[$0].truth }
        let alike = right.filter { index in others.allSatisfy { $0.holds(for: input.images[index]) } }
        var random = SplitMix64(seed: seed ^ 0x1E7E)
        let chosen = Array((alike.count >= 10 ? alike : right).shuffled(using: &random).prefix(Self.sampleSize))
        guard chosen.count >= 5 else { return nil }
        let shorterSide = classifier.model.preprocessing.sourceShorterSide
        let originals = try chosen.map { index in
            try ImageDecoder().decode(Data(contentsOf: root.appendingPathComponent(input.images[index].file)), minimumShorterSide: shorterSide)
        }
        // The level whose transformed images' median attribute is nearest the slice's.
        var best: (level: TransformLevel, pictures: [RGBImage], distance: Double)?
        for level in family.levels {
            let pictures = try originals.map { try family.apply(to: $0, level: level) }
            let measured = pictures.compactMap { ImageAttributes.measure($0).value(of: key) }.sorted()
            guard !measured.isEmpty else { continue }
            let distance = abs(measured[measured.count / 2] - target)
            if distance < (best?.distance ?? .infinity) { best = (level, pictures, distance) }
        }
        guard let best else { return nil }
        let controls = try originals.map { try ImageDecoder().decode($0.jpegData(quality: 95)) }
        let truths = chosen.map { input.images[$0].truth }
        let flips = try wrong(best.pictures, truths: truths, classifier: classifier)
        let controlFlips = try wrong(controls, truths: truths, classifier: classifier)
        let flipRate = EvaluationResults.fraction(flips)
        let flipRateCI = EvaluationResults.bootstrap(flips)
        let control = EvaluationResults.fraction(controlFlips)
        let causes = flipRateCI[0] > control
        let percent = Percent.whole
        let verb = Self.verbs[family] ?? family.rawValue
        let finding = causes
            ? "\(verb) \(chosen.count) correct images to the slice's median \(SlicePredicate.words(attribute)) (\(family.rawValue) \(best.level.label)) flips \(percent(flipRate)) [\(percent(flipRateCI[0])), \(percent(flipRateCI[1]))], against \(percent(control)) re-encoded"
            : "correlated, not caused by \(SlicePredicate.words(attribute)): \(verb) \(chosen.count) correct images to the slice's median flips \(percent(flipRate)), against \(percent(control)) re-encoded"
        return Intervention(attribute: attribute, family: family.rawValue, level: best.level.label, images: chosen.count,
                            flipRate: flipRate, flipRateCI: flipRateCI, controlFlipRate: control, causes: causes, finding: finding)
    }

    /// Whether the model misses each picture's true class, in batches of 8.
    func wrong(_ pictures: [RGBImage], truths: [Int], classifier: Classifier) throws -> [Bool] {
        var result: [Bool] = []
        for start in stride(from: 0, to: pictures.count, by: 8) {
            let batch = Array(pictures[start..<min(start + 8, pictures.count)])
            result += try classifier.classify(batch, top: 1).enumerated().map { $1.predictions.first?.index != truths[start + $0] }
        }
        return result
    }
}
