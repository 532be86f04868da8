// `--transform` texts for ImageNet-C (one severity, every severity, the 15, the 19, the clean crop) and their refusals;
// keys and descriptions; strict JSON that still reads the family/level form of older results files; ImageNet-C's cut,
// what each model does with it, and the seed of a file.
import Analysis
import Foundation
import Imaging
import Models
import Testing
import Transforms

@Suite struct EvaluationTransformTests {
    static func refusal(_ text: String) -> String {
        do {
            let parsed = try EvaluationTransform.parse(text)
            return "parsed as \(parsed.map(\.key))"
        } catch {
            return "\(error)"
        }
    }

    @Test func imageNetCTextsParse() throws {
        let fog3 = try EvaluationTransform.parse("imagenet-c:fog:3")
        #expect(fog3 == [.corruption(.fog, severity: 3)])
        #expect(fog3[0].key == "imagenet-c:fog:3" && fog3[0].description == "Fog, severity 3")
        #expect(try EvaluationTransform.parse("imagenet-c:fog").map(\.key) == (1...5).map { "imagenet-c:fog:\($0)" })
        let common = try EvaluationTransform.parse("imagenet-c:common")
        #expect(common.count == 75 && Set(common.compactMap { $0.corruption?.corruption }) == Set(Corruption.common))
        let heldOut = try EvaluationTransform.parse("imagenet-c:held-out")
        #expect(heldOut.count == 20 && Set(heldOut.compactMap { $0.corruption?.corruption }) == Set(Corruption.heldOut))
        let all = try EvaluationTransform.parse("imagenet-c:all")
        #expect(all.count == 95 && Set(all).count == 95)
        #expect(try EvaluationTransform.parse("imagenet-c:clean") == [.corruptionBaseline])
        #expect(EvaluationTransform.corruptionBaseline.key == "imagenet-c:clean")
        #expect(try EvaluationTransform.parse("imagenet-c:jpeg_compression:5")[0].description == "JPEG compression, severity 5")
        #expect(EvaluationTransform.robustnessCard.count == 96 && EvaluationTransform.robustnessCard.first == .corruptionBaseline)
    }

    @Test func blindspotsFamiliesParseAsBefore() throws {
        let blur = try EvaluationTransform.parse("blur:2")
        #expect(blur.count == 1 && blur[0].key == "blur:2" && blur[0].description == "Defocus blur σ 2" && !blur[0].isCorruption)
        #expect(try EvaluationTransform.parse("rotate:all").count == 23)
    }

    @Test func badImageNetCTextsAreRefusedSayingWhy() {
        #expect(Self.refusal("imagenet-c:fog:7").contains("severities are 1 to 5, not '7'"))
        #expect(Self.refusal("imagenet-c:fog:0").contains("1 to 5"))
        #expect(Self.refusal("imagenet-c:rain:2").contains("'rain' is not one of ImageNet-C's corruptions")
            && Self.refusal("imagenet-c:rain:2").contains("gaussian_noise"))
        #expect(Self.refusal("imagenet-c").contains("imagenet-c:CORRUPTION:SEVERITY"))
        #expect(Self.refusal("imagenet-c:common:2").contains("takes no severity"))
        #expect(Self.refusal("imagenet-c:held-out:1").contains("takes no severity") && Self.refusal("imagenet-c:x").contains("held-out (the 4)"))
        #expect(Self.refusal("imagenet-c:fog:3:1").contains("imagenet-c:CORRUPTION:SEVERITY"))
        #expect(Self.refusal("fog:3").contains("imagenet-c:CORRUPTION"), "a corruption without its prefix names the way to write it")
    }

    static func decode(_ json: String) throws -> EvaluationTransform {
        try JSONDecoder().decode(EvaluationTransform.self, from: Data(json.utf8))
    }

    @Test func jsonRoundTripsAndIsStrict() throws {
        for transform in try EvaluationTransform.parse("imagenet-c:all") + [.corruptionBaseline] + EvaluationTransform.parse("blur:all") {
            #expect(try JSONDecoder().decode(EvaluationTransform.self, from: JSONEncoder().encode(transform)) == transform)
        }
        let fog = String(decoding: try JSONEncoder().encode(EvaluationTransform.corruption(.fog, severity: 3)), as: UTF8.self)
        #expect(fog.contains("\"corruption\":\"fog\"") && fog.contains("\"severity\":3"))
        // The form every results file before ImageNet-C wrote.
        #expect(try Self.decode(#"{"family":"blur","level":{"value":2,"label":"σ 2"}}"#).key == "blur:2")
        #expect(throws: DecodingError.self) { try Self.decode(#"{"family":"blur","level":{"value":7,"label":"σ 7"}}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"corruption":"rain","severity":3}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"corruption":"fog","severity":7}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"corruption":"fog"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"corruption":"clean","severity":1}"#) }
        #expect(try Self.decode(#"{"corruption":"clean"}"#) == .corruptionBaseline)
    }

    /// FNV-1a 64 of the UTF-8 path: the empty string is the offset basis; "a" is (basis ^ 0x61) × prime mod 2^64,
    /// 0xaf63dc4c8601ec8c (the published test vector).
    @Test func aFilesSeedIsFNV1aOfItsPath() {
        #expect(Corruption.seed(forImageNamed: "") == 0xcbf2_9ce4_8422_2325)
        #expect(Corruption.seed(forImageNamed: "a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Corruption.seed(forImageNamed: "n01440764/a.JPEG") != Corruption.seed(forImageNamed: "n01440764/b.JPEG"))
    }

    /// The cut is 224 × 224 whatever the photo; a 224 model gets only its normalisation, Inception v3 and EfficientNet-Lite2
    /// a bilinear resize to 299 and 260 first.
    @Test func theCutAndEachModelsPreprocessingOfIt() throws {
        let photo = RGBImage(width: 400, height: 300, pixels: (0..<(400 * 300 * 3)).map { UInt8($0 % 251) })
        let cut = Corruption.imageNetCrop(photo)
        #expect(cut.width == 224 && cut.height == 224)
        let zoo = ModelZoo.standard
        let lite0 = try #require(zoo.model(named: "efficientnet_lite0")).preprocessing
        #expect(ImageNetCProtocol.preprocessing(for: lite0) == lite0.withoutResizing())
        for (name, side) in [("inception_v3", 299), ("efficientnet_lite2", 260)] {
            let own = try #require(zoo.model(named: name)).preprocessing
            let fed = ImageNetCProtocol.preprocessing(for: own)
            #expect(fed.geometry == .resizeShorterSideThenCenterCrop(resize: side, crop: side, filter: .bilinear) && fed.normalization == own.normalization)
            #expect(try fed.inputImage(from: cut) == cut.resized(width: side, height: side, filter: .bilinear), "\(name)")
        }
    }
}
