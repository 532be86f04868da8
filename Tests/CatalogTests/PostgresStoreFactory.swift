// A fresh PostgreSQL catalog for the shared store tests: in a new schema of its own (test_<random hex>) of the database
// named by BLINDSPOT_TEST_POSTGRES, which `make test` sets after starting a throwaway cluster (scripts/postgres.sh).
import Catalog
import Foundation
import Testing

enum PostgresStoreFactory {
    static let environmentVariable = "BLINDSPOT_TEST_POSTGRES"

    static var isConfigured: Bool { !(ProcessInfo.processInfo.environment[environmentVariable] ?? "").isEmpty }
    static let notConfigured: Comment = "\(environmentVariable) is not set (make test starts a throwaway PostgreSQL and sets it)"

    /// Nil when no PostgreSQL is configured (StoreConformanceTests.postgreSQLIsAmongTheStores then skips, saying so).
    static func make() async throws -> (any CatalogStore)? {
        guard let url = ProcessInfo.processInfo.environment[environmentVariable], !url.isEmpty else { return nil }
        let schema = "test_" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return try await PostgresCatalogStore.connect(url: url, schema: schema)
    }
}
