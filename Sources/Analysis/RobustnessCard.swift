// One model's robustness card in ImageNet-C's units, computed from evaluation records only (so shards merge exactly):
// top-1 error per corruption and severity, CE and relative CE per corruption and their means over the 15 common
// corruptions, normalised by AlexNet's published errors or a reference model's, and calibration (ECE, 15 bins).
import Foundation
import Transforms

/// How the cards of an evaluation are made, kept in its results so that merges and reports agree.
public struct RobustnessPlan: Sendable, Codable, Equatable {
    /// The model whose errors on the same images normalise CE; nil: AlexNet's published errors (ImageNet-val only).
    public let referenceModel: String?
    /// Where frost's ice came from (`FrostTextures.source`).
    public let frost: String

    public init(referenceModel: String?, frost: String) {
        self.referenceModel = referenceModel
        self.frost = frost
    }

    /// Whether the folder is ImageNet's validation set, the images AlexNet's published errors were measured on: 50,000
    /// labelled images, 50 of each of the 1000 classes (ILSVRC2012's validation split has exactly that).
    public static func isImageNetValidation(_ dataset: LabelledDataset) -> Bool {
        guard dataset.images.count == 50_000 else { return false }
        var counts: [Int: Int] = [:]
        for image in dataset.images { counts[image.classIndex, default: 0] += 1 }
        return counts.count == 1000 && counts.values.allSatisfy { $0 == 50 }
    }
}

/// AlexNet's top-1 errors on ImageNet-C, the denominators of mCE. Per corruption, the mean over severities 1-5 as
/// published with the benchmark (Hendrycks & Dietterich, ICLR 2019, github.com/hendrycks/robustness; the table as
/// `ALEXNET_ERR` in google-research/augmix's imagenet.py, "Raw AlexNet errors taken from hendrycks/robustness"); the
/// clean error is that of the same torchvision weights (alexnet-owt-4df8aa71, acc@1 56.52%).
public enum AlexNetErrors {
    public static let cleanError = 0.4348

    public static let meanError: [Corruption: Double] = [
        .gaussianNoise: 0.886428, .shotNoise: 0.894468, .impulseNoise: 0.922640,
        .defocusBlur: 0.819880, .glassBlur: 0.826268, .motionBlur: 0.785948, .zoomBlur: 0.798360,
        .snow: 0.866816, .frost: 0.826572, .fog: 0.819324, .brightness: 0.564592,
        .contrast: 0.853204, .elasticTransform: 0.646056, .pixelate: 0.717840, .jpegCompression: 0.606500,
    ]

    /// Where the numbers come from, as the card names it.
    public static let source = "AlexNet's published ImageNet-C errors (Hendrycks & Dietterich, ICLR 2019; github.com/hendrycks/robustness), "
        + "clean error 43.48% (torchvision's alexnet-owt-4df8aa71)"
}

public struct RobustnessCard: Sendable, Codable, Equatable {
    /// Top-1 under one corruption at one severity.
    public struct Measurement: Sendable, Codable, Equatable {
        /// The corruption's name as ImageNet-C writes it ("gaussian_noise").
        public let name: String
        public let severity: Int
        public let images: Int
        public let top1: Double
        public let error: Double
    }

    /// One of the reliability diagram's equal-width confidence bins, [lower, upper) (the last one includes 1).
    public struct ReliabilityBin: Sendable, Codable, Equatable {
        public let lower: Double
        public let upper: Double
        public let count: Int
        /// The mean top-1 probability and the fraction right of the images in the bin; nil for an empty bin.
        public let confidence: Double?
        public let accuracy: Double?
    }

    public let corruptions: [Measurement]
    /// Top-1 error on ImageNet-C's crop of the clean images (the E_clean of relative CE); nil when not measured.
    public let cleanError: Double?
    /// CE and relative CE per corruption (by name); null where undefined, with the reason in `undefined`.
    public let ce: [String: Double?]
    public let relativeCE: [String: Double?]
    /// Why a CE or relative CE is null, by corruption name.
    public let undefined: [String: String]
    /// The means over the 15 common corruptions whose CE is defined; nil when none is.
    public let meanCE: Double?
    public let relativeMeanCE: Double?
    /// Named in the card: AlexNet's published errors, or the reference model.
    public let normaliser: String
    /// The reference model when not AlexNet: the card is then "reference-normalised", never mCE.
    public let referenceModel: String?
    /// Expected calibration error over the clean images (15 equal-width bins of top-1 probability).
    public let ece: Double
    public let reliability: [ReliabilityBin]

    public var isReferenceNormalised: Bool { referenceModel != nil }

    /// The card of the model whose records are `records`; `reference` are the reference model's (ignored when `plan`
    /// normalises by AlexNet).
    public init(records: [EvaluationRecord], reference: [EvaluationRecord], plan: RobustnessPlan) {
        let errors = Self.errors(records)
        corruptions = errors.sorted { ($0.key.corruption.allCasesIndex, $0.key.severity) < ($1.key.corruption.allCasesIndex, $1.key.severity) }
            .map { key, measured in
                Measurement(name: key.corruption.rawValue, severity: key.severity, images: measured.images, top1: 1 - measured.error,
                            error: measured.error)
            }
        cleanError = Self.cropError(records)
        let normaliser: Normaliser = plan.referenceModel == nil
            ? .alexNet
            : .measured(errors: Self.errors(reference).mapValues(\.error), cleanError: Self.cropError(reference))
        var ce: [String: Double?] = [:], relativeCE: [String: Double?] = [:], undefined: [String: String] = [:]
        for corruption in Corruption.allCases where errors.keys.contains(where: { $0.corruption == corruption }) {
            let mine = Corruption.severities.map { errors[SeverityKey(corruption: corruption, severity: $0)]?.error }
            switch normaliser.ratios(corruption, errors: mine, cleanError: cleanError) {
            case .success(let ratios):
                ce[corruption.rawValue] = ratios.ce
                relativeCE[corruption.rawValue] = .some(ratios.relativeCE)
                if let reason = ratios.whyNoRelativeCE { undefined[corruption.rawValue] = "relative CE: " + reason }
            case .failure(let reason):
                ce[corruption.rawValue] = .some(nil)
                relativeCE[corruption.rawValue] = .some(nil)
                undefined[corruption.rawValue] = reason.text
            }
        }
        self.ce = ce
        self.relativeCE = relativeCE
        self.undefined = undefined
        meanCE = Self.mean(Corruption.common.compactMap { ce[$0.rawValue] ?? nil })
        relativeMeanCE = Self.mean(Corruption.common.compactMap { relativeCE[$0.rawValue] ?? nil })
        referenceModel = plan.referenceModel
        self.normaliser = plan.referenceModel.map { "\($0) on the same images (reference-normalised)" } ?? AlexNetErrors.source
        let clean = records.filter { $0.transform == nil && !$0.probabilities.isEmpty }
        (ece, reliability) = Self.calibration(confidences: clean.map(\.probabilities[0]), correct: clean.map(\.isTop1))
    }

    // MARK: - Arithmetic

    /// One corruption at one severity.
    public struct SeverityKey: Sendable, Hashable {
        public let corruption: Corruption
        public let severity: Int

        public init(corruption: Corruption, severity: Int) {
            self.corruption = corruption
            self.severity = severity
        }
    }

    /// Images and top-1 error under every corruption and severity the records have.
    static func errors(_ records: [EvaluationRecord]) -> [SeverityKey: (images: Int, error: Double)] {
        var tallies: [SeverityKey: (images: Int, wrong: Int)] = [:]
        for record in records {
            guard let key = record.transform.flatMap(corruptionKey) else { continue }
            tallies[key, default: (0, 0)].images += 1
            if !record.isTop1 { tallies[key, default: (0, 0)].wrong += 1 }
        }
        return tallies.mapValues { ($0.images, Double($0.wrong) / Double($0.images)) }
    }

    /// "imagenet-c:fog:3" → (fog, 3); nil for any other key.
    static func corruptionKey(_ key: String) -> SeverityKey? {
        let parts = key.split(separator: ":").map(String.init)
        guard parts.count == 3, parts[0] == EvaluationTransform.imageNetC, let corruption = Corruption(rawValue: parts[1]),
              let severity = Int(parts[2]) else { return nil }
        return SeverityKey(corruption: corruption, severity: severity)
    }

    /// Top-1 error on ImageNet-C's clean crop; nil without such records.
    static func cropError(_ records: [EvaluationRecord]) -> Double? {
        let baseline = records.filter { $0.transform == EvaluationTransform.corruptionBaseline.key }
        return baseline.isEmpty ? nil : Double(baseline.count { !$0.isTop1 }) / Double(baseline.count)
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Why a ratio has no value.
    public struct Undefined: Error, Equatable {
        public let text: String
    }

    /// A corruption's CE, and its relative CE or why there is none.
    public struct Ratios: Equatable {
        public let ce: Double
        public let relativeCE: Double?
        public let whyNoRelativeCE: String?
    }

    /// What CE is divided by.
    public enum Normaliser: Sendable {
        case alexNet
        case measured(errors: [SeverityKey: Double], cleanError: Double?)

        /// CE and relative CE of `corruption` from the model's error at severities 1-5 (nil where not measured):
        /// CE = Σ_s E_s / Σ_s E^ref_s, relative CE = Σ_s (E_s − E_clean) / Σ_s (E^ref_s − E^ref_clean). AlexNet's
        /// table gives the mean over severities, so its sums are 5 × that mean.
        public func ratios(_ corruption: Corruption, errors: [Double?], cleanError: Double?) -> Result<Ratios, Undefined> {
            let measured = errors.compactMap { $0 }
            guard measured.count == errors.count else {
                return .failure(Undefined(text: "measured at \(measured.count) of \(errors.count) severities; CE needs all of them"))
            }
            let reference: [Double], referenceClean: Double?
            switch self {
            case .alexNet:
                guard let mean = AlexNetErrors.meanError[corruption] else {
                    return .failure(Undefined(text: "AlexNet's errors are published for the 15 common corruptions only"))
                }
                reference = Array(repeating: mean, count: errors.count)
                referenceClean = AlexNetErrors.cleanError
            case let .measured(referenceErrors, clean):
                let found = Corruption.severities.compactMap { referenceErrors[SeverityKey(corruption: corruption, severity: $0)] }
                guard found.count == errors.count else {
                    return .failure(Undefined(text: "the reference model was measured at \(found.count) of \(errors.count) severities"))
                }
                reference = found
                referenceClean = clean
            }
            let denominator = reference.reduce(0, +)
            guard denominator > 0 else {
                return .failure(Undefined(text: "the reference makes no mistake at any severity, so CE would divide by zero; left out of the mean"))
            }
            let ce = measured.reduce(0, +) / denominator
            guard let cleanError, let referenceClean else { return .success(Ratios(ce: ce, relativeCE: nil, whyNoRelativeCE: "no clean crop measured")) }
            let relativeDenominator = reference.map { $0 - referenceClean }.reduce(0, +)
            guard relativeDenominator > 0 else {
                return .success(Ratios(ce: ce, relativeCE: nil,
                                       whyNoRelativeCE: "the reference loses no accuracy under it, so relative CE would divide by zero or less; left out of the mean"))
            }
            return .success(Ratios(ce: ce, relativeCE: measured.map { $0 - cleanError }.reduce(0, +) / relativeDenominator, whyNoRelativeCE: nil))
        }
    }

    /// How many equal-width confidence bins ECE uses.
    public static let calibrationBins = 15

    /// ECE = Σ_b (n_b / N) |accuracy_b − confidence_b| over equal-width bins of top-1 probability, and the bins.
    /// A confidence c falls in bin min(⌊15c⌋, 14).
    public static func calibration(confidences: [Double], correct: [Bool]) -> (ece: Double, bins: [ReliabilityBin]) {
        let count = calibrationBins
        var members = [[Int]](repeating: [], count: count)
        for (index, confidence) in confidences.enumerated() where confidence.isFinite {
            // Clamped before the conversion: a probability read from an edited results file may be anything.
            members[Int(min(Double(count - 1), max(0, (confidence * Double(count)).rounded(.down))))].append(index)
        }
        let total = Double(members.reduce(0) { $0 + $1.count })
        var ece = 0.0
        let bins = members.enumerated().map { bin, indices in
            let lower = Double(bin) / Double(count), upper = Double(bin + 1) / Double(count)
            guard !indices.isEmpty else { return ReliabilityBin(lower: lower, upper: upper, count: 0, confidence: nil, accuracy: nil) }
            let confidence = indices.map { confidences[$0] }.reduce(0, +) / Double(indices.count)
            let accuracy = Double(indices.count { correct[$0] }) / Double(indices.count)
            ece += Double(indices.count) / total * abs(accuracy - confidence)
            return ReliabilityBin(lower: lower, upper: upper, count: indices.count, confidence: confidence, accuracy: accuracy)
        }
        return (ece, bins)
    }

    // MARK: - JSON

    private enum CodingKeys: String, CodingKey {
        case corruptions, cleanError, ce, relativeCE, undefined, normaliser, referenceModel, ece, reliability
        case mCE, relativeMCE, referenceMCE, referenceRelativeMCE
    }

    /// The means are "mCE"/"relativeMCE" when AlexNet normalises, "referenceMCE"/"referenceRelativeMCE" otherwise.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(corruptions, forKey: .corruptions)
        try container.encode(cleanError, forKey: .cleanError)
        try container.encode(ce, forKey: .ce)
        try container.encode(relativeCE, forKey: .relativeCE)
        try container.encode(undefined, forKey: .undefined)
        try container.encode(normaliser, forKey: .normaliser)
        try container.encodeIfPresent(referenceModel, forKey: .referenceModel)
        try container.encode(ece, forKey: .ece)
        try container.encode(reliability, forKey: .reliability)
        try container.encode(meanCE, forKey: isReferenceNormalised ? .referenceMCE : .mCE)
        try container.encode(relativeMeanCE, forKey: isReferenceNormalised ? .referenceRelativeMCE : .relativeMCE)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        corruptions = try container.decode([Measurement].self, forKey: .corruptions)
        cleanError = try container.decodeIfPresent(Double.self, forKey: .cleanError)
        ce = try container.decode([String: Double?].self, forKey: .ce)
        relativeCE = try container.decode([String: Double?].self, forKey: .relativeCE)
        undefined = try container.decode([String: String].self, forKey: .undefined)
        normaliser = try container.decode(String.self, forKey: .normaliser)
        referenceModel = try container.decodeIfPresent(String.self, forKey: .referenceModel)
        ece = try container.decode(Double.self, forKey: .ece)
        reliability = try container.decode([ReliabilityBin].self, forKey: .reliability)
        let (mean, relative): (CodingKeys, CodingKeys) = referenceModel == nil ? (.mCE, .relativeMCE) : (.referenceMCE, .referenceRelativeMCE)
        guard !container.contains(referenceModel == nil ? .referenceMCE : .mCE) else {
            throw DecodingError.dataCorruptedError(forKey: mean, in: container,
                                                   debugDescription: "mCE is normalised by AlexNet, referenceMCE by a reference model: not both")
        }
        meanCE = try container.decodeIfPresent(Double.self, forKey: mean)
        relativeMeanCE = try container.decodeIfPresent(Double.self, forKey: relative)
        for name in Array(ce.keys) + Array(undefined.keys) + corruptions.map(\.name) where Corruption(rawValue: name) == nil {
            throw DecodingError.dataCorruptedError(forKey: .ce, in: container, debugDescription: "'\(name)' is not one of ImageNet-C's corruptions")
        }
        for measurement in corruptions where !Corruption.severities.contains(measurement.severity) {
            throw DecodingError.dataCorruptedError(forKey: .corruptions, in: container,
                                                   debugDescription: "severity \(measurement.severity) is not one of 1 to 5")
        }
    }
}

extension Corruption {
    /// Its place in `allCases` (the paper's order).
    var allCasesIndex: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }
}
