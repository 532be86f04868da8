// Where tests find real model weights: the Blindspot cache ($BLINDSPOT_HOME, default ~/.cache/blindspot), which
// `make test` fills with `blindspot models fetch` before the tests run. Tests skip with a printed reason without them.
import Foundation

public enum CachedWeights {
    public static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["BLINDSPOT_HOME"], !home.isEmpty { return URL(fileURLWithPath: home, isDirectory: true) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/blindspot", isDirectory: true)
    }

    /// The cached file, or nil after printing why the test that needs it is skipped.
    public static func url(_ fileName: String) -> URL? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            print("SKIP: \(url.path) is absent (run `blindspot models fetch` or `make test`, which fetches it)")
            return nil
        }
        return url
    }
}
