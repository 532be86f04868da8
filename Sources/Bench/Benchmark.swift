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
        return median(try milliseconds(runs: runs, body))
    }

    /// The duration of each of `runs` calls of `body`, in milliseconds.
    public static func milliseconds(runs: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try (0..<runs).map { _ in
            let start = ContinuousClock.now
            try body()
            return (ContinuousClock.now - start).milliseconds
        }
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

    /// ONNX Runtime with `file` loaded on `threads` intra-op threads and a random batch of `inputSize`² images, kept
    /// running to time calls when asked (see `OnnxRuntimeSession`).
    public func session(file: URL, inputSize: Int, batch: Int, threads: Int) throws -> OnnxRuntimeSession {
        guard FileManager.default.fileExists(atPath: file.path) else { throw PeerError.unavailable("no peer model at \(file.path)") }
        let conversation: ChildConversation
        do {
            conversation = try ChildConversation(URL(fileURLWithPath: "/usr/bin/env"),
                                                 [python, "-c", Self.script, file.path, String(inputSize), String(batch), String(threads)])
        } catch {
            throw PeerError.unavailable("\(python) could not be started: \(error)")
        }
        let session = OnnxRuntimeSession(conversation: conversation)
        do {
            let greeting = try conversation.receiveLine()
            guard greeting == "ready" else { throw PeerError.failed("ONNX Runtime said \(greeting.debugDescription) instead of ready") }
        } catch let ended as ChildConversation.Ended {
            throw ended.description.contains("No module named 'onnxruntime'")
                ? PeerError.unavailable("\(python) cannot import onnxruntime (pip install onnxruntime, or make bench)")
                : PeerError.failed(ended.description)
        }
        return session
    }

    /// Loads the model with `threads` intra-op threads and prints `ready`; then, for each line N > 0 read, times N calls
    /// and prints their milliseconds on one line; ends at N ≤ 0 or the end of its input.
    static let script = """
    import sys, time
    import numpy as np, onnxruntime as ort
    path, size, batch, threads = sys.argv[1], *map(int, sys.argv[2:])
    options = ort.SessionOptions(); options.intra_op_num_threads = threads; options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).random((batch, 3, size, size), dtype=np.float32)
    print('ready', flush=True)
    for line in sys.stdin:
        if int(line) <= 0: break
        times = []
        for _ in range(int(line)):
            start = time.perf_counter(); session.run(None, {name: x}); times.append((time.perf_counter() - start) * 1000)
        print(' '.join(map(repr, times)), flush=True)
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

/// ONNX Runtime kept running on one model and batch, timing calls when asked: `blindspot bench` takes turns with it, a
/// few runs each, so that both engines' medians come from the same minutes of a machine whose speed drifts.
public final class OnnxRuntimeSession {
    private let conversation: ChildConversation

    init(conversation: ChildConversation) {
        self.conversation = conversation
    }

    /// The milliseconds of each of `runs` calls (at least one).
    public func milliseconds(runs: Int) throws -> [Double] {
        let runs = max(runs, 1)
        do {
            try conversation.send(String(runs))
            let line = try conversation.receiveLine()
            let times = line.split(separator: " ").compactMap { Double($0) }
            guard times.count == runs else { throw OnnxRuntimePeer.PeerError.failed("ONNX Runtime printed \(line.debugDescription)") }
            return times
        } catch let ended as ChildConversation.Ended {
            throw OnnxRuntimePeer.PeerError.failed(ended.description)
        }
    }

    /// Ends the program.
    public func close() { conversation.finish() }
}
