// `blindspot corrupt`: ImageNet-C's corruptions of images, written as PNG files (to look at, or to compare with
// the reference implementation).
import Analysis
import ArgumentParser
import Foundation
import Imaging
import Transforms

struct CorruptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Apply ImageNet-C's corruptions (Hendrycks & Dietterich 2019) to images and write them as PNG.",
        discussion: """
            Writes OUT/CORRUPTION/SEVERITY/NAME.png for every image, corruption and severity. Corruptions are named as \
            ImageNet-C names them: \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")).
            Example: blindspot corrupt car.png --corruption fog,snow --severity 3 --out corrupted
            """)

    @Argument(help: "Images or folders of images.")
    var images: [String]

    @Option(help: "Corruptions, comma-separated, or common (the 15 of mCE), held-out (the other 4), all.")
    var corruption = "all"

    @Option(help: "A severity 1-5, or all.")
    var severity = "all"

    @Option(help: "Mixed with each image's name to seed the random corruptions.")
    var seed: UInt64 = 0

    @Option(help: "The reference's frost photographs (the `frost` folder of the imagecorruptions package); default: Blindspot's procedural ice.")
    var frostTextures: String?

    @Flag(help: "First make the image as ImageNet-C made its files: shorter side to 256, centre 224×224.")
    var imagenetCrop = false

    @Option(help: "The folder to write into.")
    var out: String

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        _ = try corruptions()
        _ = try severities()
    }

    func corruptions() throws -> [Corruption] {
        do { return try Corruption.list(corruption) } catch { throw ValidationError("--corruption: \(error)") }
    }

    func severities() throws -> [Int] {
        if severity == "all" { return Array(Corruption.severities) }
        guard let level = Int(severity), Corruption.severities.contains(level) else {
            throw ValidationError("--severity is 1, 2, 3, 4, 5 or all, not '\(severity)'")
        }
        return [level]
    }

    func run() async throws {
        let files = try images.flatMap { try ImageFiles.expand($0) }
        for file in files { try FileCheck.readable(file, expected: "an image file") }
        try FileCheck.writable(out, directory: true)
        let frost = try FrostTextures.option(frostTextures)
        let (corruptions, severities) = (try corruptions(), try severities())
        let root = URL(fileURLWithPath: out)
        let bar = ProgressBar(label: "corrupt", format: .items("images"))
        let total = Int64(files.count * corruptions.count * severities.count)
        var done: Int64 = 0
        let decoder = ImageDecoder()
        for file in files {
            var image: RGBImage
            do { image = try decoder.decode(ImageFiles.read(file)) } catch { throw FileProblem(path: file, problem: UserErrors.message(for: error)) }
            if imagenetCrop { image = Corruption.imageNetCrop(image) }
            let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let imageSeed = Corruption.seed(forImageNamed: (file as NSString).lastPathComponent, seed: seed)
            for corruption in corruptions {
                for level in severities {
                    let folder = root.appendingPathComponent(corruption.rawValue).appendingPathComponent(String(level))
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    let corrupted = try corruption.apply(to: image, severity: level, seed: imageSeed, frost: frost)
                    try corrupted.pngData().write(to: folder.appendingPathComponent(name + ".png"), options: .atomic)
                    done += 1
                    bar.update(completed: done, total: total)
                }
            }
        }
        bar.finish()
        print("\(done) corrupted images in \(out) (frost: \(frost.source))")
    }
}

extension FrostTextures {
    /// `--frost-textures DIR`: the reference's photographs, each file checked before any is read; nil: procedural ice.
    static func option(_ folder: String?) throws -> FrostTextures {
        guard let folder else { return .procedural }
        try FileCheck.listableDirectory(folder)
        for name in photographNames {
            try FileCheck.readable((folder as NSString).appendingPathComponent(name), expected: "a frost texture image")
        }
        return try photographs(in: URL(fileURLWithPath: folder))
    }
}
