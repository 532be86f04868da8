// The robustness card's arithmetic on records built by hand (no corruption is run): CE, mCE and relative mCE against
// sums worked out in the comments, the reference model's own CEs of 1, a zero denominator left out with its reason,
// AlexNet's published table and its CEs of 1, which folder counts as ImageNet-val, ECE by hand, and the card's JSON keys.
import Analysis
import Foundation
import Testing
import Transforms

@Suite struct RobustnessCardTests {
    /// Four images (truth 1) per transform; `wrong` of them answered 2, each with top-1 probability `confidence`.
    static func records(model: String, transform: String?, wrong: Int, confidence: Double = 0.62) -> [EvaluationRecord] {
        (0..<4).map { image in
            EvaluationRecord(file: "image-\(image).jpg", truth: 1, model: model, transform: transform,
                             top5: [image < wrong ? 2 : 1], probabilities: [confidence])
        }
    }

    /// `errors` in quarters (wrong images of 4) at severities 1-5 of `corruption`.
    static func severities(_ corruption: Corruption, model: String, wrong: [Int]) -> [EvaluationRecord] {
        zip(Corruption.severities, wrong).flatMap { severity, count in
            records(model: model, transform: EvaluationTransform.corruption(corruption, severity: severity).key, wrong: count)
        }
    }

    /// The reference "small" and the model "big", on the clean crop, fog and brightness; contrast where the reference
    /// never errs.
    static let records: [EvaluationRecord] = {
        let baseline = EvaluationTransform.corruptionBaseline.key
        return records(model: "small", transform: nil, wrong: 1) + records(model: "big", transform: nil, wrong: 0)
            + records(model: "small", transform: baseline, wrong: 1) + records(model: "big", transform: baseline, wrong: 0)
            + severities(.fog, model: "small", wrong: [1, 2, 2, 3, 4]) + severities(.fog, model: "big", wrong: [0, 1, 1, 2, 2])
            + severities(.brightness, model: "small", wrong: [1, 1, 1, 2, 2]) + severities(.brightness, model: "big", wrong: [0, 0, 1, 1, 1])
            + severities(.contrast, model: "small", wrong: [0, 0, 0, 0, 0]) + severities(.contrast, model: "big", wrong: [1, 0, 0, 0, 1])
    }()

    static func card(of model: String) -> RobustnessCard {
        RobustnessCard(records: records.filter { $0.model == model }, reference: records.filter { $0.model == "small" },
                       plan: RobustnessPlan(referenceModel: "small", frost: "procedural"))
    }

    /// By hand, errors as fractions of 4 images:
    /// fog: big Σ = (0+1+1+2+2)/4 = 1.5, small Σ = (1+2+2+3+4)/4 = 3.0 → CE = 0.5;
    /// brightness: big Σ = 3/4 = 0.75, small Σ = 7/4 = 1.75 → CE = 3/7;
    /// mean CE = (1/2 + 3/7) / 2 = 13/28.
    /// Relative, with clean-crop errors big 0 and small 1/4: fog (1.5 − 5·0) / (3.0 − 5·0.25) = 1.5 / 1.75 = 6/7;
    /// brightness 0.75 / (1.75 − 1.25) = 1.5; mean (6/7 + 3/2) / 2 = 33/28.
    /// contrast: the reference never errs, so both are null and out of the means.
    @Test func ceMeanCEAndRelativeMeanCEEqualTheHandArithmetic() throws {
        let card = Self.card(of: "big")
        #expect(try #require(card.ce["fog"] ?? nil) == 0.5)
        #expect(abs(try #require(card.ce["brightness"] ?? nil) - 3.0 / 7) < 1e-12)
        #expect(abs(try #require(card.meanCE) - 13.0 / 28) < 1e-12)
        #expect(abs(try #require(card.relativeCE["fog"] ?? nil) - 6.0 / 7) < 1e-12)
        #expect(try #require(card.relativeCE["brightness"] ?? nil) == 1.5)
        #expect(abs(try #require(card.relativeMeanCE) - 33.0 / 28) < 1e-12)
        #expect(card.cleanError == 0)
        #expect(card.isReferenceNormalised && card.referenceModel == "small")
        let fog3 = try #require(card.corruptions.first { $0.name == "fog" && $0.severity == 3 })
        #expect(fog3.images == 4 && fog3.error == 0.25 && fog3.top1 == 0.75)
        #expect(card.corruptions.count == 15, "3 corruptions × 5 severities")
    }

    @Test func aZeroReferenceErrorLeavesThatCEOutWithItsReason() throws {
        let card = Self.card(of: "big")
        #expect(card.ce.keys.contains("contrast") && card.ce["contrast"] == .some(nil))
        #expect(card.relativeCE["contrast"] == .some(nil))
        let reason = try #require(card.undefined["contrast"])
        #expect(reason.contains("divide by zero") && reason.contains("left out of the mean"), "\(reason)")
        #expect(card.undefined.count == 1)
    }

    @Test func theReferenceModelsOwnCEsAreOne() throws {
        let card = Self.card(of: "small")
        #expect(card.ce["fog"] == 1.0 && card.ce["brightness"] == 1.0)
        #expect(card.relativeCE["fog"] == 1.0 && card.relativeCE["brightness"] == 1.0)
        #expect(card.meanCE == 1.0 && card.relativeMeanCE == 1.0)
        #expect(card.cleanError == 0.25)
    }

    @Test func aCorruptionMissingASeverityHasNoCE() throws {
        let partial = Self.records.filter { $0.transform != EvaluationTransform.corruption(.fog, severity: 4).key }
        let card = RobustnessCard(records: partial.filter { $0.model == "big" }, reference: partial.filter { $0.model == "small" },
                                  plan: RobustnessPlan(referenceModel: "small", frost: "procedural"))
        #expect(card.ce["fog"] == .some(nil))
        #expect(card.undefined["fog"]?.contains("4 of 5 severities") == true, "\(card.undefined)")
        #expect(abs(try #require(card.meanCE) - 3.0 / 7) < 1e-12, "the mean is brightness's alone")
    }

    /// AlexNet's errors apply to ImageNet's validation set only: 50,000 images, 50 of each of the 1000 classes.
    @Test func onlyTheValidationSetIsImageNetVal() {
        let root = URL(fileURLWithPath: "/val")
        func dataset(_ images: [LabelledImage]) -> LabelledDataset { LabelledDataset(root: root, images: images, unlabelled: []) }
        let validation = (0..<50_000).map { LabelledImage(file: "image-\($0).JPEG", classIndex: $0 % 1000) }
        #expect(RobustnessPlan.isImageNetValidation(dataset(validation)))
        #expect(!RobustnessPlan.isImageNetValidation(dataset(Array(validation.dropLast()))))
        let uneven = validation.enumerated().map { LabelledImage(file: $1.file, classIndex: $0 == 0 ? 1 : $1.classIndex) }
        #expect(!RobustnessPlan.isImageNetValidation(dataset(uneven)), "class 0 with 49 images and class 1 with 51")
        #expect(!RobustnessPlan.isImageNetValidation(dataset(Array(validation.prefix(100)))))
    }

    /// AlexNet's mean top-1 error over severities 1-5 per corruption, typed from the table published with ImageNet-C
    /// (hendrycks/robustness, as `ALEXNET_ERR` in google-research/augmix imagenet.py), in the paper's order.
    @Test func theAlexNetTableEqualsItsSource() {
        let published: [(Corruption, Double)] = [
            (.gaussianNoise, 0.886428), (.shotNoise, 0.894468), (.impulseNoise, 0.922640), (.defocusBlur, 0.819880),
            (.glassBlur, 0.826268), (.motionBlur, 0.785948), (.zoomBlur, 0.798360), (.snow, 0.866816), (.frost, 0.826572),
            (.fog, 0.819324), (.brightness, 0.564592), (.contrast, 0.853204), (.elasticTransform, 0.646056),
            (.pixelate, 0.717840), (.jpegCompression, 0.606500),
        ]
        #expect(published.map(\.0) == Corruption.common)
        #expect(AlexNetErrors.meanError.count == 15)
        for (corruption, error) in published { #expect(AlexNetErrors.meanError[corruption] == error, "\(corruption)") }
        #expect(AlexNetErrors.cleanError == 0.4348)
    }

    /// A model whose errors are AlexNet's has CE 1 and relative CE 1 on every common corruption, so mCE 1; the
    /// held-out corruptions have no published AlexNet errors.
    @Test func alexNetsOwnCEsAreOneAndHeldOutOnesUndefined() throws {
        var ces: [Double] = []
        for corruption in Corruption.common {
            let mean = try #require(AlexNetErrors.meanError[corruption])
            let ratios = try RobustnessCard.Normaliser.alexNet.ratios(corruption, errors: Array(repeating: mean, count: 5),
                                                                     cleanError: AlexNetErrors.cleanError).get()
            let relative = try #require(ratios.relativeCE)
            #expect(abs(ratios.ce - 1) < 1e-12 && abs(relative - 1) < 1e-12, "\(corruption)")
            ces.append(ratios.ce)
        }
        #expect(abs(ces.reduce(0, +) / 15 - 1) < 1e-12)
        let heldOut = RobustnessCard.Normaliser.alexNet.ratios(.spatter, errors: Array(repeating: 0.5, count: 5), cleanError: 0.2)
        #expect(throws: RobustnessCard.Undefined.self) { try heldOut.get() }
    }

    /// Confidences 0.95 (right), 0.94 (wrong), 0.55 (right), 0.10 (wrong). Bin ⌊15c⌋: 14, 14, 8, 1.
    /// Bin 14: mean confidence 0.945, accuracy 0.5 → 2/4 × 0.445 = 0.2225; bin 8: 1/4 × 0.45 = 0.1125;
    /// bin 1: 1/4 × 0.1 = 0.025. ECE = 0.36.
    @Test func eceEqualsTheHandArithmetic() throws {
        let (ece, bins) = RobustnessCard.calibration(confidences: [0.95, 0.94, 0.55, 0.10], correct: [true, false, true, false])
        #expect(abs(ece - 0.36) < 1e-12)
        #expect(bins.count == 15 && bins.map(\.count) == [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2])
        #expect(abs(try #require(bins[14].confidence) - 0.945) < 1e-12 && bins[14].accuracy == 0.5)
        #expect(bins[0].confidence == nil && bins[0].accuracy == nil && bins[14].upper == 1)
        // Probabilities from an edited results file neither trap nor leave the bins: above 1 is the last, below 0 the first.
        let edited = RobustnessCard.calibration(confidences: [1e300, -5, .nan], correct: [true, false, true]).bins
        #expect(edited[14].count == 1 && edited[0].count == 1 && edited.map(\.count).reduce(0, +) == 2)
        // A card takes it from the clean records' top-1 probabilities: here all 0.62 (bin 9), "big" right on all 4: |1 − 0.62|.
        let card = Self.card(of: "big")
        #expect(abs(card.ece - 0.38) < 1e-12 && card.reliability[9].count == 4)
    }

    @Test func theCardsJSONNamesItsMeansByItsNormaliser() throws {
        let card = Self.card(of: "big")
        let data = try JSONEncoder().encode(card)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["referenceMCE"] != nil && object["referenceRelativeMCE"] != nil)
        #expect(object["mCE"] == nil && object["relativeMCE"] == nil)
        #expect((object["ce"] as? [String: Any])?["contrast"] is NSNull)
        #expect(try JSONDecoder().decode(RobustnessCard.self, from: data) == card)

        let alexNet = RobustnessCard(records: Self.records.filter { $0.model == "big" }, reference: [],
                                     plan: RobustnessPlan(referenceModel: nil, frost: "procedural"))
        let published = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(alexNet)) as? [String: Any])
        #expect(published["mCE"] != nil && published["referenceMCE"] == nil)
        // fog: big's mean error 1.5 / 5 = 0.3 over AlexNet's 0.819324; brightness 0.15 / 0.564592; contrast 0.1 / 0.853204.
        let expected = (0.3 / 0.819324 + 0.15 / 0.564592 + 0.1 / 0.853204) / 3
        #expect(abs(try #require(alexNet.meanCE) - expected) < 1e-12)

        let renamed = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"fog\"", with: "\"rain\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RobustnessCard.self, from: Data(renamed.utf8)) }
    }
}
