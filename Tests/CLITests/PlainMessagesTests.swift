// What `blindspot` says when a user gets something wrong, checked by exit status and exact text: a missing file, a
// folder where one image belongs, a folder without images, an output that cannot be written (said before any
// work), a mistyped subcommand, an empty catalog to report, examples that cannot be found, a photo over the limit.
import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct PlainMessagesTests {
    /// Runs `arguments` in a hostile folder (no models, no shared data) that also holds an empty folder and one of text files.
    static func run(_ arguments: [String], in folder: HostileFolder) async throws -> CommandResult {
        try await BlindspotBinary.run(arguments, environment: folder.environment, directory: folder.url, timeout: 30)
    }

    static func makeFolder() throws -> HostileFolder {
        let folder = try HostileFolder()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("texts"), withIntermediateDirectories: true)
        try Data("notes\n".utf8).write(to: folder.url.appendingPathComponent("texts/a.txt"))
        return folder
    }

    static let noImages = "(looked for .jpg, .jpeg, .png, .webp, .gif)"

    @Test(arguments: [
        (["classify", "nope.jpg"], 1, "error: nope.jpg: no such file\n"),
        (["probe", "folder"], 1, "error: folder is a folder; probe takes one image file\n"),
        (["explain", "folder", "--out", "x.png"], 1, "error: folder is a folder; explain takes one image file\n"),
        (["classify", "folder"], 1, "error: no images in folder \(noImages)\n"),
        (["classify", "texts"], 1, "error: no images in texts \(noImages)\n"),
        (["eval", "texts"], 1, "error: no images in texts \(noImages)\n"),
        (["explain", "garbage.jpg", "--out", "/nonexistent-blindspot/x.png"], 1,
         "error: cannot write /nonexistent-blindspot/x.png: the folder /nonexistent-blindspot does not exist\n"),
        (["probe", "garbage.jpg", "--html", "missing-folder/p.html"], 1, "error: cannot write missing-folder/p.html: the folder missing-folder does not exist\n"),
        (["eval", "folder", "--out", "missing-folder/e.csv"], 1, "error: cannot write missing-folder/e.csv: the folder missing-folder does not exist\n"),
        (["catalog", "export", "missing-folder/c.zip"], 1, "error: cannot write missing-folder/c.zip: the folder missing-folder does not exist\n"),
        (["report", "--out", "garbage.jpg/r", "--eval", "missing.json"], 1, "error: cannot write garbage.jpg/r: garbage.jpg is a regular file, not a folder\n"),
        (["classfy", "x"], 2, "Error: unknown command 'classfy'; did you mean 'classify'?\n"),
        (["catalog", "imprt", "x.zip"], 2, "Error: unknown command 'catalog imprt'; did you mean 'catalog import'?\n"),
        (["models", "lst"], 2, "Error: unknown command 'models lst'; did you mean 'models list'?\n"),
    ] as [([String], Int32, String)])
    func eachMistakeHasItsStatusAndMessage(arguments: [String], status: Int32, message: String) async throws {
        let folder = try Self.makeFolder()
        defer { folder.remove() }
        let result = try await Self.run(arguments, in: folder)
        #expect(result.status == status, "\(arguments): \(result.errors)")
        #expect(result.errors == message, "\(arguments)")
    }

    @Test func anEmptyCatalogIsNotReported() async throws {
        let folder = try Self.makeFolder()
        defer { folder.remove() }
        let result = try await Self.run(["report", "--out", "r"], in: folder)
        #expect(result.status == 1)
        #expect(result.errors.hasPrefix("error: the catalog has no approved blind spots; nothing to report"), "\(result.errors)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("r").path), "no empty report is written")
    }

    /// From a folder with no shared data beside it and an executable outside any repository, import-examples says
    /// every place it looked and how to point at the examples, without the usage.
    @Test func importExamplesSaysWhereItLooked() async throws {
        let folder = try Self.makeFolder()
        defer { folder.remove() }
        let executable = folder.url.appendingPathComponent("blindspot")
        try FileManager.default.linkItem(at: BlindspotBinary.url, to: executable)
        let result = try await BlindspotBinary.run(["catalog", "import-examples"], environment: folder.environment, executable: executable,
                                                   directory: folder.url, timeout: 30)
        #expect(result.status == 1)
        let shared = folder.url.appendingPathComponent("no-shared/seed-examples").path
        let beside = folder.url.deletingLastPathComponent().appendingPathComponent("shared/seed-examples").standardizedFileURL.path
        #expect(result.errors == "error: no examples found: looked for examples.json in \(shared), \(beside); "
            + "pass --examples DIR or set BLINDSPOT_SHARED to the folder holding seed-examples\n")
        #expect(!result.errors.contains("Usage"))
    }

    /// Run from elsewhere with no BLINDSPOT_SHARED, the built binary finds the examples beside its repository, as
    /// serve does: it then fails only for want of a model in the empty BLINDSPOT_HOME.
    @Test func importExamplesFindsTheExamplesFromAnyFolder() async throws {
        try #require(SharedData.has("seed-examples/examples.json"), "../shared is present beside the repository")
        let folder = try Self.makeFolder()
        defer { folder.remove() }
        let result = try await BlindspotBinary.run(["catalog", "import-examples"], environment: folder.environment.merging(["BLINDSPOT_SHARED": ""]) { $1 },
                                                   directory: folder.url, timeout: 30)
        #expect(result.status == 1)
        #expect(result.errors.contains("no model is available"), "\(result.errors)")
        #expect(!result.errors.contains("no examples found"))
    }

    /// A 60-megapixel JPEG within the byte limit is classified from a shrunk decode; a 60-megapixel PNG is refused
    /// with the limit's message; --max-megapixels moves the limit.
    @Test func aSixtyMegapixelJPEGIsClassifiedAndAPNGRefused() async throws {
        try #require(CachedWeights.url(ClassifyCommandTests.lite0) != nil, "efficientnet_lite0's weights are in the cache (make test fetches them)")
        let folder = try Self.makeFolder()
        defer { folder.remove() }
        let photo = RGBImage(width: 10_000, height: 6_000, pixels: [UInt8](repeating: 140, count: 10_000 * 6_000 * 3))
        try photo.jpegData(quality: 85).write(to: folder.url.appendingPathComponent("big.jpg"))
        try photo.pngData().write(to: folder.url.appendingPathComponent("big.png"))
        let classify = ["classify", "--model", "efficientnet_lite0", "--json"]
        let jpeg = try await BlindspotBinary.run(classify + ["big.jpg"], directory: folder.url, timeout: 120)
        #expect(jpeg.status == 0, "\(jpeg.errors)")
        #expect(jpeg.output.contains("\"predictions\""))
        let png = try await BlindspotBinary.run(classify + ["big.png"], directory: folder.url, timeout: 120)
        #expect(png.status == 1)
        #expect(png.errors == "error: big.png: image is 10000×6000 pixels (60.0 megapixels); the limit is 50 megapixels\n")
        let limited = try await BlindspotBinary.run(classify + ["--max-megapixels", "0.5", "big.jpg"], directory: folder.url, timeout: 120)
        #expect(limited.status == 1)
        #expect(limited.errors == "error: big.jpg: image is 10000×6000 pixels (60.0 megapixels); the limit is 0.5 megapixels\n")
        let raised = try await BlindspotBinary.run(classify + ["--max-megapixels", "61", "big.png"], directory: folder.url, timeout: 120)
        #expect(raised.status == 0, "\(raised.errors)")
        let invalid = try await BlindspotBinary.run(classify + ["--max-megapixels", "0", "big.jpg"], directory: folder.url, timeout: 120)
        #expect(invalid.status == 2)
        #expect(invalid.errors.hasPrefix("Error: --max-megapixels must be 0.001…10000, not 0"))
    }
}
