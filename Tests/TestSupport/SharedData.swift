// Where tests find ../shared (reference fixtures, sample photos, peer models), and whether it is there.
// Tests that need it are enabled only when it is present, so a missing folder shows up as a named skip.
import Foundation

public enum SharedData {
    /// `BLINDSPOT_SHARED` if set, else `../shared` beside the package root.
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["BLINDSPOT_SHARED"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared", isDirectory: true)
    }

    /// The package root, found from this source file's location (Tests/TestSupport/SharedData.swift).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static func url(_ relativePath: String) -> URL {
        directory.appendingPathComponent(relativePath)
    }

    /// True when `relativePath` exists under the shared folder; prints why a test is skipped otherwise.
    public static func has(_ relativePath: String) -> Bool {
        let present = FileManager.default.fileExists(atPath: url(relativePath).path)
        if !present {
            print("SKIP: \(url(relativePath).path) is absent (set BLINDSPOT_SHARED to the shared folder)")
        }
        return present
    }
}
