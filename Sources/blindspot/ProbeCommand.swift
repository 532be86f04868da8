// `blindspot probe`: sweep one image through the transformations and show which ones break the model — a table
// on the terminal, JSON, or a self-contained HTML page with thumbnails and charts.
import Analysis
import ArgumentParser
import Foundation
import Imaging
import Reports
import Transforms

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Find which transformations (rotation, blur, noise, cartoon, …) flip a model's answer on an image.",
        discussion: """
        Families: \(TransformFamily.allCases.map(\.rawValue).joined(separator: ", ")).
        ImageNet-C's corruptions, at severities 1-5 on the image's ImageNet-C crop: \(Corruption.allCases.map { ProbeFamily.imageNetCPrefix + $0.rawValue }.joined(separator: ", ")); \
        or the groups imagenet-c:common (the 15 of mCE), imagenet-c:held-out (the 4) and imagenet-c:all.
        Example: blindspot probe car.jpg --expected 'sports car' --compare --html probe.html
                 blindspot probe car.jpg --families flip,imagenet-c:common
        """)

    @Argument(help: "The image (JPEG, PNG, WebP or GIF).")
    var image: String

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Probe with every present model side by side (instead of --model).")
    var compare = false

    @Option(help: "The right answer: a class index, WordNet id or exact name; several separated by commas. Default: each model's answer on the original.")
    var expected: String?

    @Option(help: "Comma-separated families to run (default: all of Blindspot's; ImageNet-C's are named imagenet-c:NAME).")
    var families: String?

    @Option(name: .customLong("frost-textures"),
            help: "A folder with the reference's frost photographs (frost1.png … frost5.jpg, in an installed imagecorruptions package) for imagenet-c:frost; default: Blindspot's procedural ice.")
    var frostTextures: String?

    @Option(help: "Seed of the random noise.")
    var seed: UInt64 = 0

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "Write a self-contained HTML page with thumbnails and charts to this file.")
    var html: String?

    func validate() throws {
        if compare && (modelOptions.model != nil || modelOptions.weights != nil) {
            throw ValidationError("--compare uses every present model; leave out --model and --weights")
        }
        if frostTextures != nil, try !selectedFamilies().contains(.corruption(.frost)) {
            throw ValidationError("--frost-textures serves ImageNet-C's frost; add imagenet-c:frost (or imagenet-c:common or imagenet-c:all) to --families")
        }
        _ = try selectedFamilies()
        _ = try expectedClasses()
    }

    /// The classes of --expected.
    func expectedClasses() throws -> [Int] {
        try (expected?.split(separator: ",") ?? []).map { try OptionCheck.requireClass($0.trimmingCharacters(in: .whitespaces), "--expected") }
    }

    func selectedFamilies() throws -> [ProbeFamily] {
        try families.map(parseProbeFamilies) ?? ProbeFamily.standard
    }

    func run() async throws {
        try FileCheck.oneImage(image, command: "probe")
        if let html { try FileCheck.writable(html) }
        let frost = try FrostTextures.option(frostTextures)
        let environment = try CommandEnvironment()
        let classifiers = compare
            ? try environment.loader.presentModels().map { try environment.loader.load($0.name, backend: modelOptions.threading.backend()) }
            : [try modelOptions.loadClassifier(environment)]
        guard !classifiers.isEmpty else { throw CommandFailure(description: "no model is present; fetch one with `blindspot models fetch efficientnet_lite0`") }
        let plan = ProbePlan(families: try selectedFamilies(), expected: try expectedClasses(), seed: seed, frost: frost)
        let shorterSide = classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max()
        let decoded = try ImageDecoder().decode(try Data(contentsOf: URL(fileURLWithPath: image)), minimumShorterSide: shorterSide)
        let bar = ProgressBar(label: "probe", format: .items("variants"))
        let result = try Probe.run(decoded, plan: plan, classifiers: classifiers, thumbnailSide: html == nil ? nil : 112) { done, total in
            bar.update(completed: Int64(done), total: Int64(total))
        }
        bar.finish()
        if let html {
            let name = URL(fileURLWithPath: image).lastPathComponent
            try Data(ProbeReport.document(result, imageName: name).utf8).write(to: URL(fileURLWithPath: html))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            printSummary(result)
            if let html { print("  page: \(html)") }
        }
    }

    private func printSummary(_ result: ProbeResult) {
        print("\(image): \(result.variants.count) variants, \(result.width)×\(result.height)")
        for model in result.models {
            print("\n\(model.model): original → \(ProbeReport.originalText(model.outcomes[0]))"
                + " · \(Int(model.inferenceMilliseconds.rounded())) ms inference")
            print(result.sentence(for: model))
            if let crop = result.cropVariant {
                print("  ImageNet-C's clean crop → \(ProbeReport.originalText(model.outcomes[crop]))")
            }
            let width = result.families.map(\.title.count).max() ?? 0
            let verdictWidth = model.families.map { $0.verdict(originalHit: model.originalHit).count }.max() ?? 5
            for family in result.families {
                let title = family.title.padding(toLength: width, withPad: " ", startingAt: 0)
                guard family.notApplicable == nil, let summary = model.families.first(where: { $0.family == family.family }) else {
                    print("  \(title)  not applicable: \(family.notApplicable ?? "")")
                    continue
                }
                let changed = summary.changed(originalHit: model.originalHit)
                let bar = String(repeating: "█", count: changed) + String(repeating: "·", count: summary.variants - changed)
                let verdict = summary.verdict(originalHit: model.originalHit)
                print("  \(title)  \(verdict.padding(toLength: verdictWidth, withPad: " ", startingAt: 0)) \(changed)/\(summary.variants) \(bar)")
            }
        }
    }
}
