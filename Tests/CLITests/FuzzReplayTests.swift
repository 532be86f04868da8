// Inputs that once crashed a fuzz target (Tests/Fuzz/Regressions/TARGET/), and the hostile checkpoints of the
// weights tests, replayed through the same entry points by the normally built `blindspot-fuzz`.
import Foundation
import Testing

@Suite struct FuzzReplayTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL { BlindspotBinary.url.deletingLastPathComponent().appendingPathComponent("blindspot-fuzz") }

    @Test(arguments: ["image", "pytorch-zip", "pytorch-legacy", "safetensors", "onnx"])
    func everyTargetReplaysItsRegressionsAndTheHostileFixtures(_ target: String) async throws {
        let regressions = Self.repository.appendingPathComponent("Tests/Fuzz/Regressions/\(target)").path
        let fixtures = Self.repository.appendingPathComponent("Tests/WeightsTests/Fixtures").path
        let paths = [fixtures] + (FileManager.default.fileExists(atPath: regressions) ? [regressions] : [])
        let result = try await BlindspotBinary.run([target] + paths, executable: Self.binary)
        #expect(result.status == 0, "\(target) crashed on a replayed input: \(result.errors.suffix(2000))")
        #expect(result.output.contains("\(target): "), "\(result.output)")
    }
}
