// The pages: the demo at / and /examples/N, the example images, the API description (/api, /openapi.json)
// and the static assets. Pages are rendered per request from current model states.
import Catalog
import Curation
import Foundation
import Hummingbird
import Imaging
import Models
import Reports

struct PageRoutes: Sendable {
    let configuration: WebConfiguration
    let dependencies: WebDependencies
    let assets: StaticAssets

    init(configuration: WebConfiguration, dependencies: WebDependencies) throws {
        self.configuration = configuration
        self.dependencies = dependencies
        assets = try StaticAssets.bundled(labels: dependencies.labels)
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/") { _, _ in HTMLBody(try await demoPage(selected: nil)) }
        router.get("/examples/:id") { _, context in HTMLBody(try await demoPage(selected: try example(context))) }
        router.get("/examples/:id/image") { _, context in try exampleImage(try example(context)) }
        router.get("/api") { request, _ in
            let origin = "http://" + (request.head.authority ?? "127.0.0.1:\(configuration.port)")
            let defaultModel = APIRoutes.summaries(of: dependencies.models).answeringByDefault
            return HTMLBody(APIPage(origin: origin, document: assets.apiDocument, defaultModel: defaultModel?.name).render())
        }
        router.get("/openapi.json") { _, _ in assets.response(for: "openapi.json") }
        router.get("/static/:file") { _, context in
            guard let response = assets.response(for: "static/" + (context.parameters.get("file") ?? "")) else {
                throw APIError.notFound("no such file")
            }
            return response
        }
    }

    private func demoPage(selected: Example?) async throws -> String {
        let limits = UploadLimits(maximumBodyBytes: configuration.maximumBodyBytes,
                                  maximumMegapixels: configuration.decodeLimits.maximumMegapixels)
        // The demo works without the catalog: when its storage fails, the report form offers no existing categories.
        let categories: [Category]
        do { categories = try await dependencies.catalog.store.categories() } catch is CatalogError { categories = [] }
        return DemoPage(models: APIRoutes.summaries(of: dependencies.models), gallery: dependencies.gallery, selectedExample: selected,
                        labels: dependencies.labels, limits: limits, categories: categories).render()
    }

    private func example(_ context: WebRequestContext) throws -> Example {
        guard let id = context.parameters.get("id").flatMap(Int.init), let example = dependencies.gallery.example(id: id) else {
            // The answer never names the examples' folder: the server's paths are nobody else's business.
            throw APIError.notFound("there is no example \(context.parameters.get("id") ?? "")")
        }
        return example
    }

    private func exampleImage(_ example: Example) throws -> Response {
        guard let file = dependencies.gallery.imageFile(of: example), let data = FileManager.default.contents(atPath: file.path) else {
            throw APIError.notFound("the image of example \(example.id) is missing on this server")
        }
        let format = try ImageFormat(sniffing: data)
        return Response(status: .ok, headers: [.contentType: format.mediaType, .cacheControl: "public, max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The files under Resources/static (every .js module and .css sheet there), the reports' stylesheet and the OpenAPI
/// description (with the server's class list), read once at start-up and served by their path ("static/app.js",
/// "static/report.css", "openapi.json"); no other file is ever served.
struct StaticAssets: Sendable {
    private let files: [String: (type: String, bytes: Data)]
    /// openapi.json as bundled, in its own order of paths (what /api describes; the served copy is re-serialized).
    let apiDocument: Data

    private static let types = ["js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]

    static func bundled(labels: ImageNetLabels) throws -> StaticAssets {
        var files: [String: (String, Data)] = [:]
        let bundle = Bundle.module.bundleURL
        let folder = bundle.appendingPathComponent("static")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var wanted: [(path: String, type: String)] = names.sorted().compactMap { name in
            types[(name as NSString).pathExtension].map { ("static/" + name, $0) }
        }
        wanted.append(("openapi.json", "application/json; charset=utf-8"))
        guard wanted.contains(where: { $0.path == "static/app.js" }) else {
            throw APIError(status: .internalServerError, code: "missing_asset", message: "\(folder.path)/app.js is missing from the build")
        }
        for asset in wanted {
            let url = bundle.appendingPathComponent(asset.path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw APIError(status: .internalServerError, code: "missing_asset", message: "\(url.path) is missing from the build")
            }
            files[asset.path] = (asset.type, data)
        }
        files["static/report.css"] = ("text/css; charset=utf-8", Data(ReportStyle.css.utf8))
        let source = files["openapi.json"]?.1 ?? Data()
        if let document = files["openapi.json"] {
            files["openapi.json"] = (document.0, try OpenAPIDocument.filled(document.1, labels: labels))
        }
        return StaticAssets(files: files, apiDocument: source)
    }

    func response(for name: String) -> Response? {
        guard let file = files[name] else { return nil }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}

/// An HTML page body.
struct HTMLBody: ResponseGenerator {
    let html: String

    init(_ html: String) { self.html = html }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
