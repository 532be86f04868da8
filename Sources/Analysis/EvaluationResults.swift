// What an evaluation found, computed only from the per-image records, so that results of shards merge exactly
// and a resumed run equals an uninterrupted one: accuracies with bootstrap intervals, per-class recall, the most
// frequent confusions, accuracy under each transformation, robustness cards (RobustnessCard), where models disagree.
import Engine
import Foundation
import Models
import Transforms

/// One model's answer on one image, clean or under one transformation.
public struct EvaluationRecord: Sendable, Equatable, Codable {
    public let file: String
    /// The true class.
    public let truth: Int
    public let model: String
    /// `EvaluationTransform.key` ("blur:2", "imagenet-c:fog:3"); nil for the clean image.
    public let transform: String?
    /// The five most probable classes, best first, and their probabilities.
    public let top5: [Int]
    public let probabilities: [Double]

    public init(file: String, truth: Int, model: String, transform: String?, top5: [Int], probabilities: [Double]) {
        self.file = file
        self.truth = truth
        self.model = model
        self.transform = transform
        self.top5 = top5
        self.probabilities = probabilities
    }

    public var isTop1: Bool { top5.first == truth }
    public var isTop5: Bool { top5.contains(truth) }

    private enum CodingKeys: String, CodingKey {
        case file, truth, model, transform, top5, probabilities
    }

    /// Records come back from results and progress files, which anyone can edit: classes must be ImageNet classes and
    /// every record must name at least one answer with its probability.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let classes = 0 ..< ImageNetLabels.classCount
        let truth = try container.decode(Int.self, forKey: .truth)
        let top5 = try container.decode([Int].self, forKey: .top5)
        let probabilities = try container.decode([Double].self, forKey: .probabilities)
        guard classes.contains(truth), !top5.isEmpty, top5.allSatisfy(classes.contains), probabilities.count == top5.count else {
            throw DecodingError.dataCorruptedError(forKey: .top5, in: container,
                                                   debugDescription: "a record needs ImageNet classes (0-999) and one probability per answer")
        }
        self.init(file: try container.decode(String.self, forKey: .file), truth: truth, model: try container.decode(String.self, forKey: .model),
                  transform: try container.decodeIfPresent(String.self, forKey: .transform), top5: top5, probabilities: probabilities)
    }
}

public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case badTransform(String, reason: String)
    case mismatched(String)

    public var description: String {
        switch self {
        case let .badTransform(text, reason): "'\(text)' is not a transformation: \(reason)"
        case .mismatched(let reason): "these results do not belong together: \(reason)"
        }
    }
}

public struct EvaluationResults: Sendable, Codable {
    public struct ClassRecall: Sendable, Codable, Equatable {
        public let index: Int
        public let label: String
        public let images: Int
        public let correct: Int
        public let recall: Double
    }

    public struct Confusion: Sendable, Codable, Equatable {
        public let trueIndex: Int
        public let trueLabel: String
        public let predictedIndex: Int
        public let predictedLabel: String
        public let count: Int
        /// Up to three files.
        public let examples: [String]
    }

    public struct TransformAccuracy: Sendable, Codable, Equatable {
        public let transform: String
        /// For one of Blindspot's families; nil for ImageNet-C's corruptions (`transform` names them).
        public let family: TransformFamily?
        public let level: TransformLevel?
        public let images: Int
        public let top1: Double
        public let top5: Double
        public let top1CI: [Double]
        /// (clean top-1 − this top-1) / clean top-1: the fraction of the clean accuracy this transformation costs.
        public let relativeDrop: Double
    }

    public struct ModelResults: Sendable, Codable, Equatable {
        public let model: String
        public let weightsDigest: String?
        public let images: Int
        public let top1: Double
        public let top5: Double
        /// 95% percentile bootstrap interval over images (1000 resamples, fixed seed).
        public let top1CI: [Double]
        public let top5CI: [Double]
        /// Every class with images, by recall (worst first).
        public let perClass: [ClassRecall]
        /// The most frequent wrong answers (true → predicted), up to 20.
        public let confusions: [Confusion]
        public let transforms: [TransformAccuracy]
        /// ImageNet-C's card, when the evaluation made one (`eval --robustness-card`).
        public let robustness: RobustnessCard?
    }

    /// An image that some models get right and others wrong (clean).
    public struct Disagreement: Sendable, Codable, Equatable {
        public let file: String
        public let truth: Int
        public let trueLabel: String
        public let right: [String]
        public let wrong: [WrongAnswer]
    }

    public struct WrongAnswer: Sendable, Codable, Equatable {
        public let model: String
        public let predictedIndex: Int
        public let predictedLabel: String
    }

    public let dataset: String
    public let images: Int
    public let unlabelled: [UnlabelledFile]
    public let transforms: [EvaluationTransform]
    /// The 200 classes the outputs were masked to (ImageNet-A or -R); nil: all 1000.
    public let subset: ImageNetSubset?
    /// How the robustness cards were made; nil when there are none.
    public let robustness: RobustnessPlan?
    public let models: [ModelResults]
    public let disagreements: [Disagreement]
    /// Every model's answer on every image, sorted (file, model, transform): what merging and resuming rest on.
    public let records: [EvaluationRecord]

    /// Summarises `records` (any order). `digests` names each model's weights.
    public init(dataset: String, unlabelled: [UnlabelledFile], transforms: [EvaluationTransform], subset: ImageNetSubset? = nil,
                robustness: RobustnessPlan? = nil, records: [EvaluationRecord], digests: [String: String], labels: ImageNetLabels) {
        let records = records.sorted { ($0.file, $0.model, $0.transform ?? "") < ($1.file, $1.model, $1.transform ?? "") }
        self.dataset = dataset
        self.unlabelled = unlabelled
        self.transforms = transforms
        self.subset = subset
        self.robustness = robustness
        self.records = records
        let clean = records.filter { $0.transform == nil }
        images = Set(clean.map(\.file)).count
        var models: [String] = []
        for record in clean where !models.contains(record.model) { models.append(record.model) }
        var byModel: [String: [EvaluationRecord]] = [:]
        for record in records { byModel[record.model, default: []].append(record) }
        self.models = models.map { model in
            let mine = byModel[model] ?? []
            return Self.summarise(model: model, records: mine, transforms: transforms, digest: digests[model], labels: labels,
                                  card: robustness.map { plan in
                                      RobustnessCard(records: mine, reference: plan.referenceModel.flatMap { byModel[$0] } ?? [], plan: plan)
                                  })
        }
        disagreements = Self.disagreements(clean, models: models, labels: labels)
    }

    static func summarise(model: String, records: [EvaluationRecord], transforms: [EvaluationTransform], digest: String?,
                          labels: ImageNetLabels, card: RobustnessCard?) -> ModelResults {
        let clean = records.filter { $0.transform == nil }
        let top1 = fraction(clean.map(\.isTop1)), top5 = fraction(clean.map(\.isTop5))
        var byClass: [Int: (images: Int, correct: Int)] = [:]
        for record in clean { byClass[record.truth, default: (0, 0)].images += 1; if record.isTop1 { byClass[record.truth]!.correct += 1 } }
        let perClass = byClass.map { index, tally in
            ClassRecall(index: index, label: labels[index].name, images: tally.images, correct: tally.correct,
                        recall: Double(tally.correct) / Double(tally.images))
        }.sorted { ($0.recall, $0.index) < ($1.recall, $1.index) }
        var confused: [[Int]: [String]] = [:]
        for record in clean where !record.isTop1 { confused[[record.truth, record.top5[0]], default: []].append(record.file) }
        let confusions = confused.map { pair, files in
            Confusion(trueIndex: pair[0], trueLabel: labels[pair[0]].name, predictedIndex: pair[1], predictedLabel: labels[pair[1]].name,
                      count: files.count, examples: Array(files.prefix(3)))
        }.sorted { ($1.count, $0.trueIndex, $0.predictedIndex) < ($0.count, $1.trueIndex, $1.predictedIndex) }
        var byTransform: [String: [EvaluationRecord]] = [:]
        for record in records { if let key = record.transform { byTransform[key, default: []].append(record) } }
        let transformed = transforms.map { transform in
            let under = byTransform[transform.key] ?? []
            let accuracy = fraction(under.map(\.isTop1))
            return TransformAccuracy(transform: transform.key, family: transform.family, level: transform.level, images: under.count,
                                     top1: accuracy, top5: fraction(under.map(\.isTop5)), top1CI: bootstrap(under.map(\.isTop1)),
                                     relativeDrop: top1 == 0 ? 0 : (top1 - accuracy) / top1)
        }
        return ModelResults(model: model, weightsDigest: digest, images: clean.count, top1: top1, top5: top5,
                            top1CI: bootstrap(clean.map(\.isTop1)), top5CI: bootstrap(clean.map(\.isTop5)),
                            perClass: perClass, confusions: Array(confusions.prefix(20)), transforms: transformed, robustness: card)
    }

    static func disagreements(_ clean: [EvaluationRecord], models: [String], labels: ImageNetLabels) -> [Disagreement] {
        guard models.count > 1 else { return [] }
        var byFile: [String: [EvaluationRecord]] = [:]
        for record in clean { byFile[record.file, default: []].append(record) }
        return byFile.keys.sorted().compactMap { file in
            let answers = byFile[file]!
            let right = answers.filter(\.isTop1).map(\.model)
            guard !right.isEmpty && right.count < answers.count else { return nil }
            return Disagreement(file: file, truth: answers[0].truth, trueLabel: labels[answers[0].truth].name, right: right,
                                wrong: answers.filter { !$0.isTop1 }.map {
                                    WrongAnswer(model: $0.model, predictedIndex: $0.top5[0], predictedLabel: labels[$0.top5[0]].name)
                                })
        }
    }

    static func fraction(_ outcomes: [Bool]) -> Double {
        outcomes.isEmpty ? 0 : Double(outcomes.count { $0 }) / Double(outcomes.count)
    }

    /// The 2.5th and 97.5th percentiles of the accuracy over 1000 resamples with replacement (seed 0), in order.
    static func bootstrap(_ outcomes: [Bool]) -> [Double] {
        guard !outcomes.isEmpty else { return [0, 0] }
        var random = SplitMix64(seed: 0)
        let count = outcomes.count
        var accuracies = (0..<1000).map { _ in
            var hits = 0
            for _ in 0..<count where outcomes[Int(random.next() % UInt64(count))] { hits += 1 }
            return Double(hits) / Double(count)
        }
        accuracies.sort()
        return [accuracies[24], accuracies[974]]
    }

    /// Results of shards (or runs of disjoint folders of one dataset) as one: every record kept once.
    public static func merged(_ parts: [EvaluationResults], labels: ImageNetLabels) throws -> EvaluationResults {
        guard let first = parts.first else { throw EvaluationError.mismatched("nothing to merge") }
        for part in parts.dropFirst() {
            guard part.transforms == first.transforms else { throw EvaluationError.mismatched("the transformations differ") }
            guard part.models.map(\.model) == first.models.map(\.model) else { throw EvaluationError.mismatched("the models differ") }
            guard part.subset == first.subset else { throw EvaluationError.mismatched("the class subsets differ") }
            guard part.robustness == first.robustness else { throw EvaluationError.mismatched("the robustness cards were made differently") }
        }
        var seen = Set<String>()
        var records: [EvaluationRecord] = []
        for record in parts.flatMap(\.records) {
            let key = "\(record.file)\u{0}\(record.model)\u{0}\(record.transform ?? "")"
            if seen.insert(key).inserted { records.append(record) }
        }
        var digests: [String: String] = [:]
        for model in parts.flatMap(\.models) { digests[model.model] = model.weightsDigest }
        return EvaluationResults(dataset: first.dataset, unlabelled: parts.flatMap(\.unlabelled), transforms: first.transforms,
                                 subset: first.subset, robustness: first.robustness, records: records, digests: digests, labels: labels)
    }
}
