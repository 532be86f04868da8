// The arithmetic and bookkeeping behind `blindspot bench`: FLOP counts of the networks, the sgemm yardstick,
// percentiles and targets. No timing is asserted: speeds belong to benchmarks, not to tests.
import Bench
import ChildProcess
import Foundation
import ModelFetch
import Engine
import EngineDNNL
import ModelRegistry
import Models
import Onnx
import TestSupport
import Testing

@Suite struct BenchmarkTests {
    @Test func inceptionV3CostsAbout11Point4GigaFLOPPerImage() throws {
        let model = try #require(ModelZoo.standard.model(named: "inception_v3"))
        let graph = try model.graph(from: SyntheticWeights.stateDict(for: model))
        let gigaFLOP = Double(graph.floatingPointOperations) / 1e9
        #expect(abs(gigaFLOP - 11.4) <= 0.2, "inception_v3 at 299²: \(gigaFLOP) GFLOP")
        #expect(graph.floatingPointOperations == 2 * graph.multiplyAccumulates)
    }

    @Test func countsConvolutionsByGroupAndLinearLayersByWeight() {
        var builder = GraphBuilder(name: "tiny", inputShape: [4, 8, 8])
        // 3×3, stride 1, padding 1, 4 → 6 channels in 2 groups: 6·8·8 outputs × (4/2)·3·3 = 6912 MACs.
        let convolution = builder.convolution(builder.input, Convolution(weight: Tensor(shape: [6, 2, 3, 3], repeating: 0), bias: nil,
                                                                         padding: Padding2D(symmetric: 1, 1), groups: 2))
        let pooled = builder.globalAveragePool(convolution)
        // 6 → 10 features: 60 MACs.
        let output = builder.linear(pooled, Linear(weight: Tensor(shape: [10, 6], repeating: 0), bias: nil))
        #expect(builder.build(output: output).multiplyAccumulates == 6912 + 60)
    }

    /// The peak section's yardstick counts 2n³ operations and multiplies correctly (its speed is `bench`'s business).
    @Test func sgemmYardstickCountsItsOperationsAndMultiplies() throws {
        let product = SquareMatrixMultiply(size: 128, threads: 1)
        #expect(product.floatingPointOperations == 2 * 128 * 128 * 128)
        try product.multiply()
        for (row, column) in [(0, 0), (5, 77), (127, 127)] {
            let expected = (0..<128).reduce(Double(0)) { sum, k in
                let (a, b) = product.operands(row: row, column: column, k: k)
                return sum + Double(a) * Double(b)
            }
            #expect(abs(Double(product.value(row: row, column: column)) - expected) < 1e-4 * max(1, abs(expected)), "C[\(row), \(column)]")
        }
    }

    @Test func percentilesAreNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(ServerLoad.percentile(values, 0.5) == 50)
        #expect(ServerLoad.percentile(values, 0.99) == 99)
        #expect(ServerLoad.percentile([7], 0.99) == 7)
        #expect(ServerLoad.percentile([], 0.5) == 0)
    }

    @Test func targetsSayWhetherTheyAreMet() {
        #expect(BenchmarkTarget(section: .forward, name: "ratio", measured: 0.9, .atMost, 0.9, unit: "×").met)
        #expect(!BenchmarkTarget(section: .forward, name: "ratio", measured: 0.91, .atMost, 0.9, unit: "×").met)
        #expect(BenchmarkTarget(section: .server, name: "fraction", measured: 0.85, .atLeast, 0.85, unit: "×").met)
        #expect(!BenchmarkTarget(section: .server, name: "fraction", measured: 0.8, .atLeast, 0.85, unit: "×").met)
    }

    /// A model without a peer file in the shared data (ResNet-18 here) is timed against ONNX Runtime running the very
    /// graph Blindspot runs, exported by Blindspot: both times come out of the same run.
    @Test(.enabled(if: OnnxRuntimeRunner.isAvailable)) func aModelWithoutAPeerFileIsTimedAgainstItsOwnExportedGraph() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-peers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = PerformanceSettings(models: ["resnet18"], batches: [1], threads: [2], runs: 4, warmup: 1,
                                           peer: OnnxRuntimePeer(python: OnnxRuntimeRunner.python, peersDirectory: folder),
                                           executable: URL(fileURLWithPath: "/bin/true"), samplePhotos: [folder])
        let loader = ModelLoader(cache: ModelCache(directory: folder), labels: try ImageNetLabels.bundled())
        var heard: [String] = []
        let document = try PerformanceBenchmark(settings: settings, loader: loader) { heard.append($0) }.run([.forward])
        let comparison = try #require(document.forward?.first)
        #expect(comparison.model == "resnet18" && (comparison.onnxruntime?.msPerBatch ?? 0) > 0 && comparison.timeRatio != nil)
        #expect(heard.contains("onnxruntime resnet18 (Blindspot's graph exported) batch 1, 2 threads"), "\(heard)")
        #expect(heard.contains("blindspot resnet18 batch 1, 2 threads, taking turns with onnxruntime"), "\(heard)")
    }

    /// A conversation answers line by line; a program that ends is an error with its exit status and what it printed
    /// on standard error, and writing to it afterwards throws instead of ending this process (SIGPIPE).
    @Test func aConversationAnswersLineByLineAndSaysHowItEnded() throws {
        let python = try #require(ChildProcess.locate("python3"), "python3 is on the PATH")
        let echo = try ChildConversation(python, ["-c", "import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1], flush=True)"])
        for word in ["turns", "onnx", ""] {
            try echo.send(word)
            #expect(try echo.receiveLine() == String(word.reversed()))
        }
        echo.finish()
        let failing = try ChildConversation(python, ["-c", "import sys\nsys.stdin.readline()\nsys.stderr.write('no model here')\nsys.exit(3)"])
        try failing.send("1")
        #expect { try failing.receiveLine() } throws: { error in
            "\(error)".contains("exited with status 3") && "\(error)".contains("no model here")
        }
        #expect(throws: ChildConversation.Ended.self) { try failing.send("2") }
    }

    /// ONNX Runtime's session times as many runs as asked, each turn; a peer whose program stops before it is ready, or
    /// while it times, is an error that says how it stopped, not a hang or a trap.
    @Test(.enabled(if: OnnxRuntimeRunner.isAvailable)) func onnxRuntimeTakesTurnsAndAPeerThatStopsSaysHow() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("resnet18.onnx")
        let loader = ModelLoader(cache: ModelCache(directory: folder), labels: try ImageNetLabels.bundled())
        let descriptor = try loader.descriptor(named: "resnet18")
        let graph = try descriptor.graph(from: SyntheticWeights.stateDict(for: descriptor))
        try OnnxExporter.model(of: graph, producerVersion: "BenchTests").serialized().write(to: file)
        let session = try OnnxRuntimePeer(python: OnnxRuntimeRunner.python, peersDirectory: folder)
            .session(file: file, inputSize: 224, batch: 1, threads: 1)
        for runs in [3, 1, 2] {
            let times = try session.milliseconds(runs: runs)
            #expect(times.count == runs && times.allSatisfy { $0 > 0 }, "\(times)")
        }
        session.close()
        #expect(throws: OnnxRuntimePeer.PeerError.self) { try session.milliseconds(runs: 1) }

        let notPython = OnnxRuntimePeer(python: "false", peersDirectory: folder)
        #expect { try notPython.session(file: file, inputSize: 224, batch: 1, threads: 1) } throws: { error in
            "\(error)".contains("exited with status 1")
        }
        let missing = OnnxRuntimePeer(python: OnnxRuntimeRunner.python, peersDirectory: folder)
        #expect { try missing.session(file: folder.appendingPathComponent("none.onnx"), inputSize: 224, batch: 1, threads: 1) } throws: { error in
            "\(error)".contains("no peer model at")
        }
    }

}
