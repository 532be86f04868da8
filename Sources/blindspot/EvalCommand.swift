// `blindspot eval`: accuracy and robustness of models on a labelled folder, resumable and shardable, written as
// JSON, HTML, Markdown or CSV; `blindspot eval merge` joins the results of shards.
import Analysis
import ArgumentParser
import Foundation
import Imaging
import ModelFetch
import ModelRegistry
import Models
import Reports
import Transforms

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure models' accuracy on a labelled folder, clean and under transformations.",
        subcommands: [EvalRunCommand.self, EvalMergeCommand.self],
        defaultSubcommand: EvalRunCommand.self)
}

struct EvalRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate models on DIR (`blindspot eval DIR` runs this).",
        discussion: """
        DIR is an ImageFolder (one sub-folder per WordNet id or class name) or flat files named WNID_*.JPEG.
        Example: blindspot eval ../shared/imagenet-sample --model efficientnet_lite0 --transform blur:mid --transform rotate:90 --out eval.html
        ImageNet-C: --transform imagenet-c:fog:3, imagenet-c:fog (severities 1-5), imagenet-c:common, imagenet-c:held-out, imagenet-c:all; or the whole
        card with --robustness-card (mCE normalised by AlexNet's published errors on ImageNet-val: 50,000 images, 50 per class;
        elsewhere reference-normalised by --reference-model, default the present model with the smallest weights file).
        """)

    @Argument(help: "The labelled folder.")
    var directory: String

    @Option(name: .customLong("model"), help: "A model to evaluate; repeat for several (default: the default model).")
    var models: [String] = []

    @Option(name: .customLong("transform"), help: "FAMILY:LEVEL (e.g. blur:2, rotate:90, flip:vertical), FAMILY:mid, FAMILY:all, or imagenet-c:CORRUPTION[:SEVERITY], imagenet-c:common, imagenet-c:held-out, imagenet-c:all; repeatable.")
    var transforms: [String] = []

    @Flag(help: "ImageNet-C's robustness card for every model: 15 common and 4 held-out corruptions × 5 severities, CE, mCE, relative mCE, calibration.")
    var robustnessCard = false

    @Option(name: .customLong("reference-model"), help: "The model whose errors normalise CE (default off ImageNet-val: the present model with the smallest weights file); evaluated too.")
    var referenceModel: String?

    @Option(help: "imagenet-a or imagenet-r: mask the outputs to that dataset's 200 classes before top-1 and top-5.")
    var subset: String?

    @Option(name: .customLong("frost-textures"), help: "A folder with the reference's frost photographs (frost1.png … frost5.jpg, as the imagecorruptions package ships them); default: procedural ice.")
    var frostTextures: String?

    @Option(help: "Evaluate only the first N images.")
    var limit: Int?

    @Option(help: "K/N: evaluate shard K (0-based) of N; merge the shards' JSON with `blindspot eval merge`.")
    var shard: String?

    @Option(help: "Where to write the results: .json (everything, mergeable), .html, .md or .csv.")
    var out: String?

    @Flag(help: "Continue an interrupted run from OUT.progress.jsonl instead of starting over.")
    var resume = false

    @Option(name: .customLong("batch"), help: "Images per chunk and batch.")
    var batchSize = 8

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try OptionCheck.require(limit, within: 1...1_000_000_000, "--limit")
        try OptionCheck.require(batchSize, within: OptionCheck.batchSizes, "--batch")
        try OptionCheck.requireModels(models, "--model")
        if resume && out == nil { throw ValidationError("--resume needs --out: the progress is kept beside it") }
        if let out { _ = try OutputFormat(path: out) }
        _ = try shardNumbers()
        _ = try classSubset()
        if referenceModel != nil && !robustnessCard { throw ValidationError("--reference-model normalises a robustness card: add --robustness-card") }
        if let referenceModel { try OptionCheck.requireModels([referenceModel], "--reference-model") }
        let chosen = try evaluationTransforms()
        if frostTextures != nil && !chosen.contains(where: { $0.corruption?.corruption == .frost }) {
            throw ValidationError("--frost-textures serves ImageNet-C's frost: add --robustness-card or --transform imagenet-c:frost")
        }
    }

    /// The --subset.
    func classSubset() throws -> ImageNetSubset? {
        guard let subset else { return nil }
        guard let chosen = ImageNetSubset(rawValue: subset.lowercased()) else {
            throw ValidationError("--subset is one of " + ImageNetSubset.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return chosen
    }

    /// Every --transform, each FAMILY:all or FAMILY:mid expanded; a transformation named twice is a usage error.
    func evaluationTransforms() throws -> [EvaluationTransform] {
        var chosen: [EvaluationTransform] = []
        for text in transforms {
            let parsed: [EvaluationTransform]
            do { parsed = try EvaluationTransform.parse(text) } catch let error as EvaluationError { throw ValidationError(error.description) }
            for transform in parsed {
                if chosen.contains(transform) { throw ValidationError("--transform gives \(transform.key) twice") }
                chosen.append(transform)
            }
        }
        if robustnessCard { chosen += EvaluationTransform.robustnessCard.filter { !chosen.contains($0) } }
        return chosen
    }

    func shardNumbers() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard is K/N with 0 ≤ K < N, e.g. 0/3")
        }
        return (parts[0], parts[1])
    }

    func run() async throws {
        try FileCheck.listableDirectory(directory)
        if let out { try FileCheck.writable(out) }
        let frost = try FrostTextures.option(frostTextures)
        let environment = try CommandEnvironment()
        let labels = environment.loader.labels
        // The folder is read before any model loads: a folder without images fails at once.
        var dataset = Self.readableOnly(try LabelledDataset(scanning: URL(fileURLWithPath: directory), labels: labels))
        let names: [String?] = models.isEmpty ? [nil] : models
        var classifiers = try names.map { try environment.loader.load($0, backend: threading.backend()) }
        let evaluationTransforms = try evaluationTransforms()
        // The normaliser is chosen on the whole folder, before --limit and --shard.
        let plan = try robustnessCard ? robustnessPlan(for: dataset, loader: environment.loader, frost: frost) : nil
        if let reference = plan?.referenceModel, !classifiers.contains(where: { $0.model.name == reference }) {
            classifiers.append(try environment.loader.load(reference, backend: threading.backend()))
        }
        let subset = try classSubset()
        if let limit { dataset = dataset.limited(to: limit) }
        if let (index, count) = try shardNumbers() { dataset = dataset.shard(index, of: count) }
        for file in dataset.unlabelled { printError("skipped \(file.file): \(file.reason)") }

        let evaluator = Evaluator(classifiers: classifiers, transforms: evaluationTransforms, batchSize: batchSize,
                                  classes: try subset?.classIndices(in: labels), frost: frost)
        let log = try out.map { try ProgressLog(path: $0 + ".progress.jsonl", resume: resume) }
        let earlier = log?.earlier ?? (records: [], failures: [])
        let alreadyDone = evaluator.completedFiles(in: earlier.records)
        var records = earlier.records
        var failures = earlier.failures
        let bar = ProgressBar(label: "eval", format: .items("images"))
        let start = ContinuousClock.now
        try evaluator.run(dataset, completed: alreadyDone, chunkFinished: { chunk, failed in
            try log?.append(chunk, failed)
            records += chunk
            failures += failed
        }, progress: { done, total in bar.update(completed: Int64(done), total: Int64(total)) })
        bar.finish()
        for file in failures { printError("skipped \(file.file): \(file.reason)") }
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        let digests = Dictionary(uniqueKeysWithValues: classifiers.compactMap { classifier in
            environment.loader.cachedWeights(of: classifier.model).flatMap { try? ModelCache.sha256(ofFileAt: $0) }.map { (classifier.model.name, $0) }
        })
        let results = EvaluationResults(dataset: directory, unlabelled: dataset.unlabelled + failures, transforms: evaluationTransforms,
                                        subset: subset, robustness: plan, records: records, digests: digests, labels: labels)
        if let out {
            try OutputFormat(path: out).write(results, to: URL(fileURLWithPath: out))
            try log?.remove()
        }
        EvalSummary.print(results, imagesPerSecond: Double(dataset.images.count - alreadyDone.count) / max(seconds, 1e-9))
        if let out { print("results: \(out)") }
    }

    /// AlexNet's published errors normalise CE on ImageNet-val unless --reference-model names a model; elsewhere the
    /// reference is --reference-model or the present model with the smallest weights file.
    func robustnessPlan(for dataset: LabelledDataset, loader: ModelLoader, frost: FrostTextures) throws -> RobustnessPlan {
        if referenceModel == nil && RobustnessPlan.isImageNetValidation(dataset) { return RobustnessPlan(referenceModel: nil, frost: frost.source) }
        guard let reference = referenceModel ?? loader.smallestPresentModel()?.name else {
            throw CommandFailure(description: "a robustness card off ImageNet-val needs a reference model, and none is present; "
                + "fetch one with `blindspot models fetch efficientnet_lite0` or name one with --reference-model")
        }
        return RobustnessPlan(referenceModel: reference, frost: frost.source)
    }

    /// `dataset` with its files that are not regular files this process may read (a FIFO would stop the run)
    /// moved to the skipped ones, with why.
    static func readableOnly(_ dataset: LabelledDataset) -> LabelledDataset {
        var images: [LabelledImage] = []
        var skipped = dataset.unlabelled
        for image in dataset.images {
            do {
                try FileCheck.readable(dataset.url(of: image).path, expected: "an image file")
                images.append(image)
            } catch {
                skipped.append(UnlabelledFile(file: image.file, reason: error.problem))
            }
        }
        return LabelledDataset(root: dataset.root, images: images, unlabelled: skipped)
    }
}

struct EvalMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the JSON results of shards (or of disjoint folders) into one result, exactly.")

    @Argument(help: "Results written by `blindspot eval … --out FILE.json`.")
    var files: [String]

    @Option(help: "Where to write the merged results: .json, .html, .md or .csv.")
    var out: String

    func validate() throws {
        if files.isEmpty { throw ValidationError("give the results to merge") }
        _ = try OutputFormat(path: out)
    }

    func run() async throws {
        let labels = try ImageNetLabels.bundled()
        try FileCheck.writable(out)
        let parts = try files.map { try EvaluationResults.read(from: $0) }
        let merged = try EvaluationResults.merged(parts, labels: labels)
        try OutputFormat(path: out).write(merged, to: URL(fileURLWithPath: out))
        EvalSummary.print(merged, imagesPerSecond: nil)
        print("results: \(out)")
    }
}

/// What `--out` writes, by its extension.
enum OutputFormat {
    case json, html, markdown, csv

    init(path: String) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "json": self = .json
        case "html", "htm": self = .html
        case "md", "markdown": self = .markdown
        case "csv": self = .csv
        default: throw ValidationError("--out must end in .json, .html, .md or .csv")
        }
    }

    func write(_ results: EvaluationResults, to url: URL) throws {
        let data: Data
        switch self {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(results)
        case .html: data = Data(EvaluationReport.document(results, pictures: Self.thumbnails(results)).utf8)
        case .markdown: data = Data(EvaluationReport.markdown(results).utf8)
        case .csv: data = Data(EvaluationReport.csv(results).utf8)
        }
        try data.write(to: url, options: .atomic)
    }

    /// The longer side of a pictured mistake, in pixels.
    static let thumbnailSide = 160

    /// Thumbnails of the images the HTML pictures, read from the dataset folder the results name.
    static func thumbnails(_ results: EvaluationResults) -> [String: ReportPicture] {
        thumbnails(of: EvaluationReport.picturedFiles(results), in: URL(fileURLWithPath: results.dataset), named: "mistake")
    }

    /// Thumbnails of `files` (relative to `root`), named `prefix-N.jpg`; an image that can no longer be read there
    /// (moved, or merged results from another machine) is left out of the pictures, not the report.
    static func thumbnails(of files: [String], in root: URL, named prefix: String) -> [String: ReportPicture] {
        let decoder = ImageDecoder()
        var pictures: [String: ReportPicture] = [:]
        for (number, file) in files.enumerated() {
            guard let bytes = try? Data(contentsOf: root.appendingPathComponent(file)),
                  let thumbnail = try? decoder.decode(bytes, minimumShorterSide: thumbnailSide).shrunk(toLongerSide: thumbnailSide),
                  let jpeg = try? thumbnail.jpegData(quality: 82) else { continue }
            pictures[file] = ReportPicture(fileName: "\(prefix)-\(number).jpg", mediaType: "image/jpeg", data: jpeg,
                                           width: thumbnail.width, height: thumbnail.height, alt: file)
        }
        return pictures
    }
}

/// The records of finished chunks, one JSON object per line, flushed to disk after each chunk, so a killed run
/// loses at most the chunk it was working on. A torn last line (the kill came mid-write) is ignored.
final class ProgressLog {
    private struct Line: Codable {
        var record: EvaluationRecord?
        var skipped: UnlabelledFile?
    }

    let url: URL
    private let handle: FileHandle
    let earlier: (records: [EvaluationRecord], failures: [UnlabelledFile])

    init(path: String, resume: Bool) throws {
        url = URL(fileURLWithPath: path)
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            guard resume else { throw ValidationError("an interrupted run left \(path): add --resume to continue it, or delete it to start over") }
            try FileCheck.readable(path, expected: "a progress file")
        }
        var records: [EvaluationRecord] = []
        var failures: [UnlabelledFile] = []
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let decoded = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else { continue }
                if let record = decoded.record { records.append(record) }
                if let skipped = decoded.skipped { failures.append(skipped) }
            }
        } else {
            manager.createFile(atPath: path, contents: nil)
        }
        earlier = (records, failures)
        handle = try FileHandle(forWritingTo: url)
        // Resuming after a torn write: start on a fresh line.
        if try handle.seekToEnd() > 0 { try handle.write(contentsOf: Data("\n".utf8)) }
    }

    deinit {
        try? handle.close()
    }

    func append(_ records: [EvaluationRecord], _ failures: [UnlabelledFile]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for line in records.map({ Line(record: $0) }) + failures.map({ Line(skipped: $0) }) {
            data += try encoder.encode(line) + Data("\n".utf8)
        }
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }

    func remove() throws {
        try handle.close()
        try FileManager.default.removeItem(at: url)
    }
}

/// The terminal summary: accuracies with intervals, each transformation's accuracy as a bar, and a robustness card's
/// headline with its CE per corruption as bars.
enum EvalSummary {
    static func print(_ results: EvaluationResults, imagesPerSecond: Double?) {
        let rate = imagesPerSecond.map { String(format: " · %.1f images/s", $0) } ?? ""
        let subset = results.subset.map { ", outputs masked to \($0.title)'s 200 classes" } ?? ""
        Swift.print("\(results.dataset): \(results.images) images\(results.unlabelled.isEmpty ? "" : ", \(results.unlabelled.count) skipped")\(subset)\(rate)")
        // A card's 96 transformations are summed up by the card, not listed.
        let listed = results.transforms.filter { results.robustness == nil || !$0.isCorruption }
        let width = listed.map(\.description.count).max() ?? 0
        for model in results.models {
            Swift.print("  \(model.model)  top-1 \(Percent.text(model.top1)) [\(Percent.text(model.top1CI[0])), \(Percent.text(model.top1CI[1]))]"
                + "  top-5 \(Percent.text(model.top5)) [\(Percent.text(model.top5CI[0])), \(Percent.text(model.top5CI[1]))]")
            for transform in listed {
                guard let accuracy = model.transforms.first(where: { $0.transform == transform.key }) else { continue }
                let bar = String(repeating: "█", count: Int((accuracy.top1 * 20).rounded()))
                let name = transform.description.padding(toLength: width, withPad: " ", startingAt: 0)
                Swift.print("    \(name) top-1 \(Percent.text(accuracy.top1))  (\(change(accuracy.relativeDrop)) of clean)  \(bar)")
            }
            if let card = model.robustness { printCard(card) }
        }
    }

    /// "mCE 76.7% · relative mCE 105.0% · ECE 3.1%" with what normalises it, then CE per corruption as a bar
    /// (█ per 10 points, so that 100%, the normaliser's own, is ten blocks).
    static func printCard(_ card: RobustnessCard) {
        let headline = EvaluationReport.robustnessHeadline(card)
        Swift.print("    ImageNet-C: \(headline)")
        Swift.print("      normalised by \(card.normaliser)")
        let width = Corruption.allCases.map(\.title.count).max() ?? 0
        for corruption in Corruption.allCases {
            guard let value = card.ce[corruption.rawValue] else { continue }
            let name = corruption.title.padding(toLength: width, withPad: " ", startingAt: 0)
            let held = Corruption.heldOut.contains(corruption) ? "  (held out)" : ""
            guard let value else {
                Swift.print("      \(name) CE   —    \(card.undefined[corruption.rawValue] ?? "")")
                continue
            }
            let bar = value.isFinite ? String(repeating: "█", count: Int(min(40, max(0, (value * 10).rounded())))) : ""
            Swift.print("      \(name) CE \(Percent.whole(value).leftPadded(to: 5))  \(bar)\(held)")
        }
    }

    /// A relative drop as a signed change: "−35%", or "+3%" when the transformation helped.
    static func change(_ drop: Double) -> String {
        let percent = Int((drop * 100).rounded())
        return percent > 0 ? "−\(percent)%" : percent < 0 ? "+\(-percent)%" : "0%"
    }
}

extension String {
    /// Right-aligned in `width` characters.
    func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
