// Runs the sections of `blindspot bench` and gathers them into one BenchmarkDocument with its targets: forward
// passes next to ONNX Runtime, effective GFLOP/s, memory and start-up of child processes, the image path, a
// server under concurrent clients, and how cost grows. Measurements shared by sections are made once.
import ChildProcess
import Engine
import EngineDNNL
import Foundation
import Imaging
import Inference
import ModelRegistry
import Models
import Onnx
import Transforms
import Weights

public struct PerformanceSettings: Sendable {
    public struct ImageSize: Sendable, Hashable {
        public let width: Int
        public let height: Int

        public init(_ width: Int, _ height: Int) {
            self.width = width
            self.height = height
        }
    }

    public var models: [String]
    public var batches: [Int]
    /// Forward passes run with each; every other section uses the first.
    public var threads: [Int]
    public var runs: Int
    public var warmup: Int
    /// ONNX Runtime, when it is to run next to Blindspot.
    public var peer: OnnxRuntimePeer?
    public var sgemmSize = 2048
    public var startupRuns = 5
    public var serverDuration: Duration = .seconds(10)
    public var clientCounts = [1, 8, 32]
    /// Batch windows tried with the most clients; the first is the one the client counts run with.
    public var batchWindowsMs = [5.0, 0, 20]
    public var maxBatch = 8
    public var queue = 64
    public var scalingBatches = [1, 2, 4, 8, 16]
    /// Timed runs of scaling measurements that no other section made.
    public var scalingRuns = 5
    /// The first is the image that startup, memory and server runs send.
    public var imageSizes = [ImageSize(500, 375), ImageSize(1600, 1200), ImageSize(4000, 3000)]
    /// The `blindspot` executable, for child processes.
    public var executable: URL
    /// Photos the test JPEGs come from: one of exactly the size asked for is used as is, else the first is
    /// resized and re-encoded.
    public var samplePhotos: [URL]

    public init(models: [String], batches: [Int], threads: [Int], runs: Int, warmup: Int, peer: OnnxRuntimePeer?,
                executable: URL, samplePhotos: [URL]) {
        self.models = models
        self.batches = batches
        self.threads = threads
        self.runs = runs
        self.warmup = warmup
        self.peer = peer
        self.executable = executable
        self.samplePhotos = samplePhotos
    }
}

/// The goals of the performance issue, in one place.
enum PerformanceGoals {
    /// (model, batch) → the forward target: time ratio at batch 1, throughput ratio above.
    static let forward: [String: [Int: (BenchmarkTarget.Comparison, Double)]] = [
        "inception_v3": [1: (.atMost, 0.9), 8: (.atLeast, 1.1)],
        "efficientnet_lite0": [1: (.atMost, 1.0), 8: (.atLeast, 1.0)],
        // Issue 19: at most ONNX Runtime's time for every new model, at most 0.9× for ResNet-50 at batch 8.
        "resnet50": [1: (.atMost, 1.0), 8: (.atMost, 0.9)],
        "convnext_tiny": [1: (.atMost, 1.0), 8: (.atMost, 1.0)],
        "vit_b_16": [1: (.atMost, 1.0), 8: (.atMost, 1.0)],
    ]
    static let peakModel = "inception_v3", peakFraction = 0.85
    static let memoryFactor = 1.3, memoryAllowanceMB = 100.0
    static let startupModel = "inception_v3", startupSeconds = 1.5
    static let imageModel = "inception_v3"
    static let imageMilliseconds: [PerformanceSettings.ImageSize: Double] = [.init(4000, 3000): 20, .init(500, 375): 4]
    static let serverFraction = 0.85
    /// Corrupting an image costs less than classifying it with this model, on average over the 15 common corruptions.
    static let corruptionModel = "efficientnet_lite0"
    /// Sample photos the corruptions section corrupts.
    static let corruptionPhotos = 5
}

public final class PerformanceBenchmark {
    private let settings: PerformanceSettings
    private let loader: ModelLoader
    private let progress: (String) -> Void
    private let workDirectory: URL
    private let decoder = ImageDecoder()
    private var threads: Int { settings.threads[0] }

    private struct ForwardKey: Hashable {
        let model: String
        let batch: Int
        let threads: Int
    }

    private var backends: [Int: DNNLBackend] = [:]
    private var graphs: [String: Graph] = [:]
    private var networks: [ForwardKey: any PreparedGraph] = [:]
    private var forwardTimes: [ForwardKey: (result: BenchmarkResult, runs: Int)] = [:]
    private var jpegs: [PerformanceSettings.ImageSize: Data] = [:]
    private var imagePaths: [String: [PerformanceSettings.ImageSize: ImagePathMeasurement]] = [:]
    private var weightFiles: [String: (url: URL, synthetic: Bool)] = [:]
    private var servers: [String: ServerMeasurement] = [:]

    /// `progress` hears what is being measured, for a terminal.
    public init(settings: PerformanceSettings, loader: ModelLoader, progress: @escaping (String) -> Void) throws {
        precondition(!settings.models.isEmpty && !settings.threads.isEmpty && !settings.imageSizes.isEmpty && !settings.samplePhotos.isEmpty)
        self.settings = settings
        self.loader = loader
        self.progress = progress
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-bench-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: workDirectory) }

    public func run(_ sections: Set<BenchmarkSection>) throws -> BenchmarkDocument {
        var document = BenchmarkDocument(machine: MachineDescription(
            instructionSet: DNNLBackend.instructionSet, cores: ProcessInfo.processInfo.activeProcessorCount, threads: threads,
            onnxRuntime: try settings.peer.map { try $0.version() }, runs: settings.runs, warmup: settings.warmup))
        for section in BenchmarkSection.allCases where sections.contains(section) {
            switch section {
            case .forward: document.forward = try forwardSection(into: &document.targets)
            case .peak: document.peak = try peakSection(into: &document.targets)
            case .memory: document.memory = try memorySection(into: &document.targets)
            case .startup: document.startup = try startupSection(into: &document.targets)
            case .image: document.image = try imageSection(into: &document.targets)
            case .transforms: document.transforms = try transformsSection()
            case .corruptions: document.corruptions = try corruptionsSection(into: &document.targets)
            case .server: document.server = try serverSection(into: &document.targets)
            case .scaling: document.scaling = try scalingSection()
            }
        }
        return document
    }

    // MARK: Sections

    private func forwardSection(into targets: inout [BenchmarkTarget]) throws -> [ForwardComparison] {
        var comparisons: [ForwardComparison] = []
        for threadCount in settings.threads {
            for model in settings.models {
                for batch in settings.batches {
                    var session: OnnxRuntimeSession?
                    if let peer = settings.peer {
                        let (file, exported) = try peerFile(model, peer: peer)
                        progress("onnxruntime \(model)\(exported ? " (Blindspot's graph exported)" : "") batch \(batch), \(threadCount) threads")
                        session = try peer.session(file: file, inputSize: try loader.descriptor(named: model).inputSize,
                                                   batch: batch, threads: threadCount)
                    }
                    defer { session?.close() }
                    let (ours, theirs) = try forward(model, batch: batch, threads: threadCount, runs: settings.runs, takingTurnsWith: session)
                    let comparison = ForwardComparison(blindspot: ours, onnxruntime: theirs)
                    comparisons.append(comparison)
                    guard let (relation, limit) = PerformanceGoals.forward[model]?[batch] else { continue }
                    let (measured, what) = relation == .atMost
                        ? (comparison.timeRatio, "time ÷ onnxruntime's") : (comparison.throughputRatio, "images/s ÷ onnxruntime's")
                    if let measured {
                        targets.append(BenchmarkTarget(section: .forward, name: "\(model) batch \(batch) \(threadCount) threads: \(what)",
                                                       measured: measured, relation, limit, unit: "×"))
                    }
                }
            }
        }
        return comparisons
    }

    private func peakSection(into targets: inout [BenchmarkTarget]) throws -> [PeakUtilisation] {
        progress("sgemm \(settings.sgemmSize)², \(threads) threads")
        let product = SquareMatrixMultiply(size: settings.sgemmSize, threads: threads)
        let sgemmMs = try Benchmark.medianMilliseconds(runs: settings.runs, warmup: max(settings.warmup, 1)) { try product.multiply() }
        let sgemmGflops = Double(product.floatingPointOperations) / sgemmMs / 1e6
        return try settings.models.map { model in
            let batch = settings.maxBatch
            let timing = try forward(model, batch: batch, threads: threads, runs: settings.runs)
            let gflopPerImage = Double(try network(model, threads: threads).graph.floatingPointOperations) / 1e9
            let effective = gflopPerImage * timing.imagesPerSecond
            let utilisation = PeakUtilisation(model: model, threads: threads, gflopPerImage: gflopPerImage, batch: batch,
                                              imagesPerSecond: timing.imagesPerSecond, effectiveGflops: effective,
                                              sgemmSize: settings.sgemmSize, sgemmGflops: sgemmGflops, fractionOfPeak: effective / sgemmGflops)
            if model == PerformanceGoals.peakModel {
                targets.append(BenchmarkTarget(section: .peak, name: "\(model) batch \(batch): effective GFLOP/s ÷ sgemm's",
                                               measured: utilisation.fractionOfPeak, .atLeast, PerformanceGoals.peakFraction, unit: "×"))
            }
            return utilisation
        }
    }

    private func memorySection(into targets: inout [BenchmarkTarget]) throws -> [MemoryMeasurement] {
        try settings.models.map { model in
            progress("blindspot bench-child, \(model)")
            let weights = try weightsFile(model)
            let child = try measuredChild(["bench-child"] + modelArguments(model))
            guard let peakBytes = Int(child.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ChildFailure(description: "blindspot bench-child printed no byte count: \(child.output)")
            }
            let weightsMB = Double(try FileManager.default.attributesOfItem(atPath: weights.url.path)[.size] as? Int ?? 0) / 1_048_576
            let measurement = MemoryMeasurement(model: model, weightsMB: weightsMB, peakResidentMB: Double(peakBytes) / 1_048_576,
                                                boundMB: PerformanceGoals.memoryFactor * weightsMB + PerformanceGoals.memoryAllowanceMB)
            targets.append(BenchmarkTarget(section: .memory, name: "\(model): peak resident memory, loaded and one image classified",
                                           measured: measurement.peakResidentMB, .atMost, measurement.boundMB, unit: "MB"))
            return measurement
        }
    }

    private func startupSection(into targets: inout [BenchmarkTarget]) throws -> [StartupMeasurement] {
        try settings.models.map { model in
            let seconds = try classifyProcesses(model).map(\.seconds)
            let measurement = StartupMeasurement(model: model, syntheticWeights: try weightsFile(model).synthetic,
                                                 seconds: seconds, medianSeconds: Benchmark.median(seconds))
            if model == PerformanceGoals.startupModel {
                targets.append(BenchmarkTarget(section: .startup, name: "\(model): process start to exit of classify on one image",
                                               measured: measurement.medianSeconds, .atMost, PerformanceGoals.startupSeconds, unit: "s"))
            }
            return measurement
        }
    }

    private func imageSection(into targets: inout [BenchmarkTarget]) throws -> [ImagePathMeasurement] {
        var measurements: [ImagePathMeasurement] = []
        for model in settings.models {
            for size in settings.imageSizes {
                let measurement = try imagePath(model, size)
                measurements.append(measurement)
                if model == PerformanceGoals.imageModel, let limit = PerformanceGoals.imageMilliseconds[size] {
                    targets.append(BenchmarkTarget(section: .image, name: "\(model): \(size.width)×\(size.height) JPEG to input tensor",
                                                   measured: measurement.totalMs, .atMost, limit, unit: "ms"))
                }
            }
        }
        return measurements
    }

    /// Each family's levels on the first sample photo, each level timed as the other sections time (median of the runs,
    /// at most 5: some families take tens of milliseconds per level). A level a picture does not suit counts as done.
    private func transformsSection() throws -> [TransformTiming] {
        let picture = try decoder.decode(try Data(contentsOf: settings.samplePhotos[0]))
        return try TransformFamily.allCases.map { family in
            progress("transforms: \(family.rawValue) on \(picture.width)×\(picture.height)")
            let timed = try family.levels.map { level in
                (level, try Benchmark.medianMilliseconds(runs: min(settings.runs, 5), warmup: min(settings.warmup, 1)) {
                    _ = try? family.apply(to: picture, level: level)
                })
            }
            let sorted = timed.map(\.1).sorted()
            let slowest = timed.max { $0.1 < $1.1 }
            return TransformTiming(family: family.rawValue, width: picture.width, height: picture.height, levels: timed.count,
                                   medianMs: sorted.isEmpty ? 0 : sorted[sorted.count / 2], slowestMs: slowest?.1 ?? 0,
                                   slowestLevel: slowest?.0.label ?? "–")
        }
    }

    /// Every corruption at every severity on the ImageNet-C crops (256, then the centred 224) of the first sample
    /// photos: each severity's median over the runs (at most 5) of the time per image, against EfficientNet-Lite0's
    /// batch-1 forward pass on the same threads.
    private func corruptionsSection(into targets: inout [BenchmarkTarget]) throws -> CorruptionTimings {
        let photos = try settings.samplePhotos.prefix(PerformanceGoals.corruptionPhotos).map {
            Corruption.imageNetCrop(try decoder.decode(try Data(contentsOf: $0)))
        }
        let timings = try Corruption.allCases.map { corruption in
            progress("corruptions: \(corruption.rawValue) on \(photos.count) crops")
            let timed = try Corruption.severities.map { severity in
                (severity, try Benchmark.medianMilliseconds(runs: min(settings.runs, 5), warmup: min(settings.warmup, 1)) {
                    for (number, photo) in photos.enumerated() { _ = try corruption.apply(to: photo, severity: severity, seed: UInt64(number)) }
                } / Double(photos.count))
            }
            let slowest = timed.max { $0.1 < $1.1 } ?? (1, 0)
            return CorruptionTiming(corruption: corruption.rawValue, common: Corruption.common.contains(corruption),
                                    medianMs: Benchmark.median(timed.map(\.1)), slowestMs: slowest.1, slowestSeverity: slowest.0)
        }
        let common = timings.filter(\.common).map(\.medianMs)
        let model = PerformanceGoals.corruptionModel
        let classify = try forward(model, batch: 1, threads: threads, runs: settings.runs).msPerBatch
        let result = CorruptionTimings(images: photos.count, width: photos.first?.width ?? 0, height: photos.first?.height ?? 0,
                                       corruptions: timings, commonMeanMs: common.reduce(0, +) / Double(max(common.count, 1)),
                                       classifier: model, classifyMs: classify)
        targets.append(BenchmarkTarget(section: .corruptions, name: "mean over the 15 corruptions of ms per image ÷ \(model)'s batch-1 forward",
                                       measured: result.commonMeanMs / classify, .atMost, 1, unit: "×"))
        return result
    }

    private func serverSection(into targets: inout [BenchmarkTarget]) throws -> [ServerMeasurement] {
        let mostClients = settings.clientCounts.max() ?? 1
        return try settings.models.map { model in
            let measurement = try server(model)
            if let busiest = measurement.runs.first(where: { $0.batchWindowMs == settings.batchWindowsMs[0] && $0.load.clients == mostClients }) {
                targets.append(BenchmarkTarget(section: .server, name: "\(model): \(mostClients) clients' images/s ÷ engine's at batch \(measurement.engineBatch)",
                                               measured: busiest.fractionOfEngine, .atLeast, PerformanceGoals.serverFraction, unit: "×"))
            }
            return measurement
        }
    }

    private func scalingSection() throws -> ScalingTables {
        var batch: [BenchmarkResult] = []
        var imageSize: [ImageSizeCost] = []
        var clients: [ServerRunOfModel] = []
        for model in settings.models {
            for size in settings.scalingBatches {
                batch.append(try forward(model, batch: size, threads: threads, runs: settings.scalingRuns))
            }
            let single = try forward(model, batch: 1, threads: threads, runs: settings.scalingRuns).msPerBatch
            for size in settings.imageSizes {
                let prepared = try imagePath(model, size).totalMs
                imageSize.append(ImageSizeCost(model: model, width: size.width, height: size.height, prepareMs: prepared,
                                               prepareAndForwardMs: prepared + single))
            }
            for run in try server(model).runs where run.batchWindowMs == settings.batchWindowsMs[0] {
                clients.append(ServerRunOfModel(model: model, run: run))
            }
        }
        return ScalingTables(batch: batch, imageSize: imageSize, clients: clients)
    }

    // MARK: Shared measurements

    private func network(_ model: String, threads: Int) throws -> any PreparedGraph {
        let key = ForwardKey(model: model, batch: 0, threads: threads)
        if let network = networks[key] { return network }
        let backend = try backends[threads] ?? DNNLBackend(threads: threads)
        backends[threads] = backend
        let network = try backend.prepare(graph(model))
        networks[key] = network
        return network
    }

    /// The network Blindspot times: with cached weights (a checkpoint, or the ONNX file of an imported model), else
    /// synthetic ones, which run at the same speed.
    private func graph(_ model: String) throws -> Graph {
        if let graph = graphs[model] { return graph }
        let descriptor = try loader.descriptor(named: model)
        let graph = try loader.cachedWeights(of: descriptor).map { try loader.graph(of: descriptor, from: $0) }
            ?? descriptor.graph(from: SyntheticWeights.stateDict(for: descriptor))
        graphs[model] = graph
        return graph
    }

    /// The ONNX file ONNX Runtime runs for `model`: the shared data's peer file where there is one, else the very
    /// network Blindspot times, exported once into the work folder (true).
    private func peerFile(_ model: String, peer: OnnxRuntimePeer) throws -> (URL, exported: Bool) {
        let shipped = peer.modelFile(model)
        if FileManager.default.fileExists(atPath: shipped.path) { return (shipped, false) }
        let file = workDirectory.appendingPathComponent("\(model).onnx")
        if !FileManager.default.fileExists(atPath: file.path) {
            try OnnxExporter.model(of: try graph(model), producerVersion: Self.producer).serialized().write(to: file)
        }
        return (file, true)
    }

    static let producer = "blindspot bench"

    /// The median forward time; a measurement made before with at least as many runs is reused.
    private func forward(_ model: String, batch: Int, threads: Int, runs: Int) throws -> BenchmarkResult {
        try forward(model, batch: batch, threads: threads, runs: runs, takingTurnsWith: nil).blindspot
    }

    /// Blindspot's median time per batch, and with `peer` ONNX Runtime's, the two taking turns `Self.turnRuns` runs at a
    /// time after each one's warm-up: the machine's speed drifts by 20–30% over minutes, and turns put both medians in
    /// the same minutes.
    private func forward(_ model: String, batch: Int, threads: Int, runs: Int,
                         takingTurnsWith peer: OnnxRuntimeSession?) throws -> (blindspot: BenchmarkResult, onnxruntime: BenchmarkResult?) {
        let key = ForwardKey(model: model, batch: batch, threads: threads)
        if peer == nil, let known = forwardTimes[key], known.runs >= runs { return (known.result, nil) }
        let network = try network(model, threads: threads)
        progress("blindspot \(model) batch \(batch), \(threads) threads\(peer == nil ? "" : ", taking turns with onnxruntime")")
        let input = Tensor(shape: [batch] + network.graph.inputShape, repeating: 0.5)
        // OpenMP's thread count belongs to the calling thread: set it where the passes run.
        _ = try DNNLBackend(threads: threads)
        for _ in 0..<settings.warmup { _ = try network.run(input) }
        if let peer, settings.warmup > 0 {
            _ = try peer.milliseconds(runs: settings.warmup)
            Thread.sleep(forTimeInterval: Self.turnPause)
        }
        var ours: [Double] = [], theirs: [Double] = []
        while ours.count < runs {
            let turn = min(Self.turnRuns, runs - ours.count)
            ours += try Benchmark.milliseconds(runs: turn) { _ = try network.run(input) }
            guard let peer else { continue }
            Thread.sleep(forTimeInterval: Self.turnPause)
            theirs += try peer.milliseconds(runs: turn)
            Thread.sleep(forTimeInterval: Self.turnPause)
        }
        let result = BenchmarkResult(engine: "blindspot", model: model, batch: batch, threads: threads, msPerBatch: Benchmark.median(ours))
        forwardTimes[key] = (result, runs)
        let peerResult = peer == nil ? nil
            : BenchmarkResult(engine: "onnxruntime", model: model, batch: batch, threads: threads, msPerBatch: Benchmark.median(theirs))
        return (result, peerResult)
    }

    /// Runs of each engine per turn of the forward section.
    static let turnRuns = 3
    /// Seconds between turns: an engine's threads spin for a while after its last run (ONNX Runtime's for tens of
    /// milliseconds), and would take the cores from the other's first runs.
    static let turnPause = 0.1

    /// A JPEG of `size`: a sample photo of that size as is, else the first one resized (bicubic) and encoded by libvips.
    private func jpeg(_ size: PerformanceSettings.ImageSize) throws -> Data {
        if let known = jpegs[size] { return known }
        var data: Data?
        for file in settings.samplePhotos where data == nil {
            let original = try Data(contentsOf: file)
            let photo = try decoder.decode(original)
            if photo.width == size.width && photo.height == size.height { data = original }
        }
        if data == nil {
            let photo = try decoder.decode(try Data(contentsOf: settings.samplePhotos[0]))
            data = try photo.resized(width: size.width, height: size.height, filter: .bicubic).jpegData(quality: 90)
        }
        jpegs[size] = data
        return data!
    }

    private func jpegFile(_ size: PerformanceSettings.ImageSize) throws -> URL {
        let file = workDirectory.appendingPathComponent("photo-\(size.width)x\(size.height).jpg")
        if !FileManager.default.fileExists(atPath: file.path) { try jpeg(size).write(to: file) }
        return file
    }

    private func imagePath(_ model: String, _ size: PerformanceSettings.ImageSize) throws -> ImagePathMeasurement {
        if let known = imagePaths[model]?[size] { return known }
        progress("image path \(model) \(size.width)×\(size.height)")
        let bytes = try jpeg(size)
        let preprocessing = try loader.descriptor(named: model).preprocessing
        let decoded = try decoder.decode(bytes, minimumShorterSide: preprocessing.sourceShorterSide)
        let input = try preprocessing.inputImage(from: decoded)
        let exact = preprocessing.withoutResizing()
        func median(_ body: () throws -> Void) throws -> Double {
            try Benchmark.medianMilliseconds(runs: settings.runs, warmup: settings.warmup, body)
        }
        let measurement = ImagePathMeasurement(
            model: model, width: size.width, height: size.height, jpegBytes: bytes.count,
            shrinkOnLoad: preprocessing.sourceShorterSide.map { ImageDecoder.jpegShrinkFactor(width: size.width, height: size.height, minimumShorterSide: $0) } ?? 1,
            totalMs: try median { _ = try preprocessing.prepare(bytes, decoder: decoder) },
            decodeMs: try median { _ = try decoder.decode(bytes, minimumShorterSide: preprocessing.sourceShorterSide) },
            decodeFullSizeMs: try median { _ = try decoder.decode(bytes) },
            resizeMs: try median { _ = try preprocessing.inputImage(from: decoded) },
            normaliseMs: try median { _ = try exact.tensor(from: input) })
        imagePaths[model, default: [:]][size] = measurement
        return measurement
    }

    /// The cached weights, or stand-in weights written once for this run.
    private func weightsFile(_ model: String) throws -> (url: URL, synthetic: Bool) {
        if let known = weightFiles[model] { return known }
        let descriptor = try loader.descriptor(named: model)
        var file = (url: workDirectory.appendingPathComponent("\(model)-synthetic.safetensors"), synthetic: true)
        if let cached = loader.cachedWeights(of: descriptor) {
            file = (cached, false)
        } else {
            progress("synthetic weights for \(model)")
            try SafeTensors.write(SyntheticWeights.stateDict(for: descriptor), to: file.url)
        }
        weightFiles[model] = file
        return file
    }

    /// Options that make a child process load `model` as the benchmark does, then the smallest image.
    private func modelArguments(_ model: String) throws -> [String] {
        ["--model", model, "--weights", try weightsFile(model).url.path, "--threads", String(threads), try jpegFile(settings.imageSizes[0]).path]
    }

    /// Runs this executable with `arguments` and fails unless it succeeds.
    private func measuredChild(_ arguments: [String]) throws -> ChildProcessResult {
        let measurement = try ChildProcess.run(settings.executable, arguments)
        guard measurement.shellStatus == 0 else {
            throw ChildFailure(description: "blindspot \(arguments[0]) exited with \(measurement.shellStatus): \(measurement.output)")
        }
        return measurement
    }

    /// A child process of the benchmark that did not do its part.
    struct ChildFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// `blindspot classify` on the smallest image, timed `startupRuns` times after one untimed run.
    private func classifyProcesses(_ model: String) throws -> [ChildProcessResult] {
        progress("blindspot classify processes, \(model)")
        let arguments = ["classify"] + (try modelArguments(model))
        _ = try measuredChild(arguments)
        return try (0..<settings.startupRuns).map { _ in try measuredChild(arguments) }
    }

    private func server(_ model: String) throws -> ServerMeasurement {
        if let known = servers[model] { return known }
        let engine = try forward(model, batch: settings.maxBatch, threads: threads, runs: settings.runs)
        let weights = try weightsFile(model)
        let size = settings.imageSizes[0]
        let body = try jpeg(size)
        let mostClients = settings.clientCounts.max() ?? 1
        var runs: [ServerRun] = []
        for (index, window) in settings.batchWindowsMs.enumerated() {
            progress("blindspot serve \(model), batch window \(window) ms")
            let data = workDirectory.appendingPathComponent("serve-\(model)-\(index)", isDirectory: true)
            let arguments = ["--models", model, "--weights", "\(model)=\(weights.url.path)", "--threads", String(threads),
                             "--max-batch", String(settings.maxBatch), "--queue", String(settings.queue), "--batch-window-ms", String(window),
                             "--data", data.path, "--examples", data.appendingPathComponent("no-examples").path]
            let counts = index == 0 ? settings.clientCounts : [mostClients]
            let loads = try waitFor { [settings] in
                let server = try await ServerProcess(executable: settings.executable, arguments: arguments)
                defer { server.stop() }
                let target = server.baseURL.appendingPathComponent("api/v1/classify").appending(queryItems: [URLQueryItem(name: "model", value: model)])
                // Warm-up: the server's first batches of each size, and the clients' connections.
                _ = await ServerLoad.run(url: target, requests: .same(body: body, contentType: "image/jpeg"), clients: mostClients, duration: .seconds(1))
                var loads: [LoadResult] = []
                for clients in counts {
                    loads.append(await ServerLoad.run(url: target, requests: .same(body: body, contentType: "image/jpeg"), clients: clients,
                                                      duration: settings.serverDuration))
                }
                return loads
            }
            runs += loads.map { ServerRun(batchWindowMs: window, load: $0, fractionOfEngine: $0.answeredPerSecond / engine.imagesPerSecond) }
        }
        let measurement = ServerMeasurement(model: model, syntheticWeights: weights.synthetic, imageWidth: size.width, imageHeight: size.height,
                                            maxBatch: settings.maxBatch, queue: settings.queue, threads: threads, engineBatch: engine.batch,
                                            engineImagesPerSecond: engine.imagesPerSecond, runs: runs)
        servers[model] = measurement
        return measurement
    }

    /// Runs async work (the server and its clients) from this synchronous benchmark, whose forward passes stay on
    /// the calling thread.
    private func waitFor<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) throws -> Value {
        let outcome = Outcome<Value>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { outcome.result = .success(try await operation()) } catch { outcome.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try outcome.result!.get()
    }
}

/// A result handed from a task to the thread that waits for it (written before the semaphore is signalled).
private final class Outcome<Value: Sendable>: @unchecked Sendable {
    var result: Result<Value, any Error>?
}
