// The analyses under /api/v1: a probe (transformation sweep) and an explanation (occlusion heatmap) of one image,
// on one model or several side by side. Each runs in the AnalysisQueue (bounded, off the event loop); handlers
// only parse, pick the models and encode. The documented contract is Resources/openapi.json.
import Analysis
import Foundation
import Hummingbird
import Imaging
import Inference
import Models
import Reports
import Transforms

struct AnalysisRoutes: Sendable {
    let configuration: WebConfiguration
    let dependencies: WebDependencies
    let decoder: ImageDecoder

    func register(on router: Router<WebRequestContext>) {
        router.post("/api/v1/probe") { request, context in try await probe(request, context: context) }
        router.post("/api/v1/explain") { request, context in try await explain(request, context: context) }
    }

    func probe(_ request: Request, context: WebRequestContext) async throws -> Response {
        let query = QueryParameters(request)
        let classifiers = try models(query.list("model"))
        let labels = dependencies.labels
        let plan = ProbePlan(
            families: try query.list("families").map(Self.families) ?? ProbeFamily.standard,
            expected: try query.list("expected").map { try APIRoutes.classes($0, labels: labels) } ?? [],
            seed: try query["seed"].map { text in
                guard let seed = UInt64(text) else { throw QueryParameters.bad("seed", "must be a whole number from 0 to \(UInt64.max)") }
                return seed
            } ?? 0)
        let thumbnails = try query.flag("thumbnails", default: true)
        let image = try await RequestBodies(configuration).upload(request).image
        let decoder = decoder
        let result = try await dependencies.analyses.run {
            let decoded = try decoder.decode(image, minimumShorterSide: classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max())
            return try Probe.run(decoded, plan: plan, classifiers: classifiers, thumbnailSide: thumbnails ? 112 : nil)
        }
        if Self.wantsHTML(request) {
            return try HTMLBody(ProbeReport.fragment(result)).response(from: request, context: context)
        }
        return try JSONBody(result).response(from: request, context: context)
    }

    func explain(_ request: Request, context: WebRequestContext) async throws -> Response {
        let query = QueryParameters(request)
        let classifiers = try models(query.list("model"))
        let method = try query.choice("method", of: ["patches", "superpixels"], default: "patches")
        let classIndex = try query["class"].map(dependencies.labels.require)
        // Each method reads its own parameters and leaves the other's aside (still checked).
        let patch = try query.integer("patch", range: 4...1024)
        let stride = try query.integer("stride", range: 2...1024)
        let segments = try query.integer("segments", default: 50, range: 4...400)
        let json = request.headers[.accept]?.contains("application/json") == true
        guard json || classifiers.count == 1 else {
            throw APIError.badRequest("the PNG answer shows one model; ask for JSON (Accept: application/json) to explain several", code: "bad_parameter")
        }
        let image = try await RequestBodies(configuration).upload(request).image
        let decoder = decoder
        let explanations = try await dependencies.analyses.run {
            try classifiers.map { classifier in
                let decoded = try decoder.decode(image, minimumShorterSide: classifier.model.preprocessing.sourceShorterSide)
                let start = ContinuousClock.now
                let (map, input) = method == "superpixels"
                    ? try classifier.superpixelOcclusion(of: decoded, classIndex: classIndex, segments: segments)
                    : try classifier.occlusion(of: decoded, classIndex: classIndex, patch: patch, stride: stride,
                                               maximumPositions: Self.maximumPatchPositions)
                return Explanation(model: classifier.model.name, map: map, overlay: try map.overlay(on: input).pngData(),
                                   milliseconds: (ContinuousClock.now - start).milliseconds)
            }
        }
        guard json else {
            return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: explanations[0].overlay)))
        }
        return try JSONBody(explanations.map(ExplanationBody.init)).response(from: request, context: context)
    }

    /// The most patch positions one explanation tries, as many as the most superpixels: a smaller stride is raised to fit.
    static let maximumPatchPositions = 400

    /// ["efficientnet_lite0"], ["a", "b"] or ["all"] (every ready model); nil (absent, or nothing but commas and blanks):
    /// the default model. Never empty.
    private func models(_ names: [String]?) throws -> [Classifier] {
        let service = dependencies.models
        guard let names else { return [try service.scheduler(named: nil).classifier] }
        if names == ["all"] {
            let ready = service.readySchedulers().map(\.classifier)
            guard !ready.isEmpty else { throw ModelServiceError.noModel }
            return ready
        }
        return try names.map { try service.scheduler(named: $0).classifier }
    }

    static func families(_ names: [String]) throws -> [ProbeFamily] {
        do {
            return try ProbeFamily.list(names.joined(separator: ","))
        } catch {
            throw APIError.badRequest(error.description, code: "bad_parameter")
        }
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") == true
    }
}

/// One model's explanation, computed in the analysis queue.
private struct Explanation: Sendable {
    let model: String
    let map: OcclusionMap
    let overlay: Data
    let milliseconds: Double
}

/// An explanation as the JSON answer gives it: the drop per region and the overlay as a PNG data URL.
private struct ExplanationBody: Encodable {
    struct ClassInfo: Encodable {
        let index: Int
        let label: String
    }
    let model: String
    let `class`: ClassInfo
    let baseProbability: Double
    let method: String
    let width: Int
    let height: Int
    let patch: Int?
    let stride: Int?
    let columns: Int?
    let rows: Int?
    let segments: Int?
    /// Per region: patch positions row-major, or superpixel segments.
    let drops: [Double]
    /// Superpixels only: the segment of every input pixel, row-major.
    let segmentMap: [Int32]?
    /// The largest drop (0–1), the top of the colour bar (0–1, a round number of points), whether the map is muted
    /// (no drop reaches 1 point), and the sentence that says what the picture shows.
    let maxDrop: Double
    let scaleMaximum: Double
    let muted: Bool
    let caption: String
    let overlay: String
    let milliseconds: Double

    init(_ explanation: Explanation) {
        let map = explanation.map
        model = explanation.model
        maxDrop = map.maxDrop
        scaleMaximum = map.scale.maximum
        muted = map.scale.isMuted
        caption = map.caption
        `class` = ClassInfo(index: map.classIndex, label: map.label)
        baseProbability = map.baseProbability
        width = map.width
        height = map.height
        drops = map.drops
        overlay = "data:image/png;base64," + explanation.overlay.base64EncodedString()
        milliseconds = explanation.milliseconds
        switch map.regions {
        case let .patches(patch, stride, columns, rows):
            (method, self.patch, self.stride, self.columns, self.rows, segments, segmentMap) = ("patches", patch, stride, columns, rows, nil, nil)
        case let .superpixels(segments, count):
            (method, patch, stride, columns, rows, self.segments, segmentMap) = ("superpixels", nil, nil, nil, nil, count, segments)
        }
    }
}
