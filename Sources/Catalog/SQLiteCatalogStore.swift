// The catalog in one SQLite file through GRDB: WAL with synchronous=FULL, busy waits then retries, frozen migrations,
// limits enforced by the schema too. Errors leave as CatalogError, storage failures sorted by StorageFault (a full disk,
// a read-only directory, a lock).
import Foundation
import GRDB
import Logging

public final class SQLiteCatalogStore: CatalogStore {
    private let database: DatabasePool
    private let directory: URL
    private let retry: BusyRetry
    private let logger = Logger(label: "blindspot.catalog.sqlite")

    /// Opens (creating if needed) the catalog at `path` and brings its schema up to date. An operation that finds the
    /// database locked waits up to `busyTimeout` seconds, and is tried `attempts` times in all before it fails as busy.
    public init(path: String, busyTimeout: TimeInterval = 1, attempts: Int = 4) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        directory = folder
        retry = BusyRetry(attempts: attempts)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw Self.translate(error, directory: folder, doing: "cannot open the catalog database \(path)", opening: true)
        }
    }

    /// Versioned schema steps. Shipped steps are frozen: change the schema by appending a step.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE category (
                    slug TEXT PRIMARY KEY NOT NULL CHECK (length(slug) BETWEEN 1 AND 64 AND slug NOT GLOB '*[^a-z0-9-]*'),
                    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND \(CatalogLimits.categoryTitleLength)),
                    finding TEXT NOT NULL DEFAULT '' CHECK (length(finding) <= \(CatalogLimits.noteLength)),
                    position INTEGER NOT NULL
                );
                CREATE TABLE report (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    imageSHA256 TEXT NOT NULL CHECK (length(imageSHA256) = 64 AND imageSHA256 NOT GLOB '*[^0-9a-f]*'),
                    imageWidth INTEGER NOT NULL CHECK (imageWidth > 0),
                    imageHeight INTEGER NOT NULL CHECK (imageHeight > 0),
                    expectedIndex INTEGER NOT NULL CHECK (expectedIndex BETWEEN 0 AND 999),
                    expectedLabel TEXT NOT NULL,
                    category TEXT REFERENCES category(slug) ON DELETE SET NULL,
                    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= \(CatalogLimits.noteLength)),
                    reporter TEXT CHECK (reporter IS NULL OR length(reporter) BETWEEN 1 AND \(CatalogLimits.reporterLength)),
                    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
                    confirmations INTEGER NOT NULL DEFAULT 1 CHECK (confirmations >= 1),
                    createdAtMs INTEGER NOT NULL,
                    updatedAtMs INTEGER NOT NULL,
                    UNIQUE (imageSHA256, expectedIndex)
                );
                CREATE INDEX report_status_created ON report(status, createdAtMs);
                CREATE INDEX report_category ON report(category);
                CREATE TABLE verdict (
                    reportId INTEGER NOT NULL REFERENCES report(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('report', 'recheck')),
                    model TEXT NOT NULL,
                    weightsDigest TEXT NOT NULL,
                    predictions TEXT NOT NULL,
                    expectedRank INTEGER NOT NULL CHECK (expectedRank BETWEEN 1 AND 1000),
                    expectedProbability REAL NOT NULL,
                    checkedAtMs INTEGER NOT NULL,
                    PRIMARY KEY (reportId, kind, model)
                );
                """)
        }
        return migrator
    }

    public func add(_ new: NewFiledReport) async throws -> (report: FiledReport, merged: Bool) {
        try CatalogValidation.validate(new)
        let now = Date().millisecondsSince1970
        let (id, merged) = try await write { db -> (Int64, Bool) in
            if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM report WHERE imageSHA256 = ? AND expectedIndex = ?",
                                                 arguments: [new.image.sha256, new.expected.index]) {
                try db.execute(sql: "UPDATE report SET confirmations = confirmations + 1, updatedAtMs = ? WHERE id = ?", arguments: [now, existing])
                return (existing, true)
            }
            try db.execute(sql: """
                INSERT INTO report (imageSHA256, imageWidth, imageHeight, expectedIndex, expectedLabel, category, note, reporter,
                                    createdAtMs, updatedAtMs)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [new.image.sha256, new.image.width, new.image.height, new.expected.index, new.expected.label,
                                 new.category, new.note, new.reporter, now, now])
            let id = db.lastInsertedRowID
            for verdict in new.verdicts { try Self.insert(verdict, kind: "report", of: id, in: db) }
            return (id, false)
        }
        guard let report = try await report(id: id) else { throw CatalogError.storage(.failed, detail: "report \(id) vanished after writing") }
        return (report, merged)
    }

    public func report(id: Int64) async throws -> FiledReport? {
        try await read { db in try Self.reports(db, where: "report.id = ?", arguments: [id.databaseValue]).first }
    }

    public func list(_ query: ReportQuery) async throws -> ReportPage {
        var conditions: [String] = []
        var arguments: [DatabaseValue] = []
        if let category = query.category { conditions.append("report.category = ?"); arguments.append(category.databaseValue) }
        if let expected = query.expected { conditions.append("report.expectedIndex = ?"); arguments.append(expected.databaseValue) }
        if let status = query.status { conditions.append("report.status = ?"); arguments.append(status.rawValue.databaseValue) }
        if let model = query.model {
            conditions.append("""
                EXISTS (SELECT 1 FROM verdict latest WHERE latest.reportId = report.id AND latest.model = ? AND latest.expectedRank > 1
                        AND NOT EXISTS (SELECT 1 FROM verdict later WHERE later.reportId = latest.reportId AND later.model = latest.model
                                        AND later.checkedAtMs > latest.checkedAtMs))
                """)
            arguments.append(model.databaseValue)
        }
        if let text = query.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            for word in text.split(separator: " ").prefix(8) {
                let pattern = "%" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
                conditions.append("(report.note LIKE ? ESCAPE '\\' OR report.expectedLabel LIKE ? ESCAPE '\\' OR IFNULL(report.category, '') LIKE ? ESCAPE '\\')")
                arguments += Array(repeating: pattern.databaseValue, count: 3)
            }
        }
        let page = query.page, size = query.pageSize
        let filter = conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), values = arguments
        return try await read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM report WHERE \(filter)", arguments: StatementArguments(values)) ?? 0
            let reports = try Self.reports(db, where: filter, arguments: values,
                                           suffix: "ORDER BY report.createdAtMs DESC, report.id DESC LIMIT \(size) OFFSET \((page - 1) * size)")
            return ReportPage(reports: reports, total: total, page: page, pageSize: size)
        }
    }

    public func setStatus(_ status: ReportStatus, of id: Int64) async throws -> FiledReport? {
        let now = Date().millisecondsSince1970
        let changed = try await write { db -> Bool in
            try db.execute(sql: "UPDATE report SET status = ?, updatedAtMs = ? WHERE id = ?", arguments: [status.rawValue, now, id])
            return db.changesCount > 0
        }
        return changed ? try await report(id: id) : nil
    }

    public func delete(id: Int64) async throws -> FiledReport? {
        try await write { db -> FiledReport? in
            guard let report = try Self.reports(db, where: "report.id = ?", arguments: [id.databaseValue]).first else { return nil }
            try db.execute(sql: "DELETE FROM report WHERE id = ?", arguments: [id])
            return report
        }
    }

    public func categories() async throws -> [Category] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT slug, title, finding FROM category ORDER BY position, title").map {
                Category(slug: $0["slug"], title: $0["title"], finding: $0["finding"])
            }
        }
    }

    public func ensureCategory(_ category: Category) async throws {
        try CatalogValidation.validate(category)
        try await write { db in
            try db.execute(sql: """
                INSERT INTO category (slug, title, finding, position)
                VALUES (?, ?, ?, (SELECT IFNULL(MAX(position), 0) + 1 FROM category))
                ON CONFLICT (slug) DO NOTHING
                """, arguments: [category.slug, category.title, category.finding])
        }
    }

    public func recordRecheck(of id: Int64, verdicts: [ModelVerdict]) async throws {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM report WHERE id = ?)", arguments: [id]) == true else {
                throw CatalogError.notFound(id)
            }
            for verdict in verdicts {
                try db.execute(sql: "DELETE FROM verdict WHERE reportId = ? AND kind = 'recheck' AND model = ?", arguments: [id, verdict.model])
                try Self.insert(verdict, kind: "recheck", of: id, in: db)
            }
        }
    }

    public func isReferenced(imageSHA256: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM report WHERE imageSHA256 = ?)", arguments: [imageSHA256]) ?? false
        }
    }

    public func allReports() async throws -> [FiledReport] {
        try await read { db in try Self.reports(db, where: "1", arguments: [], suffix: "ORDER BY report.id") }
    }

    public func restore(_ report: FiledReport) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM report WHERE id = ?", arguments: [report.id])
            try db.execute(sql: """
                INSERT INTO report (id, imageSHA256, imageWidth, imageHeight, expectedIndex, expectedLabel, category, note, reporter,
                                    status, confirmations, createdAtMs, updatedAtMs)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [report.id, report.image.sha256, report.image.width, report.image.height, report.expected.index,
                                 report.expected.label, report.category, report.note, report.reporter, report.status.rawValue,
                                 report.confirmations, report.createdAt.millisecondsSince1970, report.updatedAt.millisecondsSince1970])
            for verdict in report.verdicts { try Self.insert(verdict, kind: "report", of: report.id, in: db) }
            for verdict in report.rechecks { try Self.insert(verdict, kind: "recheck", of: report.id, in: db) }
        }
    }

    public func close() async throws {
        try database.close()
    }

    /// `PRAGMA integrity_check`'s answer ("ok" when the file is sound).
    public func integrityCheck() async throws -> String {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    // MARK: - Rows

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await retrying("read") { try await self.database.read(body) }
    }

    /// Each write is one IMMEDIATE transaction: a lock conflict shows at its start, so running it again is safe.
    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await retrying("write") { try await self.database.write(body) }
    }

    private func retrying<T>(_ kind: String, _ operation: () async throws -> T) async throws -> T {
        try await retry.run({
            do { return try await operation() } catch { throw Self.translate(error, directory: directory, doing: "a \(kind) of the catalog failed") }
        }, onRetry: { attempt, error in
            logger.warning("catalog \(kind) retried after attempt \(attempt) of \(retry.attempts): \(error)")
        })
    }

    /// A CatalogError for what GRDB threw: constraint violations are the caller's (`invalid`); the rest is a storage
    /// fault, by SQLite's result code, and for I/O errors (which carry no errno) by what the directory's file system says.
    private static func translate(_ error: any Error, directory: URL, doing: String, opening: Bool = false) -> any Error {
        if error is CatalogError { return error }
        guard let error = error as? DatabaseError else { return CatalogError.storage(.failed, detail: "\(doing): \(error)") }
        if error.resultCode == .SQLITE_CONSTRAINT {
            return CatalogError.invalid("the catalog refused the report: \(error.message ?? "a constraint failed")")
        }
        let detail = "\(doing): \(error)"
        switch error.resultCode {
        case .SQLITE_FULL: return CatalogError.storage(.full, detail: detail)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH: return CatalogError.storage(.readOnly, detail: detail)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return CatalogError.storage(.busy, detail: detail)
        case .SQLITE_IOERR, .SQLITE_CANTOPEN:
            if let diagnosis = StorageFault.diagnose(directory: directory) {
                return CatalogError.storage(diagnosis.fault, detail: "\(detail) (\(diagnosis.detail))")
            }
            return CatalogError.storage(opening ? .unavailable : .failed, detail: detail)
        default:
            return CatalogError.storage(opening ? .unavailable : .failed, detail: detail)
        }
    }

    private static func insert(_ verdict: ModelVerdict, kind: String, of id: Int64, in db: Database) throws {
        let predictions = String(decoding: try JSONEncoder().encode(verdict.predictions), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO verdict (reportId, kind, model, weightsDigest, predictions, expectedRank, expectedProbability, checkedAtMs)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, kind, verdict.model, verdict.weightsDigest, predictions, verdict.expectedRank,
                             verdict.expectedProbability, verdict.checkedAt.millisecondsSince1970])
    }

    private static func reports(_ db: Database, where filter: String, arguments: [DatabaseValue], suffix: String = "") throws -> [FiledReport] {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM report WHERE \(filter) \(suffix)", arguments: StatementArguments(arguments))
        guard !rows.isEmpty else { return [] }
        let ids: [Int64] = rows.map { $0["id"] }
        var verdicts: [Int64: (report: [ModelVerdict], recheck: [ModelVerdict])] = [:]
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
        for row in try Row.fetchAll(db, sql: "SELECT * FROM verdict WHERE reportId IN (\(placeholders)) ORDER BY model",
                                    arguments: StatementArguments(ids)) {
            let verdict = ModelVerdict(
                model: row["model"], weightsDigest: row["weightsDigest"],
                predictions: try JSONDecoder().decode([CatalogPrediction].self, from: Data((row["predictions"] as String).utf8)),
                expectedRank: row["expectedRank"], expectedProbability: row["expectedProbability"],
                checkedAt: Date(millisecondsSince1970: row["checkedAtMs"]))
            let id: Int64 = row["reportId"]
            if (row["kind"] as String) == "recheck" { verdicts[id, default: ([], [])].recheck.append(verdict) } else { verdicts[id, default: ([], [])].report.append(verdict) }
        }
        return rows.map { row in
            let id: Int64 = row["id"]
            return FiledReport(
                id: id, image: StoredImage(sha256: row["imageSHA256"], width: row["imageWidth"], height: row["imageHeight"]),
                expected: CatalogClass(index: row["expectedIndex"], label: row["expectedLabel"]), category: row["category"],
                note: row["note"], reporter: row["reporter"], status: ReportStatus(rawValue: row["status"]) ?? .pending,
                confirmations: row["confirmations"], createdAt: Date(millisecondsSince1970: row["createdAtMs"]),
                updatedAt: Date(millisecondsSince1970: row["updatedAtMs"]),
                verdicts: verdicts[id]?.report ?? [], rechecks: verdicts[id]?.recheck ?? [])
        }
    }
}
