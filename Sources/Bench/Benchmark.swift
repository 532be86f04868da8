// Timing of forward passes: medians over repeated runs for Blindspot's engine, and the same measurement of
// ONNX Runtime on the peer models (../shared/peers) through Python, so both come from one run on one machine.
import ChildProcess
import Foundation
import Inference

public struct BenchmarkResult: Sendable, Codable, Equatable {
    public let engine: String
    public let model: String
    public let batch: Int
    public let threads: Int
    public let msPerBatch: Double
    public let imagesPerSecond: Double

    public init(engine: String, model: String, batch: Int, threads: Int, msPerBatch: Double) {
        self.engine = engine
        self.model = model
        self.batch = batch
        self.threads = threads
        self.msPerBatch = msPerBatch
        self.imagesPerSecond = Double(batch) * 1000 / msPerBatch
    }
}

public enum Benchmark {
    /// The median duration of `body` in milliseconds over `runs` calls, after `warmup` untimed calls.
    public static func medianMilliseconds(runs: Int, warmup: Int, _ body: () throws -> Void) rethrows -> Double {
        precondition(runs >= 1, "at least one timed run")
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            times.append((ContinuousClock.now - start).milliseconds)
        }
        return median(times)
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// ONNX Runtime's CPU provider, run by `python` on an ONNX file (`peers/<model>.onnx` where the shared data has one)
/// with random input.
public struct OnnxRuntimePeer: Sendable {
    public let python: String
    public let peersDirectory: URL

    public enum PeerError: Error, CustomStringConvertible {
        case unavailable(String)
        case failed(String)

        public var description: String {
            switch self {
            case .unavailable(let reason): return "ONNX Runtime is not available: \(reason)"
            case .failed(let output): return "ONNX Runtime benchmark failed: \(output)"
            }
        }
    }

    public init(python: String = "python3", peersDirectory: URL) {
        self.python = python
        self.peersDirectory = peersDirectory
    }

    /// The ONNX Runtime version `python` imports, or why it cannot.
    public func version() throws -> String {
        let output = try run(["-c", "import onnxruntime; print(onnxruntime.__version__)"])
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func modelFile(_ model: String) -> URL {
        peersDirectory.appendingPathComponent(model + ".onnx")
    }

    /// The median time of ONNX Runtime running `file` (`model`'s network) on a random batch.
    public func measure(model: String, file: URL, inputSize: Int, batch: Int, threads: Int, runs: Int, warmup: Int) throws -> BenchmarkResult {
        guard FileManager.default.fileExists(atPath: file.path) else { throw PeerError.unavailable("no peer model at \(file.path)") }
        let output = try run(["-c", Self.script, file.path, String(inputSize), String(batch), String(threads), String(runs), String(warmup)])
        guard let milliseconds = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw PeerError.failed(output) }
        return BenchmarkResult(engine: "onnxruntime", model: model, batch: batch, threads: threads, msPerBatch: milliseconds)
    }

    /// Loads the model with `threads` intra-op threads, times `runs` calls after `warmup`, prints the median in ms.
    static let script = """
    import sys, time
    import numpy as np, onnxruntime as ort
    path, size, batch, threads, runs, warmup = sys.argv[1], *map(int, sys.argv[2:])
    options = ort.SessionOptions(); options.intra_op_num_threads = threads; options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).random((batch, 3, size, size), dtype=np.float32)
    for _ in range(warmup): session.run(None, {name: x})
    times = []
    for _ in range(runs):
        start = time.perf_counter(); session.run(None, {name: x}); times.append(time.perf_counter() - start)
    print(float(np.median(times)) * 1000)
    """

    private func run(_ arguments: [String]) throws -> String {
        let result: ChildProcessResult
        do {
            result = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), [python] + arguments)
        } catch {
            throw PeerError.unavailable("\(python) could not be started: \(error)")
        }
        let text = result.output
        guard result.shellStatus == 0 else {
            if text.contains("No module named 'onnxruntime'") {
                throw PeerError.unavailable("\(python) cannot import onnxruntime (pip install onnxruntime, or make bench)")
            }
            throw PeerError.failed(text)
        }
        return text
    }
}
