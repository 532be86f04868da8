// The names a probe takes: Blindspot's 20 families and ImageNet-C's 19 corruptions as imagenet-c:NAME, lists with
// groups in the order given and each family once, refusals that list every name, and strict JSON.
import Foundation
import Testing
import Transforms

@Suite struct ProbeFamilyTests {
    @Test func everyFamilyHasOneNameThatReadsBack() throws {
        #expect(ProbeFamily.standard.count == 20 && ProbeFamily.all.count == 39)
        #expect(ProbeFamily.standard == TransformFamily.allCases.map(ProbeFamily.transform))
        for family in ProbeFamily.all {
            #expect(ProbeFamily(rawValue: family.rawValue) == family)
            #expect(!family.levels.isEmpty && !family.title.isEmpty && !family.summary.isEmpty)
        }
        #expect(ProbeFamily.corruption(.fog).rawValue == "imagenet-c:fog" && ProbeFamily.transform(.zoomOut).rawValue == "zoom-out")
        #expect(ProbeFamily.corruption(.fog).levels.map(\.label) == ["severity 1", "severity 2", "severity 3", "severity 4", "severity 5"])
        #expect(ProbeFamily.corruption(.fog).levels.map(\.value) == [1, 2, 3, 4, 5])
        #expect(ProbeFamily.corruption(.jpegCompression).title == "JPEG compression (ImageNet-C)")
        #expect(ProbeFamily.corruption(.jpegCompression).name == "JPEG compression" && ProbeFamily.transform(.rotate).title == "Rotation")
        #expect(ProbeFamily.corruption(.fog).summary.contains("224 × 224 crop"))
        #expect(ProbeFamily(rawValue: "imagenet-c:") == nil && ProbeFamily(rawValue: "fog") == nil && ProbeFamily(rawValue: "imagenet-c:rotate") == nil)
    }

    @Test func listsKeepTheirOrderExpandGroupsAndNameEachFamilyOnce() throws {
        #expect(try ProbeFamily.list("rotate, imagenet-c:fog,blur") == [.transform(.rotate), .corruption(.fog), .transform(.blur)])
        let common = try ProbeFamily.list("imagenet-c:fog,imagenet-c:common")
        #expect(common.count == 15 && common[0] == .corruption(.fog) && common[1] == .corruption(.gaussianNoise))
        #expect(try ProbeFamily.list("imagenet-c:held-out") == [.corruption(.speckleNoise), .corruption(.gaussianBlur), .corruption(.spatter), .corruption(.saturate)])
        #expect(try ProbeFamily.list("flip,IMAGENET-C:ALL,flip") == [.transform(.flip)] + Corruption.allCases.map(ProbeFamily.corruption))
        #expect(try ProbeFamily.list("Imagenet-C:Fog") == [.corruption(.fog)])
        #expect(try ProbeFamily.list("").isEmpty)
        for text in ["sideways", "imagenet-c:sideways", "imagenet-c", "fog", "rotate,imagenet-c:common:3"] {
            #expect(throws: UnknownFamily.self, "\(text)") { try ProbeFamily.list(text) }
        }
        let refusal = try #require(throws: UnknownFamily.self) { try ProbeFamily.list("rotate,fog") }
        #expect(refusal.name == "fog")
        #expect(refusal.description.contains("families: rotate, rotate-crop") && refusal.description.contains("imagenet-c:fog")
                && refusal.description.contains("the groups imagenet-c:all, imagenet-c:common, imagenet-c:held-out"))
    }

    @Test func jsonIsTheNameAndRefusesAnyOther() throws {
        let families: [ProbeFamily] = [.transform(.motionBlur), .corruption(.glassBlur)]
        let data = try JSONEncoder().encode(families)
        #expect(String(decoding: data, as: UTF8.self) == #"["motion-blur","imagenet-c:glass_blur"]"#)
        #expect(try JSONDecoder().decode([ProbeFamily].self, from: data) == families)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ProbeFamily].self, from: Data(#"["imagenet-c:ice"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ProbeFamily].self, from: Data(#"[{"transform":{"_0":"flip"}}]"#.utf8)) }
    }
}
