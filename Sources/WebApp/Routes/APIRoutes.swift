// The JSON API under /api/v1 for models, classification and the examples (the catalog's is CatalogRoutes).
// Handlers parse and validate, call the model service, and encode; the documented contract is Resources/openapi.json.
import Curation
import Foundation
import Hummingbird
import Imaging
import Inference
import Models

struct APIRoutes: Sendable {
    let configuration: WebConfiguration
    let dependencies: WebDependencies
    let decoder: ImageDecoder

    func register(on router: Router<WebRequestContext>) {
        router.get("/api/v1/models") { _, _ in JSONBody(models()) }
        router.get("/api/v1/examples") { _, _ in JSONBody(ExampleSummary.all(in: dependencies.gallery)) }
        router.post("/api/v1/classify") { request, _ in JSONBody(try await classify(request)) }
        router.get("/api/v1/classes") { request, _ in JSONBody(try classes(request)) }
    }

    struct ClassesResponse: Encodable {
        let query: String
        let classes: [ClassMatch]
    }

    /// The classes a text may mean, best first: what the page offers while someone types a class.
    func classes(_ request: Request) throws -> ClassesResponse {
        let query = QueryParameters(request)
        let limit = try query.integer("limit", default: 8, range: 1...50)
        let text = query["q"] ?? ""
        let labels = dependencies.labels
        // An exact index, WordNet id or name is the one answer; anything else gets the ranked near misses.
        if let index = labels.resolve(text) {
            let entry = labels[index]
            return ClassesResponse(query: text, classes: [ClassMatch(index: index, wordNetID: entry.wordNetID, label: entry.name, matched: text)])
        }
        return ClassesResponse(query: text, classes: labels.suggestions(for: text, limit: limit))
    }

    func models() -> [ModelSummary] {
        Self.summaries(of: dependencies.models)
    }

    /// Every known model as the API and the page describe it; loading models count as available.
    static func summaries(of service: any ModelService) -> [ModelSummary] {
        service.statuses().map { status in
            let available: Bool
            switch status.state {
            case .ready, .loading: available = true
            case .notPresent, .failed: available = false
            }
            return ModelSummary(name: status.model.name, inputSize: status.model.inputSize, available: available,
                                isDefault: status.isDefault, source: status.weightsSource ?? "not present")
        }
    }

    struct ClassifyResponse: Encodable {
        struct Timing: Encodable {
            let decodeMs: Double
            let queueMs: Double
            let inferenceMs: Double
            let totalMs: Double
        }
        struct ImageInfo: Encodable {
            let sha256: String
            let width: Int
            let height: Int
        }
        let model: String
        let predictions: [Prediction]
        let timing: Timing
        let image: ImageInfo
        /// Images in the inference batch this one was part of.
        let batchSize: Int
        let expected: ClassRank?
    }

    func classify(_ request: Request) async throws -> ClassifyResponse {
        let start = ContinuousClock.now
        let query = QueryParameters(request)
        let top = try query.integer("top", default: 5, range: 1...1000)
        let expected = try query.list("expected").map { try Self.classes($0, labels: dependencies.labels) } ?? []
        let scheduler = try dependencies.models.scheduler(named: query["model"])
        // A place in the queue before the body is read: a full queue refuses at once, not after the upload.
        let admission = try scheduler.admit()
        let upload = try await RequestBodies(configuration).upload(request)
        let decoder = decoder
        let result = try await scheduler.classify(admission, top: top) { try scheduler.classifier.prepare(upload.image, decoder: decoder) }
        return ClassifyResponse(
            model: scheduler.classifier.model.name, predictions: result.classification.predictions,
            timing: .init(decodeMs: result.decodeMilliseconds, queueMs: result.queueMilliseconds, inferenceMs: result.inferenceMilliseconds,
                          totalMs: (ContinuousClock.now - start).milliseconds),
            image: .init(sha256: upload.image.sha256Hex, width: result.image.originalWidth, height: result.image.originalHeight),
            batchSize: result.batchSize,
            expected: result.classification.bestRank(of: expected, labels: dependencies.labels))
    }

    /// ["436", "beach wagon"] → class indices; anything that is not one of the classes is a 422.
    static func classes(_ names: [String], labels: ImageNetLabels) throws -> [Int] {
        try names.map(labels.require)
    }
}

/// An example as the API lists it.
struct ExampleSummary: Encodable {
    let id: Int
    let category: String
    let title: String
    let finding: String
    let expected: [ExampleClass]
    let reportedTop3: [ReportedPrediction]
    let imageAvailable: Bool
    let imageURL: String
    let pageURL: String

    static func all(in gallery: ExampleGallery) -> [ExampleSummary] {
        gallery.examples.map { example in
            ExampleSummary(id: example.id, category: example.category, title: example.title, finding: example.finding,
                           expected: example.expected, reportedTop3: example.reportedTop3,
                           imageAvailable: gallery.imageFile(of: example) != nil,
                           imageURL: "/examples/\(example.id)/image", pageURL: "/examples/\(example.id)")
        }
    }
}

/// A JSON response body with a status.
struct JSONBody<Value: Encodable>: ResponseGenerator {
    let value: Value
    let status: HTTPResponse.Status

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
