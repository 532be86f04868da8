// Inputs that once crashed a fuzz target (Tests/Fuzz/Regressions/TARGET/), and the hostile checkpoints of the
// weights tests, replayed through the same entry points by the normally built `blindspot-fuzz`.
import Foundation
import Testing

@Suite struct FuzzReplayTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL { BlindspotBinary.url.deletingLastPathComponent().appendingPathComponent("blindspot-fuzz") }

    static func replay(_ target: String, _ paths: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = [target] + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), errors: "")
    }

    @Test(arguments: ["image", "pytorch-zip", "pytorch-legacy", "safetensors", "onnx"])
    func everyTargetReplaysItsRegressionsAndTheHostileFixtures(_ target: String) throws {
        let regressions = Self.repository.appendingPathComponent("Tests/Fuzz/Regressions/\(target)").path
        let fixtures = Self.repository.appendingPathComponent("Tests/WeightsTests/Fixtures").path
        let paths = [fixtures] + (FileManager.default.fileExists(atPath: regressions) ? [regressions] : [])
        let result = try Self.replay(target, paths)
        #expect(result.status == 0, "\(target) crashed on a replayed input: \(result.output.suffix(2000))")
        #expect(result.output.contains("\(target): "), "\(result.output)")
    }
}
