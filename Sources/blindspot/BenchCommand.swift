// `blindspot bench`: median forward time and images/s of each model, batch size and thread count, next to
// ONNX Runtime on the same model in the same run when python3 can import onnxruntime.
import ArgumentParser
import Core
import Engine
import EngineDNNL
import Foundation
import Models
import Weights

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time forward passes and compare with ONNX Runtime on the peer models.",
        discussion: "Models whose weights are absent run with synthetic weights: the timing is the same, the outputs mean nothing.")

    @Option(name: .customLong("model"), parsing: .upToNextOption, help: "Models to time.")
    var models = ["inception_v3", "efficientnet_lite0"]

    @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch sizes.")
    var batches = [1, 8]

    @Option(name: .customLong("threads"), parsing: .upToNextOption, help: "Thread counts.")
    var threads = [2]

    @Option(name: .long, help: "Timed runs per measurement (the median is reported).")
    var runs = 20

    @Option(name: .long, help: "Untimed runs before each measurement.")
    var warmup = 3

    @Option(name: .long, help: "Folder of the peer ONNX models (default: $BLINDSPOT_SHARED/peers or ../shared/peers).")
    var peers: String?

    @Flag(name: .customLong("no-peer"), help: "Do not run ONNX Runtime.")
    var noPeer = false

    @Flag(name: .long, help: "Print one JSON object per measurement.")
    var json = false

    func validate() throws {
        if runs < 1 || warmup < 0 { throw ValidationError("--runs must be at least 1 and --warmup at least 0") }
        if batches.contains(where: { $0 < 1 }) || threads.contains(where: { $0 < 1 }) { throw ValidationError("batch sizes and thread counts must be positive") }
    }

    func run() throws {
        let environment = try CommandEnvironment()
        let peer = OnnxRuntimePeer(peersDirectory: peersDirectory())
        var peerVersion: String?
        if !noPeer {
            do {
                peerVersion = try peer.version()
            } catch {
                printError("note: \(error); timing Blindspot alone")
            }
        }
        if !json {
            print("oneDNN ISA \(DNNLBackend.instructionSet)\(peerVersion.map { ", ONNX Runtime \($0)" } ?? ""), \(runs) runs, median")
            print("model               batch threads  blindspot ms   img/s" + (peerVersion == nil ? "" : "   onnxruntime ms   img/s   time ratio"))
        }
        for threadCount in threads {
            let backend = try DNNLBackend(threads: threadCount)
            for name in models {
                let model = try environment.loader.descriptor(named: name)
                let network = try backend.prepare(model.graph(from: weights(for: model, environment: environment)))
                for batch in batches {
                    let input = Tensor(shape: [batch] + model.preprocessing.tensorShape, repeating: 0.5)
                    let milliseconds = try Benchmark.medianMilliseconds(runs: runs, warmup: warmup) { _ = try network.run(input) }
                    let ours = BenchmarkResult(engine: "blindspot", model: name, batch: batch, threads: threadCount, msPerBatch: milliseconds)
                    var theirs: BenchmarkResult?
                    if peerVersion != nil {
                        do {
                            theirs = try peer.measure(model: name, inputSize: model.inputSize, batch: batch, threads: threadCount, runs: runs, warmup: warmup)
                        } catch {
                            printError("note: \(name): \(error)")
                        }
                    }
                    try report(ours, theirs)
                }
            }
        }
    }

    private func weights(for model: ModelDescriptor, environment: CommandEnvironment) throws -> StateDict {
        if let file = environment.loader.cachedWeights(of: model) { return try WeightsFile.load(contentsOf: file) }
        printError("note: \(model.name) weights absent; timing it with synthetic weights")
        return SyntheticWeights.stateDict(for: model)
    }

    private func peersDirectory() -> URL {
        if let peers { return URL(fileURLWithPath: peers, isDirectory: true) }
        let shared = ProcessInfo.processInfo.environment["BLINDSPOT_SHARED"].flatMap { $0.isEmpty ? nil : $0 } ?? "../shared"
        return URL(fileURLWithPath: shared, isDirectory: true).appendingPathComponent("peers", isDirectory: true)
    }

    private func report(_ ours: BenchmarkResult, _ theirs: BenchmarkResult?) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for result in [ours, theirs].compactMap({ $0 }) { print(String(decoding: try encoder.encode(result), as: UTF8.self)) }
            return
        }
        var line = "\(ours.model.padding(toLength: 18, withPad: " ", startingAt: 0))  \(String(format: "%5d %7d", ours.batch, ours.threads))  "
            + String(format: "%12.2f %7.1f", ours.msPerBatch, ours.imagesPerSecond)
        if let theirs {
            line += String(format: "   %14.2f %7.1f   %10.2f×", theirs.msPerBatch, theirs.imagesPerSecond, ours.msPerBatch / theirs.msPerBatch)
        }
        print(line)
    }
}
