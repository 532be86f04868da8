// Tests for WeightsFetcher on `.url` releases against a loopback server: success, redirects, the cache,
// and each failure leaving the cache without partial or unverified files.
import Foundation
import Models
import ModelFetch
import Testing

// Generous read timeouts: the loopback server is a python3 process that the parallel suites can starve for seconds.
@Suite(.timeLimit(.minutes(3))) final class HTTPFetchTests {
    static let payloadSize = 1 << 20
    let fixture: ServedFolder
    let payload = LocalFixtures.patternedBytes(count: payloadSize)
    let payloadDigest: String
    var cache: ModelCache { fixture.cache }
    var server: LocalHTTPServer { fixture.server }

    init() throws {
        let payload = payload
        fixture = try ServedFolder(named: "served") { served, _ in
            try payload.write(to: served.appendingPathComponent("weights.pth"))
        }
        payloadDigest = try ModelCache.sha256(ofFileAt: fixture.folder.url.appendingPathComponent("served/weights.pth"))
    }

    func release(path: String, sha256: String? = nil) -> WeightsRelease {
        WeightsRelease(fileName: "weights-\(payloadDigest.prefix(8)).pth", source: .url(server.url(path)), sha256: sha256 ?? payloadDigest)
    }

    func fetch(
        _ release: WeightsRelease, recorder: ProgressRecorder = ProgressRecorder(), readIdleTimeout: Duration = .seconds(90)
    ) async throws -> URL {
        let configuration = WeightsFetcher.Configuration(environment: [:], connectTimeout: .seconds(5), readIdleTimeout: readIdleTimeout)
        return try await WeightsFetcher.withFetcher(cache: cache, configuration: configuration) { fetcher in
            try await fetcher.fetch(release, progress: recorder.record)
        }
    }

    /// Runs a fetch that must fail and returns its error.
    func failure(of release: WeightsRelease, readIdleTimeout: Duration = .seconds(90)) async throws -> FetchError {
        let error = try await #require(throws: FetchError.self) { try await self.fetch(release, readIdleTimeout: readIdleTimeout) }
        #expect(error.destination == cache.path(for: release))
        #expect(entries(of: cache.directory) == [], "no partial or unverified file may stay in the cache")
        return error
    }

    @Test func goodFileIsCachedVerifiedAndReported() async throws {
        let recorder = ProgressRecorder()
        let release = release(path: "/weights.pth")
        let file = try await fetch(release, recorder: recorder)
        #expect(file == cache.path(for: release))
        #expect(try Data(contentsOf: file) == payload)
        #expect(try cache.verify(release) == .verified(file))
        #expect(entries(of: cache.directory) == [release.fileName])

        let reports = recorder.reports
        let size = Int64(Self.payloadSize)
        #expect(reports.first == FetchProgress(phase: .downloading, completedBytes: 0, totalBytes: size))
        #expect(reports.last == FetchProgress(phase: .finished, completedBytes: size, totalBytes: size))
        let downloaded = reports.filter { $0.phase == .downloading }.map(\.completedBytes)
        #expect(downloaded == downloaded.sorted())
        #expect(downloaded.last == size)
    }

    @Test func redirectIsFollowedAndDigestPrefixAccepted() async throws {
        let release = release(path: "/redirect/weights.pth", sha256: String(payloadDigest.prefix(8)))
        #expect(release.isDigestPrefix)
        let file = try await fetch(release)
        #expect(try Data(contentsOf: file) == payload)
    }

    @Test func verifiedCacheIsUsedWithoutTheNetwork() async throws {
        let release = release(path: "/weights.pth")
        let first = try await fetch(release)
        server.stop()
        let recorder = ProgressRecorder()
        #expect(try await fetch(release, recorder: recorder) == first)
        #expect(recorder.reports == [
            FetchProgress(phase: .verifying),
            FetchProgress(phase: .finished, completedBytes: Int64(Self.payloadSize), totalBytes: Int64(Self.payloadSize)),
        ])
    }

    @Test func corruptCachedFileIsReplaced() async throws {
        let release = release(path: "/weights.pth")
        try FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
        try Data("damaged".utf8).write(to: cache.path(for: release))
        let file = try await fetch(release)
        #expect(try Data(contentsOf: file) == payload)
        #expect(entries(of: cache.directory) == [release.fileName])
    }

    @Test func digestMismatchLeavesNothing() async throws {
        let wrongDigest = String(repeating: "0", count: 64)
        let error = try await failure(of: release(path: "/weights.pth", sha256: wrongDigest))
        #expect(error.reason == .digestMismatch(expected: wrongDigest, found: payloadDigest))
        #expect(error.description.contains("has SHA-256 \(payloadDigest), not SHA-256 \(wrongDigest); it was deleted."))
    }

    @Test func droppedConnectionLeavesNothing() async throws {
        let release = release(path: "/truncated/weights.pth")
        let error = try await failure(of: release)
        guard case let .interrupted(url, receivedBytes, expectedBytes, _) = error.reason else {
            Issue.record("expected an interrupted download, got \(error)")
            return
        }
        #expect(url == server.url("/truncated/weights.pth"))
        #expect(expectedBytes == Int64(Self.payloadSize))
        #expect(receivedBytes <= 100 * 1024)
        #expect(error.description.contains("the download of \(url) stopped after \(receivedBytes) of \(Self.payloadSize) bytes"))
    }

    @Test func silentServerTimesOut() async throws {
        let release = release(path: "/stalled/weights.pth")
        let error = try await failure(of: release, readIdleTimeout: .seconds(1))
        guard case let .interrupted(_, receivedBytes, expectedBytes, cause) = error.reason else {
            Issue.record("expected an interrupted download, got \(error)")
            return
        }
        #expect(expectedBytes == Int64(Self.payloadSize))
        #expect(receivedBytes <= 100 * 1024)
        #expect(cause == "no data arrived within the read timeout")
    }

    @Test func missingFileReports404() async throws {
        let release = release(path: "/absent.pth")
        let error = try await failure(of: release)
        #expect(error.reason == .httpStatus(url: server.url("/absent.pth"), status: 404, phrase: "Not Found"))
        #expect(error.description.hasPrefix("the server answered HTTP 404 Not Found for \(server.url("/absent.pth"))."))
    }

    @Test func refusedConnectionGivesOfflineAdvice() async throws {
        server.stop()
        let release = release(path: "/weights.pth")
        let error = try await failure(of: release)
        #expect(error.reason == .unreachable(url: server.url("/weights.pth"), cause: "Connection refused"))
        #expect(error.description == "could not reach 127.0.0.1 (Connection refused). Download \(server.url("/weights.pth")) "
            + "on a machine that has internet access and copy it to \(cache.path(for: release).path), or pass --weights FILE.")
    }
}
