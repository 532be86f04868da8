// What each family must do to pixels: exact geometry (quarter turns, flips), colour invariants (grey stays grey,
// equal channels), severities that order their effect, and the background family's acceptance rule.
import Imaging
import Testing
import Transforms

struct PropertyTests {
    let image = TestPictures.synthetic

    private func apply(_ family: TransformFamily, _ value: Double, to image: RGBImage? = nil, seed: UInt64 = 0) throws -> RGBImage {
        let level = try #require(family.levels.first { $0.value == value }, "\(family) has no level \(value)")
        return try family.apply(to: image ?? self.image, level: level, seed: seed)
    }

    private func applyEveryLevel(_ family: TransformFamily, to image: RGBImage? = nil) throws -> [RGBImage] {
        try family.levels.map { try apply(family, $0.value, to: image) }
    }

    // MARK: Geometry

    @Test func quarterTurnsAreExactAndClockwise() throws {
        let turned = try apply(.rotate, 90)
        #expect(turned.width == image.height && turned.height == image.width)
        // Clockwise: the top-left pixel goes to the top-right corner.
        #expect(turned.pixel(x: image.height - 1, y: 0) == image.pixel(x: 0, y: 0))
        #expect(try apply(.rotate, 90, to: apply(.rotate, 90, to: apply(.rotate, 90, to: turned))) == image)
        #expect(try apply(.rotate, 180, to: apply(.rotate, 180)) == image)
        #expect(try apply(.rotate, 270, to: turned) == image)
    }

    @Test func otherAnglesFillTheCornersWithGrey() throws {
        let turned = try apply(.rotate, 30)
        // Bounding box of a 300×200 rectangle turned by 30°: 300 cos + 200 sin, 300 sin + 200 cos.
        #expect(turned.width == 360 && turned.height == 324)
        for (x, y) in [(0, 0), (turned.width - 1, 0), (0, turned.height - 1), (turned.width - 1, turned.height - 1)] {
            #expect(turned.pixel(x: x, y: y) == [128, 128, 128])
        }
        // The centre stays at the centre.
        let centre = turned.pixel(x: turned.width / 2, y: turned.height / 2), original = image.pixel(x: 150, y: 100)
        #expect(zip(centre, original).allSatisfy { abs(Int($0) - Int($1)) <= 24 }, "\(centre) vs \(original)")
    }

    @Test func rotateCropShowsNoFill() throws {
        let flat = TestPictures.flat(width: 300, height: 200, colour: [200, 30, 60])
        for level in TransformFamily.rotateCrop.levels {
            let turned = try TransformFamily.rotateCrop.apply(to: flat, level: level)
            let worst = zip(turned.pixels, flat.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 1, "\(level.label): a value is \(worst) away from the flat colour")
        }
        #expect(try apply(.rotateCrop, 180) == apply(.rotate, 180))
        // A quarter turn of a 300×200 image keeps the largest 3:2 rectangle inside the 200×300 picture.
        let quarter = try apply(.rotateCrop, 90, to: TestPictures.smooth)
        #expect(quarter.width == 300 && quarter.height == 200)
    }

    @Test func flipsMirrorExactly() throws {
        let mirrored = try apply(.flip, 1)
        #expect(try apply(.flip, 1, to: mirrored) == image)
        for (x, y) in [(0, 0), (17, 33), (299, 199), (150, 100)] {
            #expect(mirrored.pixel(x: image.width - 1 - x, y: y) == image.pixel(x: x, y: y))
        }
        let upsideDown = try apply(.flip, 2)
        #expect(upsideDown.pixel(x: 17, y: image.height - 1 - 33) == image.pixel(x: 17, y: 33))
        #expect(try apply(.flip, 2, to: upsideDown) == image)
    }

    @Test func cropKeepsTheCentre() throws {
        let smooth = TestPictures.smooth
        for output in try applyEveryLevel(.crop, to: smooth) {
            let centre = output.pixel(x: 150, y: 100), original = smooth.pixel(x: 150, y: 100)
            #expect(zip(centre, original).allSatisfy { abs(Int($0) - Int($1)) <= 3 }, "\(centre) vs \(original)")
        }
        // Stronger crops magnify more: the red ramp across the output gets steeper.
        let spans = try applyEveryLevel(.crop, to: smooth).map { Int($0.pixel(x: 299, y: 100)[0]) - Int($0.pixel(x: 0, y: 100)[0]) }
        #expect(spans == spans.sorted(by: >), "\(spans)")
    }

    @Test func zoomOutLeavesGreyCorners() throws {
        for (level, output) in zip(TransformFamily.zoomOut.levels, try applyEveryLevel(.zoomOut)) {
            for (x, y) in [(0, 0), (299, 0), (0, 199), (299, 199)] {
                #expect(output.pixel(x: x, y: y) == [128, 128, 128], "\(level.label) at (\(x), \(y))")
            }
            #expect(output.pixel(x: 150, y: 100) != [128, 128, 128])
        }
    }

    // MARK: Colour

    @Test func grayscaleHasEqualChannelsAndInvertIsItsOwnInverse() throws {
        #expect(try apply(.grayscale, 1).channelsAreEqual)
        let negative = try apply(.invert, 1)
        #expect(negative.pixel(x: 10, y: 10) == image.pixel(x: 10, y: 10).map { 255 - $0 })
        #expect(try apply(.invert, 1, to: negative) == image)
    }

    @Test func hueKeepsGreysAndRoughlyKeepsLuma() throws {
        let greys = TestPictures.make(width: 256, height: 4) { x, _, _ in [x, x, x] }
        for (level, output) in zip(TransformFamily.hue.levels, try applyEveryLevel(.hue, to: greys)) {
            let worst = zip(output.pixels, greys.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 2, "\(level.label) moves a grey by \(worst)")
        }
        for (level, output) in zip(TransformFamily.hue.levels, try applyEveryLevel(.hue)) {
            var total = 0.0
            for y in stride(from: 0, to: image.height, by: 5) {
                for x in stride(from: 0, to: image.width, by: 5) {
                    total += abs(output.luma(x: x, y: y) - image.luma(x: x, y: y))
                }
            }
            let meanDifference = total / Double((image.width / 5) * (image.height / 5))
            #expect(meanDifference < 20, "\(level.label) changes luma by \(meanDifference) on average")
            #expect(output.meanAbsoluteDifference(from: image) > 10, "\(level.label) barely changes colours")
        }
    }

    @Test func darkenAndBrightenMoveTheMeanInOrder() throws {
        let darker = try applyEveryLevel(.darken).map { $0.mean() }
        #expect(darker.allSatisfy { $0 < image.mean() } && darker == darker.sorted(by: >), "\(darker)")
        let brighter = try applyEveryLevel(.brighten).map { $0.mean() }
        #expect(brighter.allSatisfy { $0 > image.mean() } && brighter == brighter.sorted(), "\(brighter)")
        // Rounded, not truncated: 0.5 × 101 = 50.5 becomes 51.
        let odd = TestPictures.flat(width: 4, height: 4, colour: [101, 3, 255])
        #expect(try apply(.darken, 0.5, to: odd).pixel(x: 0, y: 0) == [51, 2, 128])
    }

    @Test func contrastLowersTheSpreadInOrderAndKeepsTheMean() throws {
        let outputs = try applyEveryLevel(.contrast)
        let spreads = outputs.map { $0.standardDeviation() }
        #expect(spreads.allSatisfy { $0 < image.standardDeviation() } && spreads == spreads.sorted(by: >), "\(spreads)")
        for output in outputs {
            #expect(abs(output.mean() - image.mean()) < 1)
        }
    }

    @Test func posterizeLeavesAtMostNValuesPerChannel() throws {
        for level in TransformFamily.posterize.levels {
            let output = try TransformFamily.posterize.apply(to: image, level: level)
            for channel in 0 ..< 3 {
                #expect(output.distinctValues(channel: channel) <= Int(level.value), "\(level.label), channel \(channel)")
            }
        }
        #expect(Set(try apply(.posterize, 2).pixels) == [0, 255])
    }

    // MARK: Degradation

    @Test func blurRemovesMoreDetailAtEachLevel() throws {
        let energies = try applyEveryLevel(.blur).map(\.highFrequencyEnergy)
        #expect(energies.allSatisfy { $0 < image.highFrequencyEnergy } && energies == energies.sorted(by: >), "\(energies)")
        // A flat picture stays flat, even at its edges.
        let flat = TestPictures.flat(width: 64, height: 48, colour: [200, 100, 7])
        #expect(try apply(.blur, 6, to: flat) == flat)
    }

    @Test func motionBlurSmoothsAlongRowsMoreThanAcrossThem() throws {
        let (horizontal, vertical) = (image.neighbourEnergy(dx: 1, dy: 0), image.neighbourEnergy(dx: 0, dy: 1))
        var previous = Double.infinity
        for (level, output) in zip(TransformFamily.motionBlur.levels, try applyEveryLevel(.motionBlur)) {
            let alongRows = output.neighbourEnergy(dx: 1, dy: 0) / horizontal
            let acrossRows = output.neighbourEnergy(dx: 0, dy: 1) / vertical
            #expect(alongRows < acrossRows, "\(level.label): rows kept \(alongRows), columns \(acrossRows)")
            #expect(alongRows < previous, "\(level.label) is not stronger than the level before")
            previous = alongRows
        }
        let flat = TestPictures.flat(width: 64, height: 48, colour: [200, 100, 7])
        #expect(try apply(.motionBlur, 25, to: flat) == flat, "edges must be extended, not darkened")
    }

    @Test func noiseGrowsWithSigmaAndFollowsTheSeed() throws {
        let differences = try TransformFamily.noise.levels.map { try apply(.noise, $0.value, seed: 1).meanAbsoluteDifference(from: image) }
        #expect(differences == differences.sorted() && differences[0] > 3, "\(differences)")
        #expect(try apply(.noise, 16, seed: 1) != apply(.noise, 16, seed: 2))
        #expect(try apply(.noise, 16, seed: 1) == apply(.noise, 16, seed: 1))
        // Each level draws other numbers: the noise of σ 16 is not twice that of σ 8.
        let grey = TestPictures.flat(width: 40, height: 30, colour: [128, 128, 128])
        let small = try apply(.noise, 8, to: grey, seed: 3).pixels.map { Int($0) - 128 }
        let large = try apply(.noise, 16, to: grey, seed: 3).pixels.map { Int($0) - 128 }
        #expect(zip(small, large).filter { abs($0 * 2 - $1) > 1 }.count > small.count / 2)
    }

    @Test func jpegErrorGrowsAsQualityFalls() throws {
        var pictures = [image]
        if let photo = try TestPictures.photo() { pictures.append(photo) }
        for picture in pictures {
            let errors = try applyEveryLevel(.jpeg, to: picture).map { $0.meanAbsoluteDifference(from: picture) }
            #expect(errors == errors.sorted() && errors[0] > 0, "\(errors)")
        }
    }

    @Test func pixelateMakesEveryBlockConstant() throws {
        for level in TransformFamily.pixelate.levels {
            let output = try TransformFamily.pixelate.apply(to: image, level: level)
            // The block side: the level in pixels of a 224-pixel shorter side, scaled to this one (200), at least 2.
            let block = max(2, Int((level.value * 200 / 224).rounded()))
            for top in stride(from: 0, to: image.height, by: block) {
                for left in stride(from: 0, to: image.width, by: block) {
                    let first = output.pixel(x: left, y: top)
                    let constant = (top ..< min(top + block, image.height)).allSatisfy { y in
                        (left ..< min(left + block, image.width)).allSatisfy { output.pixel(x: $0, y: y) == first }
                    }
                    #expect(constant, "\(level.label): block at (\(left), \(top)) is not constant")
                }
            }
        }
    }

    // MARK: Rendering

    @Test func cartoonFlattensColours() throws {
        let source = try TestPictures.photo() ?? image
        for (level, output) in zip(TransformFamily.cartoon.levels, try applyEveryLevel(.cartoon, to: source)) {
            #expect(output.distinctColours * 4 < source.distinctColours,
                    "\(level.label): \(output.distinctColours) colours of \(source.distinctColours)")
            #expect(output.highFrequencyEnergy > 0)
        }
    }

    @Test func sketchIsGreyPencilOnWhitePaper() throws {
        for colour: [UInt8] in [[0, 0, 0], [90, 140, 200], [255, 255, 255]] {
            let flat = TestPictures.flat(width: 80, height: 60, colour: colour)
            #expect(Set(try apply(.sketch, 1, to: flat).pixels) == [255], "\(colour)")
        }
        let source = try TestPictures.photo() ?? image
        let sketch = try apply(.sketch, 1, to: source)
        #expect(sketch.channelsAreEqual)
        // Mostly paper, with some dark strokes.
        #expect(sketch.mean() > 200)
        #expect(sketch.pixels.contains { $0 < 100 })
    }

    // MARK: Background

    @Test func plainBackgroundIsReplacedAndTheSubjectKept() throws {
        let disc = TestPictures.discOnWhite
        for level in TransformFamily.background.levels {
            let output = try TransformFamily.background.apply(to: disc, level: level)
            let colour = output.pixel(x: 0, y: 0)
            #expect(colour == ["white": [255, 255, 255], "black": [0, 0, 0], "green": [0, 177, 64], "blue": [0, 71, 187]][level.label])
            // Everything outside the disc (with a 2-pixel band) is the new colour; everything inside is untouched.
            for y in 0 ..< disc.height {
                for x in 0 ..< disc.width {
                    let distanceSquared = (x - 120) * (x - 120) + (y - 90) * (y - 90)
                    if distanceSquared > 52 * 52 {
                        #expect(output.pixel(x: x, y: y) == colour, "(\(x), \(y)) is background")
                    } else if distanceSquared < 48 * 48 {
                        #expect(output.pixel(x: x, y: y) == disc.pixel(x: x, y: y), "(\(x), \(y)) is the disc")
                    }
                }
            }
        }
    }

    @Test func texturedBorderIsNotApplicable() throws {
        do {
            _ = try apply(.background, 1)
            Issue.record("a textured border was accepted")
        } catch let TransformError.notApplicable(family, reason) {
            #expect(family == .background)
            #expect(reason.contains("% of its outer"), "\(reason)")
        }
        let error = TransformError.notApplicable(family: .background, reason: "why")
        #expect(error.description == "Background swap does not apply to this image: why")
    }
}
