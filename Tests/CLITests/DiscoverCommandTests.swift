// `blindspot discover` on a folder with planted answers, made from ../shared/imagenet-sample (four mild crops of each
// photo): blurred dogs must come out as a confirmed slice, and relabelled photos as suspect labels.
import Foundation
import Imaging
import Models
import TestSupport
import Testing
import Transforms

struct DiscoverResults: Decodable {
    struct Model: Decodable {
        let model: String
        let errorRate: Double
        let slices: [Slice]
        let suspectLabels: [Suspect]
    }

    struct Slice: Decodable {
        struct Numbers: Decodable { let size: Int; let errorRate: Double; let lift: Double; let liftCI: [Double] }
        let id: String
        let description: String
        let members: [String]
        struct Intervention: Decodable { let family: String; let causes: Bool; let flipRate: Double; let controlFlipRate: Double }
        let heldOut: Numbers
        let confirmed: Bool
        let intervention: Intervention?
    }

    struct Suspect: Decodable { let file: String; let label: String; let predicted: String }

    let images: Int
    let models: [Model]
}

@Suite(.serialized) struct DiscoverCommandTests {
    static let labels = try! ImageNetLabels.bundled()

    /// An ImageFolder of four crops (the whole photo and three 90% windows) of every sample photo, the dogs blurred
    /// (the blur family's strongest level, σ 6, which efficientnet_lite0 does not withstand); photos in `relabel` filed
    /// under the class 500 further on.
    static func plantedFolder(relabel: Set<String> = []) throws -> URL {
        let source = SharedData.url("imagenet-sample")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-discover-\(UUID().uuidString)")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path).sorted() {
            let wordNetID = String(name.prefix { $0 != "_" })
            let label = try #require(labels.index(ofWordNetID: wordNetID))
            var image = try ImageDecoder().decode(Data(contentsOf: source.appendingPathComponent(name)))
            if labels[label].ancestors.contains("dog") {
                image = try TransformFamily.blur.apply(to: image, level: try #require(TransformFamily.blur.levels.last))
            }
            let filed = relabel.contains(name) ? labels[(label + 500) % 1000].wordNetID : wordNetID
            let classFolder = folder.appendingPathComponent(filed)
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            let (width, height) = (image.width * 9 / 10, image.height * 9 / 10)
            let windows = [PixelRectangle(x: 0, y: 0, width: image.width, height: image.height),
                           PixelRectangle(x: 0, y: 0, width: width, height: height),
                           PixelRectangle(x: image.width - width, y: 0, width: width, height: height),
                           PixelRectangle(x: (image.width - width) / 2, y: image.height - height, width: width, height: height)]
            for (number, window) in windows.enumerated() {
                try image.cropped(to: window).jpegData(quality: 92)
                    .write(to: classFolder.appendingPathComponent("\(name.dropLast(5))-\(number).jpg"))
            }
        }
        return folder
    }

    static func discover(_ folder: URL, _ arguments: [String] = []) async throws -> DiscoverResults {
        let out = folder.appendingPathExtension("json")
        let run = try await BlindspotBinary.run(["discover", folder.path, "--model", "efficientnet_lite0", "--seed", "1", "--out", out.path]
                                                    + arguments, timeout: 900)
        print(run.output)
        #expect(run.status == 0, "\(run.errors)")
        #expect(FileManager.default.fileExists(atPath: out.deletingPathExtension().path + ".embeddings.safetensors"))
        return try JSONDecoder().decode(DiscoverResults.self, from: Data(contentsOf: out))
    }

    @Test func blurredDogsAreAConfirmedSliceAndRelabelledPhotosAreSuspect() async throws {
        try #require(CachedWeights.url("efficientnet-lite0-57934424.pth") != nil, "efficientnet_lite0's weights are in the cache (make test fetches them)")
        try #require(SharedData.has("imagenet-sample"), "../shared is present (BLINDSPOT_SHARED)")
        // The ten photos (dogs aside) the model is surest of, and right about, filed under wrong classes.
        let relabel = try await Self.surestRightPhotos(10)
        let folder = try Self.plantedFolder(relabel: relabel)
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = try await Self.discover(folder)
        let model = try #require(results.models.first)
        #expect(results.images == 400)
        // Members are "WNID/PHOTO-N.jpg"; a dog is known by its photo's own WordNet id, whatever folder it is filed in.
        let dogs = Set(try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { path in
            let photo = URL(fileURLWithPath: path).lastPathComponent
            return path.hasSuffix(".jpg") && (Self.labels.index(ofWordNetID: String(photo.prefix { $0 != "_" }))
                .map { Self.labels[$0].ancestors.contains("dog") } ?? false)
        })
        #expect(dogs.count == 44)
        let covering = model.slices.prefix(3).first { slice in
            let members = Set(slice.members)
            let shared = Double(members.intersection(dogs).count)
            return slice.confirmed && shared / Double(max(members.count, 1)) >= 0.7 && shared / Double(dogs.count) >= 0.6
        }
        #expect(covering != nil, "a confirmed slice of the blurred dogs in the top three: \(model.slices.map { "\($0.description) \($0.confirmed)" })")
        // Moving correct images to a confirmed slice's sharpness (blurring them) flips them: the planted family is named.
        let blur = model.slices.first { $0.confirmed && $0.intervention?.family == "blur" && $0.intervention?.causes == true }
        #expect(blur != nil, "an intervention that names blur: \(model.slices.map { "\($0.id) \(String(describing: $0.intervention))" })")
        #expect(model.slices.allSatisfy { slice in slice.intervention.map { !$0.causes || $0.flipRate > $0.controlFlipRate } ?? true })
        // The features find them too: a confirmed cluster made mostly of the blurred dogs.
        let cluster = model.slices.first { slice in
            slice.id.hasPrefix("e") && slice.confirmed && Double(Set(slice.members).intersection(dogs).count) / Double(slice.members.count) >= 0.7
        }
        #expect(cluster != nil, "a confirmed embedding slice of the blurred dogs: \(model.slices.map { "\($0.id) \($0.description) \($0.confirmed)" })")
        // Its members are less sharp than most of the folder, so blurring correct images is tried, and flips them.
        #expect(cluster?.intervention?.family == "blur" && cluster?.intervention?.causes == true, "\(String(describing: cluster?.intervention))")
        let suspects = model.suspectLabels.map(\.file)
        let planted = relabel.filter { photo in suspects.contains { $0.contains(photo.dropLast(5) + "-") } }
        print("planted label errors found: \(planted.count) of \(relabel.count); suspects: \(suspects.count)")
        #expect(planted.count >= 7, "\(model.suspectLabels.map { "\($0.file): \($0.label) → \($0.predicted)" })")
    }

    /// Killed once three chunks are on disk and run again with --resume, discover writes the same results and the same
    /// embeddings as a run left alone; without --resume, the leftover progress is an error, not overwritten.
    @Test func aKilledRunResumedEqualsAnUninterruptedOne() async throws {
        try #require(CachedWeights.url("efficientnet-lite0-57934424.pth") != nil, "efficientnet_lite0's weights are in the cache (make test fetches them)")
        try #require(SharedData.has("imagenet-sample"), "../shared is present (BLINDSPOT_SHARED)")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let (whole, resumed) = (work.appendingPathComponent("whole.json"), work.appendingPathComponent("resumed.json"))
        let arguments = ["discover", SharedData.url("imagenet-sample").path, "--model", "efficientnet_lite0", "--min-size", "5", "--seed", "2"]
        let alone = try await BlindspotBinary.run(arguments + ["--out", whole.path], timeout: 900)
        #expect(alone.status == 0, "\(alone.errors)")

        let chunks = resumed.path + ".progress/chunks.jsonl"
        #expect(try await BlindspotBinary.killed(arguments + ["--out", resumed.path], once: chunks, has: 3), "killed before it finished")
        let kept = BlindspotBinary.lineCount(chunks)
        #expect(kept >= 3 && kept < 13, "killed with \(kept) of 13 chunks kept")

        let again = try await BlindspotBinary.run(arguments + ["--out", resumed.path])
        #expect(again.status != 0 && again.errors.contains("--resume"), "a leftover progress is not silently overwritten: \(again.errors)")
        let other = try await BlindspotBinary.run(arguments + ["--out", resumed.path, "--resume", "--batch", "4"])
        #expect(other.status != 0 && other.errors.contains("--batch 8"), "a resume with other chunks is refused: \(other.errors)")
        let finished = try await BlindspotBinary.run(arguments + ["--out", resumed.path, "--resume"], timeout: 900)
        #expect(finished.status == 0, "\(finished.errors)")
        #expect(!FileManager.default.fileExists(atPath: resumed.path + ".progress"), "the progress goes once the results are written")
        #expect(try Data(contentsOf: whole) == Data(contentsOf: resumed), "the same results, byte for byte")
        let embeddings = { (url: URL) in try Data(contentsOf: url.deletingPathExtension().appendingPathExtension("embeddings.safetensors")) }
        let features = try embeddings(whole)
        #expect(try features == embeddings(resumed), "the same features, row for row")
        // One [100, 1280] Float32 tensor: efficientnet_lite0's penultimate features of the 100 photos.
        let headerLength = features.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: features.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let tensor = try #require(header["efficientnet_lite0"] as? [String: Any])
        #expect(tensor["shape"] as? [Int] == [100, 1280] && tensor["dtype"] as? String == "F32")
        #expect(features.count == 8 + headerLength + 100 * 1280 * 4)
    }

    /// The `count` sample photos, dogs aside, that efficientnet_lite0 classifies right with the highest probability.
    static func surestRightPhotos(_ count: Int) async throws -> Set<String> {
        struct Line: Decodable {
            struct Prediction: Decodable { let index: Int; let probability: Double }
            let file: String
            let predictions: [Prediction]
        }
        let run = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--json", "--top", "1", SharedData.url("imagenet-sample").path])
        try #require(run.status == 0, "\(run.errors)")
        let right = try run.output.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }.compactMap { line -> (String, Double)? in
            let name = URL(fileURLWithPath: line.file).lastPathComponent
            guard let label = labels.index(ofWordNetID: String(name.prefix { $0 != "_" })), !labels[label].ancestors.contains("dog"),
                  let best = line.predictions.first, best.index == label else { return nil }
            return (name, best.probability)
        }
        return Set(right.sorted { $0.1 > $1.1 }.prefix(count).map(\.0))
    }
}
