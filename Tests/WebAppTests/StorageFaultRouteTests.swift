// What clients see when the catalog's storage fails, with the real efficientnet_lite0: a catalog that could not be
// opened (503, the rest of the server works, /readyz says why), a read-only image folder (503 with Retry-After), a
// full one (507) and a locked database (503 after the store's retries), never a 500 and never a path.
import Catalog
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import TestSupport
import Testing
import WebApp

@Suite(.serialized) struct StorageFaultRouteTests {
    static let secretPath = "/srv/secret-data-folder"

    /// A PNG of seeded noise: a new report for every seed.
    static func noisePNG(_ seed: UInt64) throws -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let pixels = (0..<64 * 64 * 3).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        return try RGBImage(width: 64, height: 64, pixels: pixels).pngData()
    }

    static func file(_ client: any TestClientProtocol, seed: UInt64) async throws -> TestResponse {
        let form = Photos.multipart([("image", "noise.png", "image/png", try noisePNG(seed)), ("expected", nil, nil, Data("goldfish".utf8))])
        return try await client.execute(uri: "/api/v1/blindspots", method: .post, headers: [.contentType: form.contentType], body: form.body)
    }

    static func error(_ response: TestResponse) throws -> (code: String, message: String) {
        let error = try #require((try response.body.json() as? [String: Any])?["error"] as? [String: Any])
        return (error["code"] as? String ?? "", error["message"] as? String ?? "")
    }

    static func catalogReadiness(_ client: any TestClientProtocol) async throws -> (status: HTTPResponse.Status, state: String, reason: String?) {
        let ready = try await client.execute(uri: "/readyz", method: .get)
        let catalog = try #require((try ready.body.json() as? [String: Any])?["catalog"] as? [String: Any])
        return (ready.status, catalog["state"] as? String ?? "", catalog["reason"] as? String)
    }

    @Test func aCatalogThatCouldNotBeOpenedAnswers503WhileEverythingElseWorks() async throws {
        let server = try await TestServer.make(catalog: { data in
            (UnavailableCatalogStore(fault: .readOnly, detail: "cannot create \(Self.secretPath)/images: Read-only file system"),
             ImageVault(unopenedAt: data.appendingPathComponent("images")))
        })
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let filed = try await Self.file(client, seed: 1)
            #expect(filed.status == .serviceUnavailable)
            let (code, message) = try Self.error(filed)
            #expect(code == "catalog_unavailable" && message.contains("read-only"), "\(message)")
            #expect(!message.contains(Self.secretPath), "\(message)")
            for path in ["/api/v1/blindspots", "/api/v1/blindspots/1", "/api/v1/categories", "/blindspots"] {
                let answer = try await client.execute(uri: path, method: .get)
                #expect(answer.status == .serviceUnavailable, "\(path)")
            }
            #expect(try await client.execute(uri: "/", method: .get).status == .ok, "the demo page works without the catalog")
            let classify = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(classify.status == .ok)
            let readiness = try await Self.catalogReadiness(client)
            #expect(readiness.status == .ok, "the models are ready: the server takes traffic")
            #expect(readiness.state == "unavailable")
            #expect(readiness.reason?.contains("read-only") == true && readiness.reason?.contains(Self.secretPath) == false, "\(readiness.reason ?? "")")
        }
    }

    /// A server whose catalog database is in its own data folder and whose images are on `mount`.
    static func server(keepingImagesOn mount: ScratchMount) async throws -> TestServer {
        try await TestServer.make(catalog: { data in
            (try SQLiteCatalogStore(path: data.appendingPathComponent("catalog.sqlite").path),
             try ImageVault(directory: mount.directory.appendingPathComponent("images")))
        })
    }

    @Test(.enabled(if: ScratchMount.isPossible, ScratchMount.needsRoot)) func aReadOnlyImageFolderAnswers503WithRetryAfterUntilItIsWritable() async throws {
        let mount = try #require(ScratchMount.make(megabytes: 8), "a tmpfs can be mounted")
        defer { mount.unmount() }
        let server = try await Self.server(keepingImagesOn: mount)
        try await server.test { client in
            #expect(try await Self.file(client, seed: 1).status == .created)
            try mount.remount(readOnly: true)
            let refused = try await Self.file(client, seed: 2)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "30")
            let (code, message) = try Self.error(refused)
            #expect(code == "storage_read_only" && !message.contains(mount.directory.path), "\(code): \(message)")
            let readiness = try await Self.catalogReadiness(client)
            #expect(readiness.state == "read_only" && readiness.reason?.contains(mount.directory.path) == false, "\(readiness)")
            let listed = try await client.execute(uri: "/api/v1/blindspots?status=pending", method: .get, headers: CatalogRouteTests.bearer)
            #expect((try listed.body.json() as? [String: Any])?["total"] as? Int == 1, "reading still works")

            try mount.remount(readOnly: false)
            #expect(try await Self.file(client, seed: 2).status == .created, "writable again: the next report is stored")
            #expect(try await Self.catalogReadiness(client).state == "ready")
        }
    }

    @Test(.enabled(if: ScratchMount.isPossible, ScratchMount.needsRoot)) func aFullImageFolderAnswers507AndRecoversWhenSpaceIsFreed() async throws {
        let mount = try #require(ScratchMount.make(megabytes: 4), "a tmpfs can be mounted")
        defer { mount.unmount() }
        let server = try await Self.server(keepingImagesOn: mount)
        try await server.test { client in
            #expect(try await Self.file(client, seed: 1).status == .created)
            let filler = try mount.fill()
            let refused = try await Self.file(client, seed: 2)
            #expect(refused.status.code == 507)
            let (code, message) = try Self.error(refused)
            #expect(code == "insufficient_storage" && !message.contains(mount.directory.path), "\(code): \(message)")
            #expect(try await Self.catalogReadiness(client).state == "full")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)

            try FileManager.default.removeItem(at: filler)
            #expect(try await Self.file(client, seed: 2).status == .created)
            #expect(try await Self.catalogReadiness(client).state == "ready")
        }
    }

    @Test func aDatabaseLockedThroughEveryRetryAnswers503NotA500() async throws {
        let lockPath = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-lock-\(UUID().uuidString).sqlite").path
        let server = try await TestServer.make(catalog: { data in
            (try SQLiteCatalogStore(path: lockPath, busyTimeout: 0.1, attempts: 3), try ImageVault(directory: data.appendingPathComponent("images")))
        })
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: lockPath + suffix) } }
        try await server.test { client in
            var configuration = GRDB.Configuration()
            configuration.allowsUnsafeTransactions = true  // the transaction stays open between two accesses
            let holder = try DatabaseQueue(path: lockPath, configuration: configuration)
            try await holder.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
            let refused = try await Self.file(client, seed: 1)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "2")
            #expect(try Self.error(refused).code == "storage_busy")
            try await holder.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            try holder.close()
            #expect(try await Self.file(client, seed: 1).status == .created)
        }
    }
}
