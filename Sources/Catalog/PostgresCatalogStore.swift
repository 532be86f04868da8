// The catalog in PostgreSQL (PostgresNIO's pooled client), for several servers sharing one catalog: SQLite's schema
// and limits, frozen migrations, one transaction per operation, racing reports merged by INSERT … ON CONFLICT,
// serialization failures retried, errors as CatalogError sorted by StorageFault from their SQLSTATE.
import Foundation
import PostgresNIO

public final class PostgresCatalogStore: CatalogStore {
    let client: PostgresClient
    /// Runs `client.run()`, which the pool needs to lease connections; cancelled by `close()` (or when the store goes away).
    let runTask: Task<Void, Never>
    let logger: Logger
    let retry = BusyRetry()

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// Connects to `url` (`postgres://user:password@host:port/database`, or `postgresql://`; password, port (5432) and
    /// database (the user's name) optional; `?sslmode=disable|prefer|require|verify-full` as libpq, prefer by default;
    /// `?host=/socket/dir` for a Unix socket) and brings the schema up to date. With `schema`, the tables live in that
    /// PostgreSQL schema (created when missing; lowercase letters, digits and underscores), which tests use to stay apart.
    public static func connect(url: String, schema: String? = nil) async throws -> PostgresCatalogStore {
        let target = try ConnectionTarget(url: url)
        if let schema {
            guard schema.count <= 63, let first = schema.first, first == "_" || ("a"..."z").contains(first),
                  schema.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }), !schema.hasPrefix("pg_")
            else { throw CatalogError.invalid("'\(schema)' is not a usable PostgreSQL schema name (a-z, 0-9, _; not pg_…)") }
        }
        let startup: [(String, String)] = schema.map { [("search_path", $0)] } ?? []
        let logger = Logger(label: "blindspot.catalog.postgres")

        // Migrate over one plain connection first: it fails at once when the server is unreachable (the pool would retry
        // for a minute), and holds the migration lock for its session.
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try target.connectionConfiguration(startup: startup), id: 1, logger: logger)
        } catch {
            throw CatalogError.storage(fault(of: error, connecting: true),
                                       detail: "cannot connect to PostgreSQL at \(target.displayAddress): \(describe(error))")
        }
        do {
            try await migrate(connection, schema: schema, logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw translate(error)
        }

        var configuration = try target.clientConfiguration()
        configuration.options.additionalStartupParameters = startup
        return PostgresCatalogStore(client: PostgresClient(configuration: configuration), logger: logger)
    }

    // MARK: - Schema

    /// Versioned schema steps, each applied once in its own transaction. Shipped steps are frozen: append, never edit.
    static let migrations: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE category (
                slug TEXT PRIMARY KEY CHECK (char_length(slug) BETWEEN 1 AND 64 AND slug COLLATE "C" ~ '^[a-z0-9-]+$'),
                title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND \(CatalogLimits.categoryTitleLength)),
                finding TEXT NOT NULL DEFAULT '' CHECK (char_length(finding) <= \(CatalogLimits.noteLength)),
                position BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE report (
                id BIGSERIAL PRIMARY KEY,
                image_sha256 TEXT NOT NULL CHECK (image_sha256 COLLATE "C" ~ '^[0-9a-f]{64}$'),
                image_width BIGINT NOT NULL CHECK (image_width > 0),
                image_height BIGINT NOT NULL CHECK (image_height > 0),
                expected_index BIGINT NOT NULL CHECK (expected_index BETWEEN 0 AND 999),
                expected_label TEXT NOT NULL,
                category TEXT REFERENCES category(slug) ON DELETE SET NULL,
                note TEXT NOT NULL DEFAULT '' CHECK (char_length(note) <= \(CatalogLimits.noteLength)),
                reporter TEXT CHECK (reporter IS NULL OR char_length(reporter) BETWEEN 1 AND \(CatalogLimits.reporterLength)),
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
                confirmations BIGINT NOT NULL DEFAULT 1 CHECK (confirmations >= 1),
                created_at_ms BIGINT NOT NULL,
                updated_at_ms BIGINT NOT NULL,
                CONSTRAINT report_image_expected_key UNIQUE (image_sha256, expected_index)
            )
            """,
            "CREATE INDEX report_status_created ON report (status, created_at_ms)",
            "CREATE INDEX report_category ON report (category)",
            """
            CREATE TABLE verdict (
                report_id BIGINT NOT NULL REFERENCES report(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('report', 'recheck')),
                model TEXT NOT NULL,
                weights_digest TEXT NOT NULL,
                predictions TEXT NOT NULL,
                expected_rank BIGINT NOT NULL CHECK (expected_rank BETWEEN 1 AND 1000),
                expected_probability DOUBLE PRECISION NOT NULL CHECK (expected_probability <> 'NaN'),
                checked_at_ms BIGINT NOT NULL,
                PRIMARY KEY (report_id, kind, model)
            )
            """,
        ]),
        // The images themselves, content-addressed, so that servers sharing the database share nothing else.
        (2, [
            """
            CREATE TABLE image (
                sha256 TEXT PRIMARY KEY CHECK (sha256 COLLATE "C" ~ '^[0-9a-f]{64}$'),
                original BYTEA NOT NULL,
                original_extension TEXT NOT NULL CHECK (original_extension IN ('jpg', 'png', 'webp', 'gif')),
                display BYTEA NOT NULL,
                width BIGINT NOT NULL CHECK (width > 0),
                height BIGINT NOT NULL CHECK (height > 0),
                created_at_ms BIGINT NOT NULL
            )
            """,
        ]),
    ]

    private static func migrate(_ connection: PostgresConnection, schema: String?, logger: Logger) async throws {
        // One migrator at a time across every server sharing the database (the lock is the session's, released below or
        // when the connection closes).
        try await connection.fetch("SELECT pg_advisory_lock(hashtextextended('blindspot catalog migrations', 0))", logger: logger)
        do {
            if let schema {
                try await connection.fetch(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
            }
            try await connection.fetch("""
                CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)
                """, logger: logger)
            for migration in migrations {
                try await connection.fetch("BEGIN", logger: logger)
                do {
                    let applied = try await connection.fetch("SELECT 1 FROM schema_migrations WHERE version = \(migration.version)",
                                                             logger: logger)
                    if applied.isEmpty {
                        for statement in migration.statements {
                            try await connection.fetch(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.fetch("""
                            INSERT INTO schema_migrations (version, applied_at_ms) VALUES (\(migration.version), \(Date().millisecondsSince1970))
                            """, logger: logger)
                    }
                    try await connection.fetch("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.fetch("ROLLBACK", logger: logger)
                    throw CatalogError.storage(fault(of: error), detail: "migration v\(migration.version) of the catalog failed: \(describe(error))")
                }
            }
            _ = try? await connection.fetch("SELECT pg_advisory_unlock(hashtextextended('blindspot catalog migrations', 0))", logger: logger)
        } catch {
            _ = try? await connection.fetch("SELECT pg_advisory_unlock(hashtextextended('blindspot catalog migrations', 0))", logger: logger)
            throw error
        }
    }

    // MARK: - CatalogStore

    public func add(_ new: NewFiledReport) async throws -> (report: FiledReport, merged: Bool) {
        try CatalogValidation.validate(new)
        let now = Date().millisecondsSince1970
        return try await transaction { connection in
            // The image first, in the same transaction: a report row never points to an image that is not there.
            if let image = new.encoded { try await self.insert(image, at: now, on: connection) }
            // The common repeat first (it spends no id), then an insert that still merges when another server inserted
            // the same image and class in between.
            var found = try await connection.fetch("""
                UPDATE report SET confirmations = confirmations + 1, updated_at_ms = \(now)
                WHERE image_sha256 = \(new.image.sha256) AND expected_index = \(new.expected.index)
                RETURNING id, false
                """, logger: self.logger).first.map { try $0.decode((Int64, Bool).self) }
            if found == nil {
                found = try await connection.fetch("""
                    INSERT INTO report (image_sha256, image_width, image_height, expected_index, expected_label, category, note, reporter,
                                        created_at_ms, updated_at_ms)
                    VALUES (\(new.image.sha256), \(new.image.width), \(new.image.height), \(new.expected.index), \(new.expected.label),
                            \(new.category), \(new.note), \(new.reporter), \(now), \(now))
                    ON CONFLICT (image_sha256, expected_index)
                    DO UPDATE SET confirmations = report.confirmations + 1, updated_at_ms = EXCLUDED.updated_at_ms
                    RETURNING id, (xmax = 0)
                    """, logger: self.logger).first.map { try $0.decode((Int64, Bool).self) }
            }
            guard let (id, inserted) = found else { throw CatalogError.storage(.failed, detail: "the report was neither inserted nor merged") }
            if inserted {
                for verdict in new.verdicts { try await self.insert(verdict, kind: "report", of: id, on: connection) }
            }
            guard let report = try await self.reports(on: connection, where: .id(id)).first else {
                throw CatalogError.storage(.failed, detail: "report \(id) vanished after writing")
            }
            return (report, !inserted)
        }
    }

    public func report(id: Int64) async throws -> FiledReport? {
        try await transaction(readOnly: true) { connection in try await self.reports(on: connection, where: .id(id)).first }
    }

    public func list(_ query: ReportQuery) async throws -> ReportPage {
        // The same words as SQLite's LIKE: up to 8, each of which must appear somewhere, with %, _ and \ taken literally.
        var patterns: [String] = []
        if let text = query.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            for word in text.split(separator: " ").prefix(8) {
                patterns.append("%" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%")
            }
        }
        // PostgreSQL text cannot hold NUL, so a filter with one matches nothing (and must not reach the server as an error).
        let strings = [query.category, query.model] + patterns.map(Optional.some)
        if strings.contains(where: { $0?.unicodeScalars.contains("\u{0}") == true }) {
            return ReportPage(reports: [], total: 0, page: query.page, pageSize: query.pageSize)
        }
        let filter = Filter.list(query, patterns: patterns)
        return try await transaction(readOnly: true) { connection in
            let total = try await connection.fetch(Self.select("count(*)", where: filter), logger: self.logger)
                .first.map { try $0.decode(Int64.self) } ?? 0
            let reports = try await self.reports(on: connection, where: filter)
            return ReportPage(reports: reports, total: Int(total), page: query.page, pageSize: query.pageSize)
        }
    }

    public func setStatus(_ status: ReportStatus, of id: Int64) async throws -> FiledReport? {
        let now = Date().millisecondsSince1970
        return try await transaction { connection in
            let changed = try await connection.fetch("UPDATE report SET status = \(status.rawValue), updated_at_ms = \(now) WHERE id = \(id) RETURNING id",
                                                     logger: self.logger)
            return changed.isEmpty ? nil : try await self.reports(on: connection, where: .id(id)).first
        }
    }

    public func delete(id: Int64) async throws -> FiledReport? {
        try await transaction { connection in
            // Locked first, so two deletes of the same report don't both answer with it.
            let locked = try await connection.fetch("SELECT id FROM report WHERE id = \(id) FOR UPDATE", logger: self.logger)
            guard !locked.isEmpty, let report = try await self.reports(on: connection, where: .id(id)).first else { return nil }
            try await connection.fetch("DELETE FROM report WHERE id = \(id)", logger: self.logger)
            return report
        }
    }

    public func categories() async throws -> [Category] {
        try await run { connection in
            try await connection.fetch("SELECT slug, title, finding FROM category ORDER BY position, title COLLATE \"C\"", logger: self.logger)
                .map { row in
                    let (slug, title, finding) = try row.decode((String, String, String).self)
                    return Category(slug: slug, title: title, finding: finding)
                }
        }
    }

    public func ensureCategory(_ category: Category) async throws {
        try CatalogValidation.validate(category)
        try await run { connection in
            _ = try await connection.fetch("""
                INSERT INTO category (slug, title, finding, position)
                VALUES (\(category.slug), \(category.title), \(category.finding), (SELECT COALESCE(MAX(position), 0) + 1 FROM category))
                ON CONFLICT (slug) DO NOTHING
                """, logger: self.logger)
        }
    }

    public func recordRecheck(of id: Int64, verdicts: [ModelVerdict]) async throws {
        try await transaction { connection in
            // Keeps the report from being deleted until the verdicts are in.
            let exists = try await connection.fetch("SELECT id FROM report WHERE id = \(id) FOR KEY SHARE", logger: self.logger)
            guard !exists.isEmpty else { throw CatalogError.notFound(id) }
            for verdict in verdicts { try await self.insert(verdict, kind: "recheck", of: id, on: connection, replacing: true) }
        }
    }

    public func isReferenced(imageSHA256: String) async throws -> Bool {
        if imageSHA256.unicodeScalars.contains("\u{0}") { return false }
        return try await run { connection in
            try await connection.fetch("SELECT EXISTS (SELECT 1 FROM report WHERE image_sha256 = \(imageSHA256))", logger: self.logger)
                .first.map { try $0.decode(Bool.self) } ?? false
        }
    }

    public func allReports() async throws -> [FiledReport] {
        try await transaction(readOnly: true) { connection in try await self.reports(on: connection, where: .all) }
    }

    public func restore(_ report: FiledReport) async throws {
        try await transaction { connection in
            try await connection.fetch("DELETE FROM report WHERE id = \(report.id)", logger: self.logger)
            try await connection.fetch("""
                INSERT INTO report (id, image_sha256, image_width, image_height, expected_index, expected_label, category, note, reporter,
                                    status, confirmations, created_at_ms, updated_at_ms)
                VALUES (\(report.id), \(report.image.sha256), \(report.image.width), \(report.image.height), \(report.expected.index),
                        \(report.expected.label), \(report.category), \(report.note), \(report.reporter), \(report.status.rawValue),
                        \(report.confirmations), \(report.createdAt.millisecondsSince1970), \(report.updatedAt.millisecondsSince1970))
                """, logger: self.logger)
            for verdict in report.verdicts { try await self.insert(verdict, kind: "report", of: report.id, on: connection) }
            for verdict in report.rechecks { try await self.insert(verdict, kind: "recheck", of: report.id, on: connection) }
            // An explicit id does not move the id sequence: move it past this one (never back), so new reports don't collide.
            if report.id >= 1 {
                try await connection.fetch("""
                    SELECT setval(pg_get_serial_sequence('report', 'id'),
                                  GREATEST(\(report.id), COALESCE(pg_sequence_last_value(pg_get_serial_sequence('report', 'id')::regclass), 0)))
                    """, logger: self.logger)
            }
        }
    }

    public func close() async throws {
        runTask.cancel()
        await runTask.value
    }

    // MARK: - Rows

    private static let reportColumns = """
        report.id, report.image_sha256, report.image_width, report.image_height, report.expected_index, report.expected_label,
        report.category, report.note, report.reporter, report.status, report.confirmations, report.created_at_ms, report.updated_at_ms
        """

    /// Which reports a read wants; every value is bound, never spliced into the SQL.
    private enum Filter {
        case id(Int64)
        case all
        case list(ReportQuery, patterns: [String])
    }

    private static func select(_ columns: String, where filter: Filter, ordered: Bool = false) -> PostgresQuery {
        switch filter {
        case .id(let id):
            return "SELECT \(unescaped: columns) FROM report WHERE report.id = \(id)"
        case .all:
            return "SELECT \(unescaped: columns) FROM report \(unescaped: ordered ? "ORDER BY report.id" : "")"
        case .list(let query, let patterns):
            let (offset, overflow) = (query.page - 1).multipliedReportingOverflow(by: query.pageSize)
            let limit: Int? = ordered ? query.pageSize : nil
            return """
                SELECT \(unescaped: columns) FROM report
                WHERE (\(query.category)::text IS NULL OR report.category = \(query.category))
                  AND (\(query.expected)::bigint IS NULL OR report.expected_index = \(query.expected))
                  AND (\(query.status?.rawValue)::text IS NULL OR report.status = \(query.status?.rawValue))
                  AND (\(query.model)::text IS NULL OR EXISTS (
                        SELECT 1 FROM verdict latest
                        WHERE latest.report_id = report.id AND latest.model = \(query.model) AND latest.expected_rank > 1
                          AND NOT EXISTS (SELECT 1 FROM verdict later
                                          WHERE later.report_id = latest.report_id AND later.model = latest.model
                                            AND later.checked_at_ms > latest.checked_at_ms)))
                  AND NOT EXISTS (
                        SELECT 1 FROM unnest(\(patterns)::text[]) AS word(pattern)
                        WHERE NOT (report.note ILIKE word.pattern ESCAPE '\\' OR report.expected_label ILIKE word.pattern ESCAPE '\\'
                                   OR COALESCE(report.category, '') ILIKE word.pattern ESCAPE '\\'))
                \(unescaped: ordered ? "ORDER BY report.created_at_ms DESC, report.id DESC" : "")
                LIMIT \(limit) OFFSET \(ordered ? (overflow ? Int.max : offset) : 0)
                """
        }
    }

    /// The reports `filter` selects (in its order: newest first for a listing, by id for all), with their verdicts.
    private func reports(on connection: PostgresConnection, where filter: Filter) async throws -> [FiledReport] {
        typealias ReportRow = (Int64, String, Int, Int, Int, String, String?, String, String?, String, Int, Int64, Int64)
        let rows = try await connection.fetch(Self.select(Self.reportColumns, where: filter, ordered: true), logger: logger)
            .map { try $0.decode(ReportRow.self) }
        guard !rows.isEmpty else { return [] }
        let ids = rows.map(\.0)
        var verdicts: [Int64: (report: [ModelVerdict], recheck: [ModelVerdict])] = [:]
        let verdictRows = try await connection.fetch("""
            SELECT report_id, kind, model, weights_digest, predictions, expected_rank, expected_probability, checked_at_ms
            FROM verdict WHERE report_id = ANY(\(ids)::bigint[]) ORDER BY model COLLATE "C"
            """, logger: logger).map { try $0.decode((Int64, String, String, String, String, Int, Double, Int64).self) }
        let decoder = JSONDecoder()
        for (id, kind, model, digest, predictions, rank, probability, checkedAt) in verdictRows {
            let verdict = ModelVerdict(model: model, weightsDigest: digest,
                                       predictions: try decoder.decode([CatalogPrediction].self, from: Data(predictions.utf8)),
                                       expectedRank: rank, expectedProbability: probability, checkedAt: Date(millisecondsSince1970: checkedAt))
            if kind == "recheck" { verdicts[id, default: ([], [])].recheck.append(verdict) } else { verdicts[id, default: ([], [])].report.append(verdict) }
        }
        return rows.map { row in
            let (id, sha256, width, height, index, label, category, note, reporter, status, confirmations, created, updated) = row
            return FiledReport(id: id, image: StoredImage(sha256: sha256, width: width, height: height), expected: CatalogClass(index: index, label: label),
                          category: category, note: note, reporter: reporter, status: ReportStatus(rawValue: status) ?? .pending,
                          confirmations: confirmations, createdAt: Date(millisecondsSince1970: created), updatedAt: Date(millisecondsSince1970: updated),
                          verdicts: verdicts[id]?.report ?? [], rechecks: verdicts[id]?.recheck ?? [])
        }
    }

    private func insert(_ verdict: ModelVerdict, kind: String, of id: Int64, on connection: PostgresConnection, replacing: Bool = false) async throws {
        let predictions: String
        do {
            predictions = String(decoding: try JSONEncoder().encode(verdict.predictions), as: UTF8.self)
        } catch {
            throw CatalogError.invalid("the predictions of \(verdict.model) cannot be stored: \(error)")
        }
        try await connection.fetch("""
            INSERT INTO verdict (report_id, kind, model, weights_digest, predictions, expected_rank, expected_probability, checked_at_ms)
            VALUES (\(id), \(kind), \(verdict.model), \(verdict.weightsDigest), \(predictions), \(verdict.expectedRank),
                    \(verdict.expectedProbability), \(verdict.checkedAt.millisecondsSince1970))
            \(unescaped: replacing ? """
                ON CONFLICT (report_id, kind, model) DO UPDATE SET weights_digest = EXCLUDED.weights_digest,
                    predictions = EXCLUDED.predictions, expected_rank = EXCLUDED.expected_rank,
                    expected_probability = EXCLUDED.expected_probability, checked_at_ms = EXCLUDED.checked_at_ms
                """ : "")
            """, logger: logger)
    }
}
