// ONNX Runtime, the peer, run through python3 on one batch: tests compare Blindspot's numbers with it.
// The interpreter is $BLINDSPOT_PYTHON (the Makefile points it at its virtual environment) or python3.
import ChildProcess
import Engine
import Foundation

public enum OnnxRuntimeRunner {
    public static var python: String {
        ProcessInfo.processInfo.environment["BLINDSPOT_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// Whether the interpreter imports onnxruntime (checked once); tests that need it are skipped otherwise.
    public static let isAvailable: Bool = {
        let result = try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), [python, "-c", "import onnxruntime, numpy"])
        let available = result?.shellStatus == 0
        if !available { print("note: \(python) cannot import onnxruntime and numpy: ONNX Runtime comparisons are skipped (make test installs them)") }
        return available
    }()

    /// The model's first output for `input` (CPU provider, float32).
    public static func outputs(model: URL, input: Tensor) async throws -> Tensor {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputFile = directory.appendingPathComponent("input.f32"), outputFile = directory.appendingPathComponent("output.f32")
        try input.scalars.withUnsafeBytes { Data($0) }.write(to: inputFile)
        let shape = try await run(["-c", script, model.path, inputFile.path, outputFile.path] + input.shape.map(String.init))
        let dimensions = shape.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let data = try Data(contentsOf: outputFile)
        let scalars = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return Tensor(shape: dimensions, scalars: scalars)
    }

    static let script = """
    import sys
    import numpy as np, onnxruntime as ort
    model, source, target, *shape = sys.argv[1:]
    x = np.fromfile(source, dtype=np.float32).reshape([int(d) for d in shape])
    options = ort.SessionOptions(); options.intra_op_num_threads = 1  # other suites run in parallel
    session = ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])
    y = session.run(None, {session.get_inputs()[0].name: x})[0].astype(np.float32)
    y.tofile(target)
    print(' '.join(str(d) for d in y.shape))
    """

    static func run(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), [python] + arguments)
        guard result.shellStatus == 0 else { throw RunnerError(output: result.output) }
        return result.output
    }

    struct RunnerError: Error, CustomStringConvertible {
        let output: String
        var description: String { "ONNX Runtime failed: \(output)" }
    }
}
