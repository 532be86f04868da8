// The JSON API under /api/v1: models, classify and flags. Handlers parse and validate, call the model service
// or the flag store, and encode; the documented contract is Resources/openapi.json.
import Core
import Foundation
import Hummingbird
import Imaging
import Models

struct APIRoutes: Sendable {
    let configuration: WebConfiguration
    let dependencies: WebDependencies
    let decoder: ImageDecoder

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/models") { _, _ in JSONBody(models()) }
        router.get("/api/v1/examples") { _, _ in JSONBody(ExampleSummary.all(in: dependencies.gallery)) }
        router.post("/api/v1/classify") { request, _ in JSONBody(try await classify(request)) }
        router.post("/api/v1/flags") { request, _ in JSONBody(try await flag(request), status: .created) }
    }

    func models() -> [ModelSummary] {
        Self.summaries(of: dependencies.models)
    }

    /// Every catalog model as the API and the page describe it; loading models count as available.
    static func summaries(of service: ModelService) -> [ModelSummary] {
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
        struct ExpectedRank: Encodable {
            let index: Int
            let label: String
            let probability: Double
            let rank: Int
        }
        let model: String
        let predictions: [Prediction]
        let timing: Timing
        let image: ImageInfo
        /// Images in the inference batch this one was part of.
        let batchSize: Int
        let expected: ExpectedRank?
    }

    func classify(_ request: Request) async throws -> ClassifyResponse {
        let start = ContinuousClock.now
        let query = request.uri.queryParameters
        let top = try Self.integer(query.get("top"), name: "top", default: 5, range: 1...1000)
        let expected = try query.get("expected").map { try classes($0) } ?? []
        let scheduler = try dependencies.models.scheduler(named: query.get("model"))
        let upload = try await RequestBodies.upload(request, limit: configuration.maximumBodyBytes, maximumParts: configuration.maximumFormParts)
        let result = try await run(scheduler, on: upload.image, top: top)
        let rank = ExampleGallery.bestRank(of: expected.map { ExampleClass(index: $0, name: dependencies.labels[$0].name) },
                                           in: result.classification.probabilities)
        return ClassifyResponse(
            model: scheduler.classifier.model.name, predictions: result.classification.predictions,
            timing: .init(decodeMs: result.decodeMilliseconds, queueMs: result.queueMilliseconds, inferenceMs: result.inferenceMilliseconds,
                          totalMs: (ContinuousClock.now - start).milliseconds),
            image: .init(sha256: upload.image.sha256Hex, width: result.image.originalWidth, height: result.image.originalHeight),
            batchSize: result.batchSize,
            expected: rank.map { .init(index: $0.classIndex, label: dependencies.labels[$0.classIndex].name,
                                       probability: result.classification.probabilities[$0.classIndex], rank: $0.rank) })
    }

    func flag(_ request: Request) async throws -> FlagRecord {
        guard let contentType = request.headers[.contentType], let boundary = MultipartForm.boundary(ofContentType: contentType) else {
            throw APIError.unsupportedMediaType(request.headers[.contentType])
        }
        let body = try await RequestBodies.collect(request, limit: configuration.maximumBodyBytes)
        let form = try RequestBodies.multipartForm(body, boundary: boundary, maximumParts: configuration.maximumFormParts)
        guard let image = form["image"]?.data, !image.isEmpty else {
            throw APIError.badRequest("the form has no file in its 'image' field", code: "missing_image")
        }
        guard let expectedText = form["expected"]?.text?.trimmingCharacters(in: .whitespacesAndNewlines), !expectedText.isEmpty else {
            throw APIError.badRequest("say which class the image should have been given in the field 'expected'", code: "missing_expected")
        }
        let expected = try classes(expectedText)
        guard expected.count == 1 else { throw APIError.badRequest("'expected' names one class", code: "bad_expected") }
        let note = form["note"]?.text ?? ""
        guard note.count <= configuration.maximumNoteLength else {
            throw APIError.badRequest("the note is \(note.count) characters; the limit is \(configuration.maximumNoteLength)", code: "note_too_long")
        }
        let modelName = form["model"]?.text.flatMap { $0.isEmpty ? nil : $0 }
        let scheduler = try dependencies.models.scheduler(named: modelName)
        let result = try await run(scheduler, on: image, top: 5)
        let format = try ImageFormat(sniffing: image)
        let flag = NewFlag(imageBytes: image, imageExtension: format.fileExtension, width: result.image.originalWidth,
                           height: result.image.originalHeight,
                           expected: .init(index: expected[0], label: dependencies.labels[expected[0]].name), note: note,
                           model: scheduler.classifier.model.name, predictions: result.classification.predictions)
        let store = dependencies.flags
        do {
            return try await Self.offEventLoop { try store.save(flag) }
        } catch let error as FlagStoreError {
            throw APIError(status: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), code: "storage_failed", message: error.description)
        }
    }

    private func run(_ scheduler: BatchScheduler, on image: Data, top: Int) async throws -> ScheduledClassification {
        let decoder = decoder
        return try await scheduler.classify(top: top) { try scheduler.classifier.prepare(image, decoder: decoder) }
    }

    /// "436,468" or "beach wagon" → class indices; anything that is not one of the classes is a 422.
    private func classes(_ text: String) throws -> [Int] {
        let labels = dependencies.labels
        let whole = text.trimmingCharacters(in: .whitespaces)
        if let index = labels.resolve(whole) { return [index] }
        return try whole.split(separator: ",").map { piece in
            let name = piece.trimmingCharacters(in: .whitespaces)
            guard let index = labels.resolve(name) else {
                throw APIError(status: .unprocessableContent, code: "unknown_label",
                               message: "'\(name)' is not one of the 1000 ImageNet classes (give an index 0-999, a WordNet id or an exact class name)")
            }
            return index
        }
    }

    static func integer(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.badRequest("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)", code: "bad_parameter")
        }
        return number
    }

    /// Runs blocking file work on a dispatch thread, not on Swift's cooperative pool.
    static func offEventLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
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
