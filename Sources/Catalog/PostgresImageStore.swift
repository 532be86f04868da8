// The catalog's images in PostgreSQL's image table (migration 2): written with their report in one transaction, read
// back by any server sharing the database, and removed only when no report points to them, checked in that transaction.
import Foundation
import PostgresNIO

extension PostgresCatalogStore: ImageStore {
    public var location: String { "PostgreSQL" }
    public var healthDirectory: URL? { nil }
    public var keepsImagesWithReports: Bool { true }

    public func contains(sha256: String) async throws -> Bool {
        guard ImageVault.isSHA256(sha256) else { return false }
        return try await run { connection in
            try await connection.fetch("SELECT EXISTS (SELECT 1 FROM image WHERE sha256 = \(sha256))", logger: self.logger)
                .first.map { try $0.decode(Bool.self) } ?? false
        }
    }

    public func write(_ image: EncodedImage) async throws {
        let now = Date().millisecondsSince1970
        try await transaction { connection in try await self.insert(image, at: now, on: connection) }
    }

    public func original(sha256: String) async throws -> Data? {
        try await column("original", of: sha256)
    }

    public func display(sha256: String) async throws -> Data? {
        try await column("display", of: sha256)
    }

    public func removeIfUnreferenced(sha256: String, store: any CatalogStore) async throws {
        guard ImageVault.isSHA256(sha256) else { return }
        try await transaction { connection in
            // The image row locked first: a report being filed with this image by another server holds that lock (see
            // `insert`) until it commits, and is then seen by the check below; one that comes later waits for this
            // transaction, finds no row and writes the image again.
            try await connection.fetch("SELECT sha256 FROM image WHERE sha256 = \(sha256) FOR UPDATE", logger: self.logger)
            try await connection.fetch("""
                DELETE FROM image WHERE sha256 = \(sha256) AND NOT EXISTS (SELECT 1 FROM report WHERE image_sha256 = \(sha256))
                """, logger: self.logger)
        }
    }

    /// Inserts `image` unless it is there already (content-addressed: the same hash is the same bytes). Either way the
    /// row stays locked until the transaction ends (the no-op update takes the lock), so a concurrent
    /// `removeIfUnreferenced` waits, then sees this transaction's report.
    func insert(_ image: EncodedImage, at now: Int64, on connection: PostgresConnection) async throws {
        let stored = image.stored
        try await connection.fetch("""
            INSERT INTO image (sha256, original, original_extension, display, width, height, created_at_ms)
            VALUES (\(stored.sha256), \(image.original), \(image.originalExtension), \(image.display), \(stored.width), \(stored.height), \(now))
            ON CONFLICT (sha256) DO UPDATE SET created_at_ms = image.created_at_ms
            """, logger: logger)
    }

    private func column(_ name: String, of sha256: String) async throws -> Data? {
        guard ImageVault.isSHA256(sha256) else { return nil }
        let query: PostgresQuery = name == "original" ? "SELECT original FROM image WHERE sha256 = \(sha256)"
                                                      : "SELECT display FROM image WHERE sha256 = \(sha256)"
        return try await run { connection in
            try await connection.fetch(query, logger: self.logger).first.map { row in
                var buffer = try row.decode(ByteBuffer.self)
                return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
        }
    }
}
