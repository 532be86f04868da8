// `blindspot discover`: where a model fails in a labelled folder, found on one half and checked on the other, with
// the images whose labels it confidently contradicts. Reads and classifies (DiscoveryScan), then searches (Discovery).
import Analysis
import ArgumentParser
import Engine
import Foundation
import Imaging
import Reports
import Weights

struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Find the groups of images a model fails on in a labelled folder, checked on held-out images.",
        discussion: """
        DIR is an ImageFolder (one sub-folder per WordNet id or class name) or flat files named WNID_*.JPEG, as for eval.
        Slices are searched on a seeded, class-stratified half and confirmed only when their error lift on the other half
        stays above 1 at 95% family-wise confidence.
        Example: blindspot discover ../shared/imagenet-sample --model efficientnet_lite0 --min-size 5 --out discover.json
        """)

    @Argument(help: "The labelled folder.")
    var directory: String

    @Option(name: .customLong("model"), help: "A model to examine; repeat for several (default: the default model).")
    var models: [String] = []

    @Option(help: "Where to write the results: .json (everything), .html (a page with thumbnails) or .md; the penultimate features go beside it as OUT.embeddings.safetensors.")
    var out: String?

    @Option(name: .customLong("max-slices"), help: "Slices kept per model.")
    var maximumSlices = 10

    @Option(name: .customLong("min-size"), help: "The fewest images a slice may hold on the half it is found on.")
    var minimumSize = 10

    @Option(help: "The fraction of each class held out to check the slices on.")
    var holdout = 0.5

    @Option(help: "Seed of the split and of the bootstrap.")
    var seed: UInt64 = 0

    @Flag(name: .customLong("keep-suspect-labels"), help: "Count images whose labels look wrong in the slices too.")
    var keepSuspectLabels = false

    @Option(name: .customLong("batch"), help: "Images per chunk and batch.")
    var batchSize = 8

    @Flag(help: "Continue a run that was interrupted: the chunks already read (kept in OUT.progress/) are not read again.")
    var resume = false

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try OptionCheck.require(maximumSlices, within: 1...1000, "--max-slices")
        try OptionCheck.require(minimumSize, within: 1...1_000_000, "--min-size")
        try OptionCheck.require(holdout, within: 0.05...0.95, "--holdout")
        try OptionCheck.require(batchSize, within: OptionCheck.batchSizes, "--batch")
        try OptionCheck.requireModels(models, "--model")
        if resume && out == nil { throw ValidationError("--resume needs --out: the progress is kept beside it") }
        if let out, !["json", "html", "htm", "md", "markdown"].contains((out as NSString).pathExtension.lowercased()) {
            throw ValidationError("--out must end in .json, .html or .md")
        }
    }

    func run() async throws {
        try FileCheck.listableDirectory(directory)
        if let out {
            try FileCheck.writable(out)
            try FileCheck.writable(Self.embeddingsPath(out))
        }
        let environment = try CommandEnvironment()
        let labels = environment.loader.labels
        let dataset = EvalRunCommand.readableOnly(try LabelledDataset(scanning: URL(fileURLWithPath: directory), labels: labels))
        let names: [String?] = models.isEmpty ? [nil] : models
        let classifiers = try names.map { try environment.loader.load($0, backend: threading.backend()) }
        for file in dataset.unlabelled { printError("skipped \(file.file): \(file.reason)") }

        let scan = DiscoveryScan(classifiers: classifiers, labels: labels, batchSize: batchSize)
        // With --out the progress is kept for --resume; without, the features still go to disk, in a folder removed at the end.
        let store = try scan.store(in: out.map { URL(fileURLWithPath: $0 + ".progress") } ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("blindspot-discover-\(UUID().uuidString)"), resume: resume)
        defer { if out == nil { try? store.remove() } }
        let bar = ProgressBar(label: "discover", format: .items("images"))
        let scanStart = ContinuousClock.now
        let (input, unreadable, times) = try scan.run(dataset, name: directory, store: store) { done, total in
            bar.update(completed: Int64(done), total: Int64(total))
        }
        bar.finish()
        for file in unreadable { printError("skipped \(file.file): \(file.reason)") }
        guard !input.images.isEmpty else { throw CommandFailure(description: "discover: no image of \(directory) could be read") }
        let scanSeconds = (ContinuousClock.now - scanStart).milliseconds / 1000

        var settings = DiscoverySettings()
        settings.maximumSlices = maximumSlices
        settings.minimumSize = minimumSize
        settings.holdout = holdout
        settings.seed = seed
        settings.keepSuspectLabels = keepSuspectLabels
        let searchStart = ContinuousClock.now
        let found = try Discovery.run(input, settings: settings)
        let searchSeconds = (ContinuousClock.now - searchStart).milliseconds / 1000
        let confirmStart = ContinuousClock.now
        let results = try SliceIntervention(classifiers: classifiers, root: dataset.root, seed: seed).run(found, input: input)
        let confirmSeconds = (ContinuousClock.now - confirmStart).milliseconds / 1000

        if let out {
            try Self.write(results, to: out, root: dataset.root)
            try Self.writeEmbeddings(input, to: Self.embeddingsPath(out))
            try store.remove()
        }
        print(Self.text(results))
        print(Self.timing(scan: scanSeconds, times: times, search: searchSeconds, confirm: confirmSeconds))
    }

    /// The results as JSON, as an HTML page with thumbnails read from `root`, or as Markdown (no pictures), by extension.
    static func write(_ results: DiscoveryResults, to out: String, root: URL) throws {
        let data: Data
        switch (out as NSString).pathExtension.lowercased() {
        case "html", "htm":
            let pictures = OutputFormat.thumbnails(of: DiscoveryReport.picturedFiles(results), in: root, named: "discovered")
            data = Data(DiscoveryReport.document(results, pictures: pictures).utf8)
        case "md", "markdown":
            data = Data(DiscoveryReport.markdown(results, pictures: [:]).utf8)
        default:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            data = try encoder.encode(results)
        }
        try data.write(to: URL(fileURLWithPath: out), options: .atomic)
    }

    static func embeddingsPath(_ out: String) -> String {
        ((out as NSString).deletingPathExtension) + ".embeddings.safetensors"
    }

    /// One [images, features] tensor per model that gives features, rows in the order of the records, copied from
    /// where the scan kept them block by block.
    static func writeEmbeddings(_ input: DiscoveryInput, to path: String) throws {
        let features = Dictionary(input.models.compactMap { model in model.features.map { (model.model, $0) } }, uniquingKeysWith: { first, _ in first })
        try SafeTensors.write(shapes: features.mapValues { [$0.count, $0.width] }, to: URL(fileURLWithPath: path)) { key, write in
            try features[key]?.forEachByteBlock(write)
        }
    }

    static func text(_ results: DiscoveryResults) -> String {
        let (percent, interval, ratio) = (Percent.whole, DiscoveryReport.interval, DiscoveryReport.ratio)
        var lines = ["\(results.images) images of \(results.dataset); \(percent(results.holdout)) of each class held out (seed \(results.seed))"]
        for model in results.models {
            lines.append("")
            lines.append("\(model.model): \(percent(model.errorRate)) wrong (\(percent(model.heldOutErrorRate)) on the held-out half)")
            if model.slices.isEmpty { lines.append("  no slice of at least \(results.minimumSize) images fails more often than the folder") }
            for slice in model.slices {
                let held = slice.heldOut
                lines.append("  \(slice.id) \(slice.confirmed ? "confirmed    " : "not confirmed") \(slice.description)")
                lines.append("      held out: \(held.size) image\(held.size == 1 ? "" : "s"), \(percent(held.errorRate)) wrong \(interval(held.errorRateCI, percent)), "
                    + "lift \(ratio(held.lift)) \(interval(held.liftCI, ratio))"
                    + (slice.confusions.first.map { "; most often \($0.expected) → \($0.predicted) (\($0.count))" } ?? ""))
                if let intervention = slice.intervention { lines.append("      intervention: \(intervention.finding)") }
                if !slice.transfer.isEmpty {
                    lines.append("      every model on its held-out images: " + slice.transfer.map {
                        "\($0.model) \(percent($0.heldOutErrorRate)) wrong (lift \(ratio($0.lift)))"
                    }.joined(separator: ", "))
                }
            }
            if !model.suspectLabels.isEmpty {
                lines.append("  \(model.suspectLabels.count) suspect label\(model.suspectLabels.count == 1 ? "" : "s") (left out of the slices), e.g.:")
                for suspect in model.suspectLabels.prefix(5) {
                    lines.append("      \(suspect.file): labelled \(suspect.label), \(percent(suspect.confidence)) \(suspect.predicted)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Where the time went: the scan (classifying, and the decoding and measuring that overlap it on background
    /// threads), the searches with their held-out checks, and the interventions.
    static func timing(scan: Double, times: DiscoveryScan.Times, search: Double, confirm: Double) -> String {
        String(format: "\nscanned in %.1f s: classifying %.1f s, waiting for images %.1f s (decoding %.1f s and measuring attributes %.1f s "
            + "on background threads); searched and checked in %.2f s (%.1f%% of classifying); interventions in %.1f s",
               scan, times.classifying, times.waiting, times.decoding, times.measuring, search, 100 * search / max(times.classifying, 1e-9), confirm)
    }
}
