// The one storage interface of the catalog: SQLite (GRDB) by default, PostgreSQL when several servers share it.
// The web app and the command line see only this protocol.
import Foundation

public protocol CatalogStore: Sendable {
    /// Stores a new report as pending, or, when the same image was already reported with the same expected class,
    /// adds one confirmation to that report instead (`merged` true). The image must already be in the vault.
    func add(_ report: NewFiledReport) async throws -> (report: FiledReport, merged: Bool)

    func report(id: Int64) async throws -> FiledReport?

    /// Newest first, filtered and paged.
    func list(_ query: ReportQuery) async throws -> ReportPage

    /// Moderation; nil when there is no such report.
    func setStatus(_ status: ReportStatus, of id: Int64) async throws -> FiledReport?

    /// Removes a report and its verdicts; returns it, or nil when there was none. The image stays in the vault
    /// while another report points to it.
    func delete(id: Int64) async throws -> FiledReport?

    /// Every category, built-in ones first, then by title.
    func categories() async throws -> [Category]

    /// Adds `category` unless one with its slug exists (then the stored one is kept).
    func ensureCategory(_ category: Category) async throws

    /// Replaces the latest re-check verdicts of `id` for the models in `verdicts`.
    func recordRecheck(of id: Int64, verdicts: [ModelVerdict]) async throws

    /// Whether any report points to this image.
    func isReferenced(imageSHA256: String) async throws -> Bool

    /// Every report, oldest first (for export and re-check).
    func allReports() async throws -> [FiledReport]

    /// Stores `report` exactly as given (id, times, status, confirmations, verdicts), for import; an existing
    /// report with the same id is replaced.
    func restore(_ report: FiledReport) async throws

    /// Releases connections; the store is not used afterwards.
    func close() async throws
}
