// A web app for route tests over a tiny synthetic model (or the real efficientnet_lite0 where a test needs real
// answers), with a throwaway catalog (SQLite and images in a temporary folder, a known admin token) and the post's
// examples from ../shared.
import AsyncHTTPClient
import Catalog
import Curation
import EngineDNNL
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import Inference
import ModelFetch
import ModelRegistry
import Models
import TestSupport
import Testing
import WebApp

struct TestServer {
    let dependencies: WebDependencies
    let configuration: WebConfiguration
    let dataDirectory: URL

    static let labels = try! ImageNetLabels.bundled()
    static let adminToken = "test-admin-token-\(UUID().uuidString)"

    /// Which model the server offers: the tiny synthetic one (fast, deterministic, meaningless answers), or the real
    /// efficientnet_lite0 from the cache for the tests that need a real model's answers.
    enum Model {
        case tiny
        case efficientnetLite0
    }

    /// `load: false` leaves the model loading forever (for readiness tests). `catalog` makes the store and the vault in
    /// the test's data folder (default: SQLite and images there). `.efficientnetLite0` without its weights in the cache
    /// is a failure (make test fetches them).
    static func make(_ model: Model = .tiny, configuration: WebConfiguration = WebConfiguration(port: 0),
                     scheduling: BatchScheduler.Configuration = .init(), load: Bool = true,
                     analyses: AnalysisQueue = AnalysisQueue(),
                     catalog makeCatalog: (URL) async throws -> (store: any CatalogStore, images: any ImageStore) = TestServer.sqliteCatalog) async throws -> TestServer {
        let metrics = ServerMetrics()
        let service: any ModelService
        switch model {
        case .tiny:
            service = try TinyModelService(labels: labels, scheduling: scheduling, observer: metrics, loaded: load)
        case .efficientnetLite0:
            try #require(CachedWeights.url("efficientnet-lite0-57934424.pth") != nil, "efficientnet_lite0's weights are in the cache (make test fetches them)")
            let loader = ModelLoader(cache: ModelCache(directory: CachedWeights.directory), labels: labels)
            let served = try ServedModels(loader: loader, names: ["efficientnet_lite0"], backend: DNNLBackend(), scheduling: scheduling,
                                          observer: metrics)
            if load {
                served.startLoading()
                await served.waitUntilSettled()
            }
            service = served
        }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let (store, images) = try await makeCatalog(data)
        let catalog = CatalogService(store: store, images: images, models: service, labels: labels, decoder: ImageDecoder(limits: configuration.decodeLimits))
        let gallery = SharedData.has("seed-examples")
            ? try ExampleGallery(directory: SharedData.url("seed-examples"), labels: labels)
            : ExampleGallery(emptyAt: SharedData.url("seed-examples"))
        let dependencies = WebDependencies(models: service, catalog: catalog, admin: AdminAccess(token: adminToken), gallery: gallery,
                                           labels: labels, metrics: metrics, analyses: analyses)
        return TestServer(dependencies: dependencies, configuration: configuration, dataDirectory: data)
    }

    static func sqliteCatalog(in data: URL) async throws -> (store: any CatalogStore, images: any ImageStore) {
        (try SQLiteCatalogStore(path: data.appendingPathComponent("catalog.sqlite").path), try ImageVault(directory: data.appendingPathComponent("images")))
    }

    func test<Value>(_ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let result: Result<Value, any Error>
        do {
            result = .success(try await buildApplication(configuration: configuration, dependencies: dependencies).test(setup, body))
        } catch {
            result = .failure(error)
        }
        dependencies.models.shutDown()
        try? await dependencies.catalog.store.close()
        try? FileManager.default.removeItem(at: dataDirectory)
        return try result.get()
    }
}

/// Test inputs read from ../shared.
enum Photos {
    /// A GIF header declaring 1×1 pixels followed by garbage: sniffed as GIF, refused by the decoder.
    static var corruptGIF: Data { Data("GIF89a".utf8) + Data([1, 0, 1, 0, 0x80, 0, 0]) + Data(repeating: 0xA5, count: 64) }

    /// A 500×375 ImageNet photo (tench).
    static var tench: Data? {
        let directory = SharedData.url("imagenet-sample")
        let name = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.sorted().first { $0.hasPrefix("n01440764") }
        return name.flatMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path) }
    }

    /// The first `count` ImageNet photos, by file name.
    static func sample(_ count: Int) -> [Data] {
        let directory = SharedData.url("imagenet-sample")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().prefix(count)
        return names.compactMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path) }
    }

    static func multipart(_ fields: [(name: String, filename: String?, contentType: String?, data: Data)], boundary: String = "blindspot-test-boundary") -> (body: ByteBuffer, contentType: String) {
        var body = Data()
        for field in fields {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"".utf8)
            if let filename = field.filename { body += Data("; filename=\"\(filename)\"".utf8) }
            body += Data("\r\n".utf8)
            if let type = field.contentType { body += Data("Content-Type: \(type)\r\n".utf8) }
            body += Data("\r\n".utf8) + field.data + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (ByteBuffer(bytes: body), "multipart/form-data; boundary=\(boundary)")
    }
}

extension ByteBuffer {
    var data: Data { Data(readableBytesView) }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: data) }
}

/// Many requests at once, each on its own connection (the test frameworks' clients share one connection, which
/// HTTP/1.1 answers one request at a time).
enum ParallelClient {
    struct Response: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
    }

    struct Request: Sendable {
        let path: String
        let contentType: String
        let body: Data
    }

    /// `count` copies of one POST.
    static func post(_ count: Int, port: Int, path: String, contentType: String, body: Data) async throws -> [Response] {
        try await post(Array(repeating: Request(path: path, contentType: contentType, body: body), count: count), port: port)
    }

    /// Sends every request at once and returns the answers in the same order.
    static func post(_ requests: [Request], port: Int) async throws -> [Response] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = requests.count
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let responses = try await withThrowingTaskGroup(of: (Int, Response).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask {
                        var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(request.path)")
                        outgoing.method = .POST
                        outgoing.headers.add(name: "Content-Type", value: request.contentType)
                        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
                        let response = try await client.execute(outgoing, timeout: .seconds(60))
                        var headers = HTTPFields()
                        for header in response.headers {
                            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
                        }
                        return (index, Response(status: HTTPResponse.Status(code: Int(response.status.code)), headers: headers,
                                                body: try await response.body.collect(upTo: 1 << 24)))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            try await client.shutdown()
            return requests.indices.map { responses[$0]! }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
