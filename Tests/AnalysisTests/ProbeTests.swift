// Probes with the real efficientnet_lite0 on sample photos: the original variant is exactly a plain classification,
// each family's mildest flipping level agrees with classifying every variant alone, the same seed gives the same
// result, and a family that does not apply is reported with its reason and no variants.
import Analysis
import Engine
import Foundation
import Imaging
import Models
import Testing
import TestSupport
import Transforms

@Suite struct ProbeTests {
    @Test func originalVariantIsExactlyAPlainClassification() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let decoder = ImageDecoder()
        let plain = try classifier.classify([classifier.prepare(photo, decoder: decoder)], top: 3).classifications[0]
        let image = try decoder.decode(photo, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
        let result = try Probe.run(image, plan: ProbePlan(families: [.transform(.flip), .transform(.grayscale)]), classifiers: [classifier])
        let original = result.models[0].outcomes[0]
        #expect(result.variants[0].family == nil && original.variant == 0)
        #expect(original.top == plain.predictions, "the same three classes with bit-identical probabilities")
        #expect(original.expected?.index == plain.predictions[0].index && original.expected?.rank == 1 && !original.flipped)
        #expect(result.variants.count == 4 && result.models[0].outcomes.count == 4)
    }

    /// A sample photo the model gets right, turned upside down so that it gets it wrong: the probe says the original is a
    /// miss, and rather than "every family flips" it names the levels that bring the true class back; turning it a
    /// further 180° must be one of them. The sentence says so in the words every view uses.
    @Test func aProbeOfAMissNamesWhatBringsTheExpectedClassBack() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let folder = SharedData.url("imagenet-sample")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let labels = try ImageNetLabels.bundled()
        let decoder = ImageDecoder()
        func top1(_ image: RGBImage) throws -> Int {
            var batch = Tensor(zeros: [1] + classifier.model.preprocessing.tensorShape)
            try classifier.model.preprocessing.write(image, into: &batch, at: 0)
            return try classifier.classify(batch, top: 1)[0].predictions[0].index
        }
        // The first photo (by name) that is right upright and wrong upside down.
        var found: (file: String, truth: Int, upsideDown: RGBImage)?
        for file in files where found == nil {
            let truth = try #require(labels.index(ofWordNetID: String(file.prefix(9))), "\(file) is named after its class")
            let image = try decoder.decode(Data(contentsOf: folder.appendingPathComponent(file)))
            // 180°: the pixels in reverse order, each pixel's three channels kept in order.
            let pixels = stride(from: image.pixels.count - 3, through: 0, by: -3).flatMap { image.pixels[$0 ..< $0 + 3] }
            let upsideDown = RGBImage(width: image.width, height: image.height, pixels: pixels)
            if try top1(image) == truth, try top1(upsideDown) != truth { found = (file, truth, upsideDown) }
        }
        let (file, truth, upsideDown) = try #require(found, "a sample photo efficientnet_lite0 misses upside down")
        let result = try Probe.run(upsideDown, plan: ProbePlan(families: [.transform(.flip), .transform(.rotate)], expected: [truth]), classifiers: [classifier])
        let model = result.models[0]
        #expect(!model.originalHit && model.outcomes[0].flipped, "\(file) upside down is a miss")
        let rotate = try #require(model.families.first { $0.family == .transform(.rotate) })
        let turnedBack = try #require(result.variants.first { $0.family == .transform(.rotate) && $0.level?.value == 180 })
        #expect(!model.outcomes[turnedBack.id].flipped, "\(file): turned a further 180° it is \(labels[truth].name) again")
        let rescue = try #require(rotate.firstRescue, "rotation brings \(labels[truth].name) back")
        #expect(rescue.value <= 180)
        #expect(rotate.verdict(originalHit: false) == "brings it back at \(rescue.label)")
        #expect(rotate.changed(originalHit: false) == rotate.variants - rotate.flipped && rotate.changed(originalHit: false) >= 1)
        let sentence = result.sentence(for: model)
        #expect(sentence.hasPrefix("efficientnet_lite0: the original is already a miss; "), "\(sentence)")
        let rescues = model.families.count { $0.firstRescue != nil }
        #expect(sentence.contains("\(rescues) of 2 transformations \(rescues == 1 ? "brings" : "bring") '\(labels[truth].name)' back (")
                && sentence.contains("Rotation at \(rescue.label)"),
                "\(sentence)")
        print("\(file) upside down: \(sentence)")
    }

    @Test func aProbeOfAHitSaysWhatFlipsIt() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo)
        let result = try Probe.run(image, plan: ProbePlan(families: [.transform(.flip), .transform(.invert)]), classifiers: [classifier])
        let model = result.models[0]
        #expect(model.originalHit && model.families.allSatisfy { $0.firstRescue == nil })
        let flipping = model.families.count { $0.firstFlip != nil }
        #expect(result.sentence(for: model) == "efficientnet_lite0: \(flipping) of 2 transformations \(flipping == 1 ? "flips" : "flip") the answer")
        for family in model.families {
            #expect(family.verdict(originalHit: true) == (family.firstFlip.map { "flips at \($0.label)" } ?? "holds"))
        }
    }

    @Test func firstFlipIsTheMildestLevelThatFlipsWhenEachVariantIsClassifiedAlone() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photos = try #require(SamplePhotos.first(3), "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let decoder = ImageDecoder()
        let families: [TransformFamily] = [.rotate, .blur, .noise, .crop, .zoomOut, .pixelate]
        let exact = classifier.model.preprocessing
        var compared = 0
        for photo in photos {
            let image = try decoder.decode(photo, minimumShorterSide: exact.sourceShorterSide)
            let plan = ProbePlan(families: families.map(ProbeFamily.transform), expected: [], seed: 7)
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
                let summary = try #require(result.models[0].families.first { $0.family == .transform(family) })
                if ambiguous { continue }
                #expect(summary.firstFlip == firstFlip, "\(family.rawValue): probe \(summary.firstFlip?.label ?? "none"), alone \(firstFlip?.label ?? "none")")
                compared += 1
            }
        }
        #expect(compared >= 15, "compared \(compared) of 18 families")
    }

    @Test func sameSeedSameResultAndExpectedClassesJudgeFlips() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
        let plan = ProbePlan(families: [.transform(.noise), .transform(.invert)], expected: [0, 1], seed: 3)  // tench or goldfish
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
        let noise = try #require(first.models[0].families.first { $0.family == .transform(.noise) })
        #expect(noise.variants == 5 && noise.lowestExpectedProbability != nil)
        let reseeded = try Probe.run(image, plan: ProbePlan(families: [.transform(.noise)], expected: [0, 1], seed: 4), classifiers: [classifier], thumbnailSide: 64)
        #expect(reseeded.variants[1].thumbnail != first.variants[1].thumbnail, "another seed, other noise")
    }

    @Test func backgroundOnATexturedPhotoIsReportedNotApplicable() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        // Random texture everywhere: no near-uniform border.
        var generator = SplitMix64(seed: 5)
        let pixels = (0..<(300 * 240 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let image = RGBImage(width: 300, height: 240, pixels: pixels)
        let result = try Probe.run(image, plan: ProbePlan(families: [.transform(.background), .transform(.flip)]), classifiers: [classifier])
        let background = try #require(result.families.first { $0.family == .transform(.background) })
        #expect(background.notApplicable != nil)
        #expect(!result.variants.contains { $0.family == .transform(.background) } && result.variants.count == 3)
        #expect(result.models[0].families.first { $0.family == .transform(.background) }?.variants == 0)
    }

    /// ImageNet-C's families in a probe: the clean ImageNet-C crop is one variant before the first corruption, and each
    /// corrupted variant is exactly the corruption applied to that crop with the probe's seed and classified as `eval`
    /// classifies corrupted crops (`ImageNetCProtocol`): the same first class, probabilities within 1e-4 of a batch of one.
    @Test func imageNetCFamiliesCorruptTheCropAndAreClassifiedAsEvalClassifiesThem() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(2)?.last, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let image = try ImageDecoder().decode(photo, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
        let plan = ProbePlan(families: [.transform(.flip), .corruption(.fog), .corruption(.gaussianNoise), .transform(.grayscale)], seed: 5)
        var reported: [(Int, Int)] = []
        let result = try Probe.run(image, plan: plan, classifiers: [classifier], thumbnailSide: 64) { reported.append(($0, $1)) }
        #expect(result.variants.count == 1 + 2 + 1 + 10 + 1)
        #expect(reported.last.map { $0 == (15, 15) } == true, "progress ends at every variant: \(reported)")
        let crop = try #require(result.cropVariant, "a probe with corruptions classifies the clean crop")
        #expect(crop == 3 && result.variants[crop].family == nil && result.variants[crop].level == nil)
        #expect(result.variants[4].family == .corruption(.fog) && result.variants[14].family == .transform(.grayscale))
        #expect(result.families.map(\.family) == plan.families && result.families[1].levels.count == 5)

        let cut = ImageNetCProtocol.preprocessing(for: classifier.model.preprocessing)
        let cropped = Corruption.imageNetCrop(image)
        #expect(cropped.width == 224 && cropped.height == 224)
        func alone(_ picture: RGBImage) throws -> (index: Int, probability: Double) {
            let tensor = try cut.tensor(from: picture)
            let top = try classifier.classify(Tensor(shape: [1] + tensor.shape, scalars: tensor.scalars), top: 1)[0].predictions[0]
            return (top.index, top.probability)
        }
        let model = result.models[0]
        var checked = 0
        for variant in result.variants where variant.id == crop || variant.family?.corruption != nil {
            let picture = try variant.family?.corruption.map { corruption in
                try corruption.apply(to: cropped, severity: Int(try #require(variant.level).value), seed: plan.seed)
            } ?? cropped
            let expected = try alone(picture)
            let probed = model.outcomes[variant.id].top
            #expect(probed[0].index == expected.index, "variant \(variant.id)")
            #expect(abs(probed[0].probability - expected.probability) < 1e-4, "variant \(variant.id)")
            checked += 1
        }
        #expect(checked == 11)
        // The fog family's outcome is judged against the original, like every family's.
        let fog = try #require(model.families.first { $0.family == .corruption(.fog) })
        let fogFlips = (4 ... 8).count { model.outcomes[$0].flipped }
        #expect(fog.variants == 5 && fog.flipped == fogFlips)
        #expect(fog.firstFlip == (4 ... 8).first { model.outcomes[$0].flipped }.map { result.variants[$0].level })
        // Another seed draws other noise; the crop and the deterministic families stay.
        let reseeded = try Probe.run(image, plan: ProbePlan(families: plan.families, seed: 6), classifiers: [classifier], thumbnailSide: 64)
        #expect(reseeded.variants[9].thumbnail != result.variants[9].thumbnail, "gaussian noise depends on the seed")
        #expect(reseeded.variants[crop].thumbnail == result.variants[crop].thumbnail && reseeded.variants[1].thumbnail == result.variants[1].thumbnail)
        // The JSON names the family and the crop, and reads back.
        let json = try JSONEncoder().encode(result)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""family":"imagenet-c:fog""#) && text.contains(#""cropVariant":3"#))
        #expect(try JSONDecoder().decode(ProbeResult.self, from: json).families.map(\.family) == plan.families)
        // The sentence counts the 4 families; it ends on the crop only when the crop alone changes the answer.
        let sentence = result.sentence(for: model)
        #expect(sentence.contains("of 4 transformations"), "\(sentence)")
        #expect(sentence.contains("ImageNet-C's clean crop alone") == (model.outcomes[crop].flipped == model.originalHit), "\(sentence)")
        print("probe with ImageNet-C: \(sentence); crop → \(model.outcomes[crop].top[0].label)")
    }

    @Test func aProbeWithoutCorruptionsHasNoCrop() throws {
        let classifier = try #require(try RealModels.efficientnetLite0(), "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let photo = try #require(SamplePhotos.first(1)?.first, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let result = try Probe.run(try ImageDecoder().decode(photo), plan: ProbePlan(families: [.transform(.flip)]), classifiers: [classifier])
        #expect(result.cropVariant == nil && result.variants.count == 3)
        #expect(!String(decoding: try JSONEncoder().encode(result), as: UTF8.self).contains("cropVariant"))
    }
}
