// Why the catalog's storage failed, sorted by what a client (or an operator) can do about it: a full disk, a
// read-only data directory or database, a database too busy to answer, one that cannot be reached, or anything else.
// Also the retry of busy operations both stores share. Not the HTTP mapping (WebApp's APIError does that).
import Foundation

public enum StorageFault: String, Sendable, Equatable, CaseIterable {
    /// No space left (ENOSPC, EDQUOT, SQLITE_FULL, PostgreSQL disk_full): nothing more fits until space is freed.
    case full
    /// The data directory or the database takes no writes (EROFS, EACCES, SQLITE_READONLY, a read-only PostgreSQL).
    case readOnly
    /// The database stayed locked, or kept failing transactions on conflicts, through every retry.
    case busy
    /// The database cannot be opened or reached.
    case unavailable
    /// Anything else: an I/O error, a damaged file, a bug.
    case failed

    /// What went wrong, in words fit for any client: no paths, no database internals.
    public var summary: String {
        switch self {
        case .full: return "the catalog's storage is full"
        case .readOnly: return "the catalog's storage is read-only"
        case .busy: return "the catalog's database is busy"
        case .unavailable: return "the catalog's database cannot be reached"
        case .failed: return "the catalog's storage failed"
        }
    }

    /// The fault an errno from a file operation stands for.
    public init(errno code: Int32) {
        switch code {
        case ENOSPC, EDQUOT: self = .full
        case EROFS, EACCES, EPERM: self = .readOnly
        default: self = .failed
        }
    }

    /// Less free space than this in the data directory counts as full: a report needs its image twice and a row.
    public static let fullBelowBytes: UInt64 = 1_048_576

    /// What the file system holding `directory` says about it now: read-only, (nearly) full, or nil when writable
    /// with room. Used to explain an I/O error that came without an errno, and for readiness.
    public static func diagnose(directory: URL) -> (fault: StorageFault, detail: String)? {
        var info = statvfs()
        guard statvfs(directory.path, &info) == 0 else {
            return (StorageFault(errno: errno), "cannot inspect \(directory.path): \(String(cString: strerror(errno)))")
        }
        if info.f_flag & UInt(ST_RDONLY) != 0 { return (.readOnly, "\(directory.path) is on a read-only file system") }
        if access(directory.path, W_OK) != 0 { return (.readOnly, "\(directory.path) is not writable: \(String(cString: strerror(errno)))") }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        if free < fullBelowBytes { return (.full, "\(directory.path) has \(free / 1024) KB free") }
        return nil
    }
}

/// Runs an operation again when it failed with `StorageFault.busy`, a few times with doubling pauses, so a lock held a
/// little longer than the database's own wait, or a lost serialization race, does not reach the client.
struct BusyRetry: Sendable {
    /// Attempts in all, the first included.
    var attempts = 4
    /// Seconds before the second attempt; each later pause doubles.
    var firstPause = 0.05

    /// `operation`'s value; its last error when every attempt was busy. `onRetry` hears each retry (attempt, error).
    func run<T>(_ operation: () async throws -> T, onRetry: (Int, CatalogError) -> Void = { _, _ in }) async throws -> T {
        var pause = firstPause
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error as CatalogError {
                guard case .storage(.busy, _) = error, attempt < attempts else { throw error }
                onRetry(attempt, error)
                // Jitter, so that writers that collided do not collide again in step.
                try await Task.sleep(for: .seconds(pause * Double.random(in: 0.5...1.5)))
                pause *= 2
                attempt += 1
            }
        }
    }
}
