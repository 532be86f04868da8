// How PostgresCatalogStore reaches the database: one pooled connection per call or transaction, run again when
// PostgreSQL undid it as busy (a serialization failure or deadlock), and its errors sorted into StorageFault.
import Foundation
import PostgresNIO

extension PostgresCatalogStore {
    /// `body` on one pooled connection, outside any transaction (single statements), run again when it failed as busy
    /// (a serialization failure or deadlock, after which PostgreSQL has undone everything it did).
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await retry.run({
            do {
                return try await leased(body)
            } catch {
                throw Self.translate(error)
            }
        }, onRetry: { attempt, error in
            logger.warning("catalog transaction retried after attempt \(attempt) of \(retry.attempts): \(error)")
        })
    }

    /// How long an operation waits for a pooled connection before it fails as unavailable. The pool itself keeps a
    /// request waiting while it retries a database that is down, about a minute (measured with the cluster stopped).
    static let leaseTimeout: Duration = .seconds(10)

    /// `body` on a pooled connection, or CatalogError.storage(.unavailable) when none is leased within `leaseTimeout`.
    /// Only the wait for the lease is bounded: once `body` runs, it is never cut short.
    func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let started = LeaseFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await self.client.withConnection { connection in
                    started.set()
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: Self.leaseTimeout)
                guard started.isSet else {
                    throw CatalogError.storage(.unavailable, detail: "no PostgreSQL connection within \(Self.leaseTimeout)")
                }
                return nil
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()
                    return value
                }
            }
            throw CatalogError.storage(.failed, detail: "a PostgreSQL operation ended without a result")
        }
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws. Reads see one snapshot.
    func transaction<T: Sendable>(readOnly: Bool = false,
                                          _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let begin: PostgresQuery = readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN"
        let logger = self.logger
        return try await run { connection in
            try await connection.fetch(begin, logger: logger)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                do {
                    try await connection.fetch("ROLLBACK", logger: logger)
                } catch {
                    // A connection whose transaction could not be ended must not go back to the pool.
                    try? await connection.close()
                }
                throw error
            }
            try await connection.fetch("COMMIT", logger: logger)
            return value
        }
    }

    /// A CatalogError for `error`: constraint violations and bad values are the caller's (`invalid`), the rest storage.
    static func translate(_ error: any Error) -> any Error {
        if error is CatalogError { return error }
        if let error = error as? PSQLError, error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "an error without a message"
            if state.hasPrefix("23") || state.hasPrefix("22") {
                return CatalogError.invalid("the catalog refused the report: \(message)")
            }
            return CatalogError.storage(fault(of: error), detail: "PostgreSQL: \(message) (SQLSTATE \(state))")
        }
        return CatalogError.storage(fault(of: error), detail: describe(error))
    }

    /// The fault an error stands for, by its SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html);
    /// an error that is not the server's is a lost or refused connection.
    static func fault(of error: any Error, connecting: Bool = false) -> StorageFault {
        if let error = error as? CatalogError, case .storage(let fault, _) = error { return fault }
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return .unavailable
        }
        switch state {
        case "53100": return .full  // disk_full
        case "25006": return .readOnly  // read_only_sql_transaction (a hot standby, or default_transaction_read_only)
        case "40001", "40P01", "55P03": return .busy  // serialization_failure, deadlock_detected, lock_not_available
        case "53300", "57P01", "57P02", "57P03": return .unavailable  // too_many_connections, shutting down, starting up
        default: return state.hasPrefix("08") || state.hasPrefix("28") || (connecting && state.hasPrefix("3D")) ? .unavailable : .failed
        }
    }

    /// A readable line for an error: PSQLError's own description hides everything on purpose.
    static func describe(_ error: any Error) -> String {
        if let error = error as? CatalogError { return error.description }
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let info = error.serverInfo {
            return "\(info[.message] ?? "server error") (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// Set once a connection was leased, read by the lease's timeout.
final class LeaseFlag: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`.
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}

extension PostgresConnection {
    /// Runs `query` and reads all its rows: a query's error can arrive with its rows, so none is left unread.
    @discardableResult
    func fetch(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
