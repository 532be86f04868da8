// `blindspot classify`: what a model sees in each image, as a table with bars or as JSON lines.
import Analysis
import ArgumentParser
import Dispatch
import Foundation
import Imaging
import Inference

struct ClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify images with a model and print the top classes.",
        discussion: "Files and directories (their images, sorted) are read in batches; `-` reads one image from standard input.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "How many classes to show per image.")
    var top = 5

    @Flag(name: .long, help: "Print one JSON object per image instead of a table.")
    var json = false

    @Flag(name: .long, help: "With --json: add the 1000 raw logits.")
    var logits = false

    @Flag(name: .customLong("no-resize"), help: "Require images of exactly the model's input size and only normalise them.")
    var noResize = false

    @Flag(name: .long, help: "Print only a summary: top-1 accuracy (for files named WNID_*.JPEG) and images per second.")
    var summary = false

    @Option(name: .customLong("batch"), help: "Images per batch.")
    var batchSize = 8

    @OptionGroup var pixelLimit: PixelLimitOptions

    @Argument(help: "Image files or directories; `-` for standard input.")
    var files: [String]

    func validate() throws {
        try OptionCheck.require(top, within: 1...1000, "--top")
        try OptionCheck.require(batchSize, within: OptionCheck.batchSizes, "--batch")
        if logits && !json { throw ValidationError("--logits needs --json") }
    }

    func run() async throws {
        var tally = Tally()
        // Files that are missing, unreadable or not regular files (a FIFO would wait for a writer), and folders without
        // images, fail up front, each on its own, before the model loads.
        func refuse(_ error: any Error) {
            printError("error: \(UserErrors.message(for: error))")
            tally.failed += 1
        }
        let paths = files.flatMap { argument in
            do {
                return try ImageFiles.expand(argument)
            } catch {
                refuse(error)
                return []
            }
        }.filter { path in
            do {
                if path != "-" { try FileCheck.readable(path, expected: "an image file") }
                return true
            } catch {
                refuse(error)
                return false
            }
        }
        if paths.isEmpty { throw ExitCode(1) }
        let environment = try CommandEnvironment()
        let classifier = try modelOptions.loadClassifier(environment)
        try classifier.warmUp(batchSize: min(batchSize, paths.count))
        let decoder = ImageDecoder(limits: pixelLimit.applied(to: DecodeLimits()))
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: paths.count, by: batchSize).map({ Array(paths[$0..<min($0 + batchSize, paths.count)]) }) {
            let prepared = prepareConcurrently(chunk, classifier: classifier, decoder: decoder)
            let good = chunk.indices.compactMap { index -> (String, PreparedImage)? in
                switch prepared[index] {
                case .success(let image): return (chunk[index], image)
                case .failure(let error):
                    printError("error: \(UserErrors.message(for: error, about: chunk[index]))")
                    tally.failed += 1
                    return nil
                }
            }
            guard !good.isEmpty else { continue }
            let (classifications, inferenceMilliseconds) = try classifier.classify(good.map(\.1), top: top)
            for ((path, image), classification) in zip(good, classifications) {
                tally.record(path: path, classification: classification, labels: classifier)
                guard !summary else { continue }
                let timing = Timing(decodeMs: image.milliseconds, inferenceMs: inferenceMilliseconds / Double(good.count), batch: good.count)
                if json {
                    try printJSON(path: path, classification: classification, timing: timing)
                } else {
                    printTable(path: path, classification: classification, timing: timing)
                }
            }
        }
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        if summary || paths.count > 1 && !json {
            print(tally.summary(model: classifier.model.name, seconds: seconds))
        }
        if tally.failed > 0 { throw ExitCode(1) }
    }

    /// Decodes and preprocesses every file of a batch in parallel; each file succeeds or fails on its own.
    private func prepareConcurrently(_ paths: [String], classifier: Classifier, decoder: ImageDecoder) -> [Result<PreparedImage, Error>] {
        let results = ResultSlots<PreparedImage>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            results[index] = Result { try classifier.prepare(ImageFiles.read(paths[index]), decoder: decoder, resize: !noResize) }
        }
        return results.values
    }

    struct Timing: Encodable {
        let decodeMs: Double
        /// This image's share of its batch's inference time.
        let inferenceMs: Double
        let batch: Int
    }

    private func printJSON(path: String, classification: Classification, timing: Timing) throws {
        struct Line: Encodable {
            let file: String
            let model: String
            let predictions: [Prediction]
            let timing: Timing
            let logits: [Float]?
        }
        let line = Line(file: path, model: classification.model, predictions: classification.predictions, timing: timing,
                        logits: logits ? classification.logits : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(line), as: UTF8.self))
    }

    private func printTable(path: String, classification: Classification, timing: Timing) {
        print("\(path) — \(classification.model) (decode \(String(format: "%.1f", timing.decodeMs)) ms, inference \(String(format: "%.1f", timing.inferenceMs)) ms)")
        let width = classification.predictions.map(\.label.count).max() ?? 0
        for prediction in classification.predictions {
            let label = prediction.label.padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(label)  \(Bar.render(fraction: prediction.probability, width: 24))  \(String(format: "%5.1f", prediction.probability * 100))%")
        }
    }
}

/// Counts for the closing summary line.
private struct Tally {
    var classified = 0
    var failed = 0
    var labelled = 0
    var correct = 0

    mutating func record(path: String, classification: Classification, labels classifier: Classifier) {
        classified += 1
        guard let wordNetID = ImageFiles.wordNetID(of: path), let truth = classifier.labels.index(ofWordNetID: wordNetID) else { return }
        labelled += 1
        if classification.predictions.first?.index == truth { correct += 1 }
    }

    func summary(model: String, seconds: Double) -> String {
        var parts = ["\(classified) images classified by \(model) in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", Double(classified) / max(seconds, 1e-9))) images/s)"]
        if labelled > 0 {
            parts.append("top-1 accuracy \(String(format: "%.1f", Double(correct) / Double(labelled) * 100))% (\(correct) of \(labelled) labelled by file name)")
        }
        if failed > 0 { parts.append("\(failed) failed") }
        return parts.joined(separator: ", ")
    }
}

/// Fixed slots that concurrent iterations fill, one each.
private final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Result<Value, Error>?]
    private let lock = NSLock()

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    subscript(index: Int) -> Result<Value, Error> {
        get { lock.withLock { slots[index]! } }
        set { lock.withLock { slots[index] = newValue } }
    }

    var values: [Result<Value, Error>] { lock.withLock { slots.map { $0! } } }
}

/// A horizontal bar of block characters for a fraction in [0, 1].
enum Bar {
    static func render(fraction: Double, width: Int) -> String {
        let eighths = Int((min(max(fraction, 0), 1) * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        let filled = String(repeating: "█", count: eighths / 8) + partial
        return filled + String(repeating: " ", count: width - filled.count)
    }
}
