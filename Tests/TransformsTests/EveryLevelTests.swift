// Checks run on every family at every level: the level tables, the output size, determinism, and that each
// level changes the picture. Family-specific properties are in PropertyTests.swift.
import Imaging
import Testing
import Transforms

struct EveryLevelTests {
    @Test func levelTablesAreNamedAndNeverEmpty() {
        for family in TransformFamily.allCases {
            #expect(!family.levels.isEmpty, "\(family)")
            #expect(Set(family.levels.map(\.label)).count == family.levels.count, "\(family) labels repeat")
            #expect(Set(family.levels.map(\.value)).count == family.levels.count, "\(family) values repeat")
            #expect(!family.title.isEmpty && family.summary.hasSuffix("."), "\(family)")
            #expect(TransformFamily(rawValue: family.rawValue) == family)
        }
        #expect(TransformFamily.rotate.levels.count == 23)
        #expect(TransformFamily.rotate.levels.first == TransformLevel(value: 15, label: "15°"))
        #expect(TransformFamily.hue.levels.map(\.label) == ["+30°", "+60°", "+90°", "+120°", "+180°"])
        #expect(TransformFamily.darken.levels.first?.label == "×0.7")
        #expect(TransformFamily.blur.levels.map(\.label) == ["σ 1", "σ 2", "σ 3", "σ 4.5", "σ 6"])
        #expect(TransformFamily.posterize.levels[2].label == "8 levels")
        #expect(TransformFamily.crop.levels.map(\.label) == ["80%", "65%", "50%", "35%", "25%"])
        #expect(TransformFamily.background.levels.map(\.label) == ["white", "black", "green", "blue"])
        #expect(TransformFamily(rawValue: "motion-blur") == .motionBlur && TransformFamily(rawValue: "zoom-out") == .zoomOut)
    }

    @Test(arguments: TransformFamily.allCases)
    func sizeDeterminismAndChange(family: TransformFamily) throws {
        let image = TestPictures.synthetic
        let applicableImage = family == .background ? TestPictures.discOnWhite : image
        for level in family.levels {
            let first = try family.apply(to: applicableImage, level: level, seed: 7)
            let second = try family.apply(to: applicableImage, level: level, seed: 7)
            #expect(first == second, "\(family) \(level.label) is not deterministic")
            #expect(first != applicableImage, "\(family) \(level.label) left the image unchanged")
            if family != .rotate {
                #expect(first.width == applicableImage.width && first.height == applicableImage.height,
                        "\(family) \(level.label) gave \(first.width)×\(first.height)")
            }
        }
        if family == .background {
            for level in family.levels {
                #expect(throws: TransformError.self) { try family.apply(to: image, level: level) }
            }
        }
    }

    @Test(arguments: [(1, 1), (3, 2), (2, 9)])
    func tinyImagesGiveValidOutputs(width: Int, height: Int) throws {
        let tiny = TestPictures.make(width: width, height: height) { x, y, noise in [x * 80 + noise, y * 30, 200] }
        for family in TransformFamily.allCases {
            for level in family.levels {
                do {
                    let output = try family.apply(to: tiny, level: level)
                    if family != .rotate {
                        #expect(output.width == width && output.height == height, "\(family) \(level.label)")
                    }
                } catch TransformError.notApplicable {
                    #expect(family == .background)
                }
            }
        }
    }
}
