// The weights cache on disk: one file per release under `$BLINDSPOT_HOME` (default `~/.cache/blindspot`),
// named by the release's `fileName`, and the check that a cached file is the published one. Downloading is WeightsFetcher's job.
import Crypto
import Foundation
import Models

/// What the cache holds for one release.
public enum CacheStatus: Sendable, Equatable {
    /// The file is there and its SHA-256 matches the release.
    case verified(URL)
    /// No file under the release's name.
    case missing(URL)
    /// A file is there but its SHA-256 is `foundDigest`, not the release's.
    case corrupt(URL, foundDigest: String)
}

public struct ModelCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The cache named by `environment`: `BLINDSPOT_HOME` if set, else `$HOME/.cache/blindspot`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(directory: Self.defaultDirectory(environment: environment))
    }

    public static func defaultDirectory(environment: [String: String]) -> URL {
        if let home = environment["BLINDSPOT_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home, isDirectory: true)
        }
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return userHome.appendingPathComponent(".cache/blindspot", isDirectory: true)
    }

    /// Where the release's file lives once fetched (whether or not it is there).
    public func path(for release: WeightsRelease) -> URL {
        directory.appendingPathComponent(release.fileName, isDirectory: false)
    }

    /// Hashes the cached file, if any, and compares it with the release's digest.
    public func verify(_ release: WeightsRelease) throws -> CacheStatus {
        let file = path(for: release)
        guard FileManager.default.fileExists(atPath: file.path) else { return .missing(file) }
        let digest = try Self.sha256(ofFileAt: file)
        return release.matches(digest: digest) ? .verified(file) : .corrupt(file, foundDigest: digest)
    }

    /// Lower-case hex SHA-256 of a file, read in chunks so a large file never sits in memory.
    public static func sha256(ofFileAt file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().hexString
    }
}

extension SHA256.Digest {
    /// Lower-case hex, the form `WeightsRelease.sha256` uses.
    var hexString: String {
        map { String(format: "%02x", $0) }.joined()
    }
}
