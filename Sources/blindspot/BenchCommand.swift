// `blindspot bench`: by default, median forward time and images/s of each model next to ONNX Runtime in the same
// run; `--section`/`--all` add effective GFLOP/s, memory, start-up, the image path, the server and scaling.
// Parses options, runs Bench's PerformanceBenchmark, prints its document as tables or as one JSON document.
import Analysis
import ArgumentParser
import Bench
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time forward passes next to ONNX Runtime, and with --all the rest of the performance picture.",
        discussion: """
        Models whose weights are absent run with synthetic weights: the timing is the same, the outputs mean nothing.
        Sections: \(BenchmarkSection.allCases.map(\.rawValue).joined(separator: ", ")). Each target of the performance goals is shown with its measured value and met or missed.
        Example: blindspot bench --all --python .venv-bench/bin/python --json > bench.json
        """)

    @Option(name: .customLong("model"), parsing: .upToNextOption, help: "Models to time.")
    var models = ["inception_v3", "efficientnet_lite0"]

    @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch sizes of the forward section.")
    var batches = [1, 8]

    @Option(name: .customLong("threads"), parsing: .upToNextOption, help: "Thread counts of the forward section; the other sections use the first.")
    var threads = [2]

    @Option(name: .long, help: "Timed runs per measurement (the median is reported).")
    var runs = 20

    @Option(name: .long, help: "Untimed runs before each measurement.")
    var warmup = 3

    @Option(name: .long, help: "Comma-separated sections to run (default: forward).")
    var section: String?

    @Flag(name: .long, help: "Run every section (a few minutes).")
    var all = false

    @Option(name: .long, help: "Folder of the peer ONNX models (default: peers in the shared data: $BLINDSPOT_SHARED, ../shared or beside the repository).")
    var peers: String?

    @Option(name: .long, help: "The Python that runs ONNX Runtime.")
    var python = "python3"

    @Flag(name: .customLong("no-peer"), help: "Do not run ONNX Runtime.")
    var noPeer = false

    @Option(name: .long, help: "Side of the square matrices of the sgemm peak.")
    var sgemmSize = 2048

    @Option(name: .long, help: "Timed `blindspot classify` processes per model (startup and memory), after one untimed.")
    var startupRuns = 5

    @Option(name: .long, help: "Seconds of load per server measurement.")
    var serverSeconds = 10.0

    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent clients of the server section.")
    var clients = [1, 8, 32]

    @Option(name: .customLong("batch-window-ms"), parsing: .upToNextOption,
            help: "Server batch windows to try with the most clients; the first is used for every client count.")
    var batchWindows = [5.0, 0, 20]

    @Option(name: .long, help: "Timed runs of scaling measurements no other section made.")
    var scalingRuns = 5

    @Option(name: .long, help: "The photo the test JPEGs are made from (default: a 500×375 photo of $BLINDSPOT_SHARED/imagenet-sample, resized for other sizes).")
    var photo: String?

    @Flag(name: .long, help: "Print one JSON document with every section run and every target.")
    var json = false

    func validate() throws {
        try OptionCheck.requireModels(models, "--model")
        try OptionCheck.require(batches, within: OptionCheck.batchSizes, "--batch")
        try OptionCheck.require(threads, within: ThreadOptions.counts, "--threads")
        try OptionCheck.require(runs, within: 1...10_000, "--runs")
        try OptionCheck.require(warmup, within: 0...10_000, "--warmup")
        try OptionCheck.require(startupRuns, within: 1...1000, "--startup-runs")
        try OptionCheck.require(scalingRuns, within: 1...1000, "--scaling-runs")
        // Three square float matrices of 8192² take 768 MB.
        try OptionCheck.require(sgemmSize, within: 1...8192, "--sgemm-size")
        try OptionCheck.require(serverSeconds, within: 0.1...3600, "--server-seconds")
        try OptionCheck.require(clients, within: 1...1024, "--clients")
        try OptionCheck.require(batchWindows, within: 0...10_000, "--batch-window-ms")
        _ = try sections()
    }

    func run() throws {
        if let photo { try FileCheck.readable(photo, expected: "an image file") }
        let environment = try CommandEnvironment()
        let shared = SharedData()
        var peer: OnnxRuntimePeer?
        if !noPeer {
            let candidate = OnnxRuntimePeer(python: python, peersDirectory: URL(fileURLWithPath: peers ?? shared.folder("peers"), isDirectory: true))
            do {
                _ = try candidate.version()
                peer = candidate
            } catch {
                printError("note: \(UserErrors.message(for: error)); timing Blindspot alone")
            }
        }
        var settings = PerformanceSettings(models: models, batches: batches, threads: threads, runs: runs, warmup: warmup, peer: peer,
                                           executable: try Self.executable(), samplePhotos: try samplePhotos(shared: shared))
        settings.sgemmSize = sgemmSize
        settings.startupRuns = startupRuns
        settings.serverDuration = .milliseconds(Int64(serverSeconds * 1000))
        settings.clientCounts = clients
        settings.batchWindowsMs = batchWindows
        settings.scalingRuns = scalingRuns
        let benchmark = try PerformanceBenchmark(settings: settings, loader: environment.loader) { printError("… \($0)") }
        let document = try benchmark.run(try sections())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
        } else {
            print(BenchmarkTables.render(document))
        }
    }

    private func sections() throws -> Set<BenchmarkSection> {
        if all { return Set(BenchmarkSection.allCases) }
        guard let section else { return [.forward] }
        guard section.contains(where: { $0 != "," && !$0.isWhitespace }) else { throw ValidationError("--section names no section") }
        return Set(try section.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let known = BenchmarkSection(rawValue: trimmed) else {
                throw ValidationError("unknown section '\(trimmed)'; sections: \(BenchmarkSection.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return known
        })
    }

    /// This executable, which the startup, memory and server sections run as child processes.
    private static func executable() throws -> URL {
        URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    }

    private func samplePhotos(shared: SharedData) throws -> [URL] {
        if let photo { return [URL(fileURLWithPath: photo)] }
        let folder = shared.folder("imagenet-sample")
        let photos = (try? ImageFiles.expand(folder)) ?? []
        guard !photos.isEmpty else { throw CommandFailure(description: "no photo in \(folder): pass --photo FILE or set BLINDSPOT_SHARED") }
        return photos.map { URL(fileURLWithPath: $0) }
    }
}
