// Probes with the real efficientnet_lite0 on sample photos: the original variant is exactly a plain classification,
// each family's mildest flipping level agrees with classifying every variant alone, the same seed gives the same
// result, and a family that does not apply is reported with its reason and no variants.
import Core
import Engine
import Foundation
import Imaging
import Models
import TestSupport
import Testing
import Transforms

@Suite struct ProbeTests {
    @Test func originalVariantIsExactlyAPlainClassification() throws {
        let classifier = try #require(try BatchSchedulerTests.lite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(BatchSchedulerTests.photos(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let decoder = ImageDecoder()
        let plain = try classifier.classify([classifier.prepare(photo, decoder: decoder)], top: 3).classifications[0]
        let image = try decoder.decode(photo, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
        let result = try Probe.run(image, plan: ProbePlan(families: [.flip, .grayscale]), classifiers: [classifier])
        let original = result.models[0].outcomes[0]
        #expect(result.variants[0].family == nil && original.variant == 0)
        #expect(original.top == plain.predictions, "the same three classes with bit-identical probabilities")
        #expect(original.expected?.index == plain.predictions[0].index && original.expected?.rank == 1 && !original.flipped)
        #expect(result.variants.count == 4 && result.models[0].outcomes.count == 4)
    }

    @Test func firstFlipIsTheMildestLevelThatFlipsWhenEachVariantIsClassifiedAlone() throws {
        let classifier = try #require(try BatchSchedulerTests.lite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photos = try #require(BatchSchedulerTests.photos(3), "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let decoder = ImageDecoder()
        let families: [TransformFamily] = [.rotate, .blur, .noise, .crop, .zoomOut, .pixelate]
        let exact = classifier.model.preprocessing
        var compared = 0
        for photo in photos {
            let image = try decoder.decode(photo, minimumShorterSide: exact.sourceShorterSide)
            let plan = ProbePlan(families: families, expected: [], seed: 7)
            let result = try Probe.run(image, plan: plan, classifiers: [classifier])
            let original = result.models[0].outcomes[0].top[0].index
            for family in families {
                // Brute force: every level alone, in order, batch of one.
                var firstFlip: TransformLevel?
                var ambiguous = false
                for level in family.levels {
                    let variant = try family.apply(to: image.shrunk(toShorterSide: plan.workingShorterSide), level: level, seed: plan.seed)
                    let tensor = try exact.tensor(from: variant)
                    let alone = try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 2)[0]
                    // A near tie between the first two classes could fall either way between batch sizes.
                    if alone.predictions[0].probability - alone.predictions[1].probability < 1e-4 { ambiguous = true }
                    if alone.predictions[0].index != original {
                        firstFlip = level
                        break
                    }
                }
                let summary = try #require(result.models[0].families.first { $0.family == family })
                if ambiguous { continue }
                #expect(summary.firstFlip == firstFlip, "\(family.rawValue): probe \(summary.firstFlip?.label ?? "none"), alone \(firstFlip?.label ?? "none")")
                compared += 1
            }
        }
        #expect(compared >= 15, "compared \(compared) of 18 families")
    }

    @Test func sameSeedSameResultAndExpectedClassesJudgeFlips() throws {
        let classifier = try #require(try BatchSchedulerTests.lite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(BatchSchedulerTests.photos(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
        let plan = ProbePlan(families: [.noise, .invert], expected: [0, 1], seed: 3)  // tench or goldfish
        let first = try Probe.run(image, plan: plan, classifiers: [classifier], thumbnailSide: 64)
        let second = try Probe.run(image, plan: plan, classifiers: [classifier], thumbnailSide: 64)
        #expect(first.variants == second.variants, "same variants, same thumbnails")
        #expect(first.models[0].outcomes.map(\.top) == second.models[0].outcomes.map(\.top))
        for outcome in first.models[0].outcomes {
            #expect(outcome.flipped == ![0, 1].contains(outcome.top[0].index))
            let expected = try #require(outcome.expected)
            #expect([0, 1].contains(expected.index) && expected.rank >= 1)
        }
        #expect(first.expected.map(\.name) == ["tench", "goldfish"])
        #expect(first.variants.allSatisfy { $0.thumbnail?.hasPrefix("data:image/jpeg;base64,") == true })
        let noise = try #require(first.models[0].families.first { $0.family == .noise })
        #expect(noise.variants == 5 && noise.lowestExpectedProbability != nil)
        let reseeded = try Probe.run(image, plan: ProbePlan(families: [.noise], expected: [0, 1], seed: 4), classifiers: [classifier], thumbnailSide: 64)
        #expect(reseeded.variants[1].thumbnail != first.variants[1].thumbnail, "another seed, other noise")
    }

    @Test func backgroundOnATexturedPhotoIsReportedNotApplicable() throws {
        let classifier = try #require(try BatchSchedulerTests.lite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        // Random texture everywhere: no near-uniform border.
        var generator = SplitMix64(seed: 5)
        let pixels = (0..<(300 * 240 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let image = RGBImage(width: 300, height: 240, pixels: pixels)
        let result = try Probe.run(image, plan: ProbePlan(families: [.background, .flip]), classifiers: [classifier])
        let background = try #require(result.families.first { $0.family == .background })
        #expect(background.notApplicable != nil)
        #expect(!result.variants.contains { $0.family == .background } && result.variants.count == 3)
        #expect(result.models[0].families.first { $0.family == .background }?.variants == 0)
    }
}

