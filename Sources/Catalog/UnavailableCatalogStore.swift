// The catalog of a server whose storage could not be opened at start (a read-only or uncreatable data directory, an
// unreachable database): every operation fails with CatalogError.unavailable, so the server keeps serving everything
// else and says why the catalog is missing. Not a fallback that stores anything.
import Foundation

public struct UnavailableCatalogStore: CatalogStore {
    public let fault: StorageFault
    /// What failed, with paths and database messages: for the server's log.
    public let detail: String

    public init(fault: StorageFault, detail: String) {
        self.fault = fault
        self.detail = detail
    }

    private var error: CatalogError { .unavailable(fault, detail: detail) }

    public func add(_ report: NewFiledReport) async throws -> (report: FiledReport, merged: Bool) { throw error }
    public func report(id: Int64) async throws -> FiledReport? { throw error }
    public func list(_ query: ReportQuery) async throws -> ReportPage { throw error }
    public func setStatus(_ status: ReportStatus, of id: Int64) async throws -> FiledReport? { throw error }
    public func delete(id: Int64) async throws -> FiledReport? { throw error }
    public func categories() async throws -> [Category] { throw error }
    public func ensureCategory(_ category: Category) async throws { throw error }
    public func recordRecheck(of id: Int64, verdicts: [ModelVerdict]) async throws { throw error }
    public func isReferenced(imageSHA256: String) async throws -> Bool { throw error }
    public func allReports() async throws -> [FiledReport] { throw error }
    public func restore(_ report: FiledReport) async throws { throw error }
    public func close() async throws {}
}
