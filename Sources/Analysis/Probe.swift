// A probe: one image swept through the catalog of transformations and ImageNet-C's corruptions (Transforms), every
// variant classified by one or several models in batches, and per family the mildest level that breaks the prediction.
// Variants are made a batch at a time and dropped once classified, so memory stays small; rendering is the caller's.
import Engine
import Foundation
import Imaging
import Inference
import Models
import Transforms

/// What to probe: which families, which classes count as right, and the noise seed.
public struct ProbePlan: Sendable, Equatable {
    public var families: [ProbeFamily]
    /// Classes that count as a right answer; empty: a variant fails when its top-1 differs from the original's.
    public var expected: [Int]
    public var seed: UInt64
    /// Transforms run on a copy whose shorter side is at most this many pixels (the original is classified as is).
    public var workingShorterSide: Int
    /// Where frost's ice comes from, for ImageNet-C's frost.
    public var frost: FrostTextures

    public init(families: [ProbeFamily] = ProbeFamily.standard, expected: [Int] = [], seed: UInt64 = 0,
                workingShorterSide: Int = 512, frost: FrostTextures = .procedural) {
        self.families = families
        self.expected = expected
        self.seed = seed
        self.workingShorterSide = workingShorterSide
        self.frost = frost
    }
}

/// One transformed copy: the original or ImageNet-C's clean crop (no family; see `ProbeResult.cropVariant`), or one
/// family at one level.
public struct ProbeVariant: Sendable, Equatable, Codable {
    public let id: Int
    public let family: ProbeFamily?
    public let level: TransformLevel?
    /// A small JPEG `data:` URL of the variant as the first model sees it (cropped and resized), when asked for.
    public var thumbnail: String?
}

/// Everything a probe found, for every model, in the order of `ProbePlan.families`.
public struct ProbeResult: Sendable, Codable {
    /// A family as probed: its levels, or why it did not apply to this image.
    public struct Family: Sendable, Codable {
        public let family: ProbeFamily
        public let title: String
        public let summary: String
        public let levels: [TransformLevel]
        public let notApplicable: String?
    }

    /// One model's answer on one variant.
    public struct Outcome: Sendable, Codable {
        public let variant: Int
        public let top: [Prediction]
        /// The best-ranked expected class; with none given, the model's first choice on the original.
        public let expected: ClassRank?
        /// The top-1 is not an expected class (with none given: differs from the model's top-1 on the original).
        public let flipped: Bool
    }

    /// One model's summary of one family.
    public struct FamilyOutcome: Sendable, Codable {
        public let family: ProbeFamily
        public let variants: Int
        public let flipped: Int
        /// The mildest level that flips the prediction, if any.
        public let firstFlip: TransformLevel?
        /// For a model that already misses the original: the mildest level whose first choice is an expected class
        /// again, if any; nil when the original is a hit.
        public let firstRescue: TransformLevel?
        /// The lowest probability of the expected class (see `Outcome.expected`) over the family's levels.
        public let lowestExpectedProbability: Double?
    }

    public struct ModelOutcome: Sendable, Codable {
        public let model: String
        /// Whether the model's first choice on the original is an expected class (always, with none given). On a
        /// miss every variant "flips" trivially; what tells then is which levels rescue it (`firstRescue`).
        public let originalHit: Bool
        /// One per variant, in variant order; the first is the original.
        public let outcomes: [Outcome]
        public let families: [FamilyOutcome]
        public let inferenceMilliseconds: Double
    }

    public let width: Int
    public let height: Int
    /// The size of the copy the transforms ran on.
    public let workingWidth: Int
    public let workingHeight: Int
    public let expected: [ExampleClass]
    public let seed: UInt64
    public let families: [Family]
    public let variants: [ProbeVariant]
    /// The uncorrupted ImageNet-C crop (shorter side 256, centre 224) that ImageNet-C's families corrupt, classified as
    /// they are: nil when none was probed. Its outcome tells what the crop alone does to the answer.
    public let cropVariant: Int?
    public let models: [ModelOutcome]
    public let transformMilliseconds: Double
}

public enum Probe {
    /// Sweeps `image` through `plan` and classifies every variant with each of `classifiers` (at least one).
    /// The original is classified alone, exactly as a plain classification; variants go in batches of `batchSize`.
    /// Blindspot's families transform a copy shrunk to `plan.workingShorterSide` and each model takes it through its own
    /// pipeline; ImageNet-C's corrupt the image's ImageNet-C crop, which each model takes as `eval` gives it corrupted
    /// crops (`ImageNetCProtocol`), and the clean crop is classified once beside them. With `thumbnailSide`, each
    /// variant carries a thumbnail of that side. `progress` hears (variants done, variants planned) after each batch.
    public static func run(_ image: RGBImage, plan: ProbePlan, classifiers: [Classifier], batchSize: Int = 8, thumbnailSide: Int? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> ProbeResult {
        // A programmer's error, not an input's: the probe route and command always pass at least one model.
        precondition(!classifiers.isEmpty, "a probe needs a model")
        let working = image.shrunk(toShorterSide: plan.workingShorterSide)
        let crop = plan.families.contains { $0.corruption != nil } ? Corruption.imageNetCrop(image) : nil
        let planned = plan.families.flatMap { family in family.levels.map { (family, $0) } }
        let total = planned.count + (crop == nil ? 1 : 2)
        var variants = [ProbeVariant(id: 0, family: nil, level: nil, thumbnail: nil)]
        var notApplicable: [ProbeFamily: String] = [:]
        var thumbnails: [String] = []
        var transformTime = Duration.zero
        var inferenceTime = [Duration](repeating: .zero, count: classifiers.count)
        var classifications = [[Classification]](repeating: [], count: classifiers.count)

        /// Classifies pictures that are all ImageNet-C crops (`cut`) or all whole images.
        func classify(_ pictures: [RGBImage], cut: Bool) throws {
            func preprocessing(_ classifier: Classifier) -> Preprocessing {
                cut ? ImageNetCProtocol.preprocessing(for: classifier.model.preprocessing) : classifier.model.preprocessing
            }
            for (position, classifier) in classifiers.enumerated() {
                let preprocessing = preprocessing(classifier)
                var batch = Tensor(zeros: [pictures.count] + preprocessing.tensorShape)
                for (slot, picture) in pictures.enumerated() { try preprocessing.write(picture, into: &batch, at: slot) }
                let start = ContinuousClock.now
                classifications[position] += try classifier.classify(batch, top: 3)
                inferenceTime[position] += ContinuousClock.now - start
            }
            if let thumbnailSide {
                for picture in pictures {
                    thumbnails.append(try preprocessing(classifiers[0]).inputImage(from: picture)
                        .resized(width: thumbnailSide, height: thumbnailSide, filter: .bilinear).jpegDataURL(quality: 82))
                }
            }
        }

        try classify([image], cut: false)
        var cropVariant: Int?
        progress(1, total)
        var next = planned.startIndex
        while next < planned.endIndex {
            // A batch holds one kind of picture: crops (ImageNet-C's) or whole images (Blindspot's families).
            let cut = planned[next].0.corruption != nil
            var pictures: [RGBImage] = []
            let start = ContinuousClock.now
            if cut, cropVariant == nil, let crop {
                cropVariant = variants.count
                pictures.append(crop)
                variants.append(ProbeVariant(id: variants.count, family: nil, level: nil, thumbnail: nil))
            }
            while pictures.count < batchSize && next < planned.endIndex && (planned[next].0.corruption != nil) == cut {
                let (family, level) = planned[next]
                next += 1
                guard notApplicable[family] == nil else { continue }
                switch family {
                case let .transform(transform):
                    switch Result(catching: { () throws(TransformError) in try transform.apply(to: working, level: level, seed: plan.seed) }) {
                    case .success(let picture):
                        pictures.append(picture)
                        variants.append(ProbeVariant(id: variants.count, family: family, level: level, thumbnail: nil))
                    case .failure(.notApplicable(_, let reason)):
                        notApplicable[family] = reason
                    case .failure(let error):
                        throw error
                    }
                case let .corruption(corruption):
                    guard let crop else { break }
                    pictures.append(try corruption.apply(to: crop, severity: Int(level.value), seed: plan.seed, frost: plan.frost))
                    variants.append(ProbeVariant(id: variants.count, family: family, level: level, thumbnail: nil))
                }
            }
            transformTime += ContinuousClock.now - start
            if !pictures.isEmpty { try classify(pictures, cut: cut) }
            progress(planned.distance(from: planned.startIndex, to: next) + (cropVariant == nil ? 1 : 2), total)
        }

        let labels = classifiers[0].labels
        let models = classifiers.indices.map { position in
            outcome(of: classifications[position], variants: variants, plan: plan, labels: labels,
                    model: classifiers[position].model.name, milliseconds: inferenceTime[position].milliseconds)
        }
        let families = plan.families.map { family in
            ProbeResult.Family(family: family, title: family.title, summary: summary(of: family, frost: plan.frost),
                               levels: family.levels, notApplicable: notApplicable[family])
        }
        let expected = plan.expected.map { ExampleClass(index: $0, name: labels[$0].name) }
        for index in thumbnails.indices { variants[index].thumbnail = thumbnails[index] }
        return ProbeResult(width: image.width, height: image.height, workingWidth: working.width, workingHeight: working.height,
                           expected: expected, seed: plan.seed, families: families, variants: variants, cropVariant: cropVariant,
                           models: models, transformMilliseconds: transformTime.milliseconds)
    }

    /// The family's summary; frost's also says where its ice came from.
    private static func summary(of family: ProbeFamily, frost: FrostTextures) -> String {
        family.corruption == .frost ? "\(family.summary) Frost: \(frost.source)." : family.summary
    }

    private static func outcome(of classifications: [Classification], variants: [ProbeVariant], plan: ProbePlan, labels: ImageNetLabels,
                                model: String, milliseconds: Double) -> ProbeResult.ModelOutcome {
        // Without expected classes, each model is judged against its own first answer on the original.
        let reference = plan.expected.isEmpty ? [classifications[0].predictions[0].index] : plan.expected
        let outcomes = zip(variants, classifications).map { variant, classification in
            ProbeResult.Outcome(variant: variant.id, top: classification.predictions,
                                expected: classification.bestRank(of: reference, labels: labels),
                                flipped: !reference.contains(classification.predictions[0].index))
        }
        let originalHit = !outcomes[0].flipped
        let families = plan.families.map { family in
            let mine = zip(variants, outcomes).filter { $0.0.family == family }
            return ProbeResult.FamilyOutcome(
                family: family, variants: mine.count, flipped: mine.count { $0.1.flipped },
                firstFlip: mine.first { $0.1.flipped }?.0.level,
                firstRescue: originalHit ? nil : mine.first { !$0.1.flipped }?.0.level,
                lowestExpectedProbability: mine.compactMap { $0.1.expected?.probability }.min())
        }
        return ProbeResult.ModelOutcome(model: model, originalHit: originalHit, outcomes: outcomes, families: families,
                                        inferenceMilliseconds: milliseconds)
    }
}

// MARK: - Wording

extension ProbeResult.FamilyOutcome {
    /// Whether this family leaves the model wrong at its mildest level that matters: on a hit, some level flips it; on
    /// a miss, no level brings the expected class back.
    public func endsWrong(originalHit: Bool) -> Bool {
        originalHit ? firstFlip != nil : firstRescue == nil
    }

    /// The family's verdict in the words every view uses: on a hit "flips at 15°" or "holds"; on a miss "brings it
    /// back at 165°" or "stays wrong".
    public func verdict(originalHit: Bool) -> String {
        originalHit ? firstFlip.map { "flips at \($0.label)" } ?? "holds" : firstRescue.map { "brings it back at \($0.label)" } ?? "stays wrong"
    }

    /// Variants that changed what matters: flipped ones on a hit, rescuing ones on a miss.
    public func changed(originalHit: Bool) -> Int {
        originalHit ? flipped : variants - flipped
    }
}

extension ProbeResult {
    /// One model's probe in one sentence, in the words every view uses: "efficientnet_lite0: 3 of 20 transformations
    /// flip the answer", or "efficientnet_lite0: the original is already a miss; 2 of 20 transformations bring 'sports
    /// car' back (Rotation at 165°, Flip at vertical)". Families that do not apply to the image are not counted. When
    /// ImageNet-C's clean crop alone changes what matters, the sentence ends by saying so.
    public func sentence(for model: ModelOutcome) -> String {
        let crop = cropVariant.map { model.outcomes[$0].flipped } ?? !model.originalHit
        let cropNote = crop == !model.originalHit ? ""
            : model.originalHit ? "; ImageNet-C's clean crop alone already flips it" : "; ImageNet-C's clean crop alone brings it back"
        return counted(for: model) + cropNote
    }

    private func counted(for model: ModelOutcome) -> String {
        let applicable = families.filter { $0.notApplicable == nil }
        let outcomes = applicable.compactMap { family in model.families.first { $0.family == family.family }.map { (family, $0) } }
        let single = outcomes.count == 1
        let count = "of \(outcomes.count) transformation\(single ? "" : "s")"
        if model.originalHit {
            let flipping = outcomes.count { $0.1.firstFlip != nil }
            return "\(model.model): \(flipping) \(count) \(flipping == 1 ? "flips" : "flip") the answer"
        }
        // One or two classes by name; more (the post's cars accept ten) as "one of the 10 expected classes ('a', 'b', …)".
        let quoted = expected.map { "'\($0.name)'" }
        let names = quoted.count <= 2 ? quoted.joined(separator: " or ")
            : "one of the \(quoted.count) expected classes (\(quoted.prefix(2).joined(separator: ", ")), …)"
        let rescues = outcomes.compactMap { family, outcome in outcome.firstRescue.map { "\(family.title) at \($0.label)" } }
        let back = rescues.isEmpty ? "" : " (" + rescues.joined(separator: ", ") + ")"
        return "\(model.model): the original is already a miss; \(rescues.count) \(count) \(rescues.count == 1 ? "brings" : "bring") \(names) back\(back)"
    }
}
