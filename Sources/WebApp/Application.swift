// The composition root of the web app: configuration, the router with its middleware and routes, and the
// Hummingbird application. Everything it uses comes in as a value or a protocol; nothing is global.
import Catalog
import Curation
import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Inference
import Models
import NIOCore

/// Limits and knobs of the web app, with the defaults `blindspot serve` uses.
public struct WebConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body, in bytes (413 beyond it).
    public var maximumBodyBytes: Int
    /// Most fields a multipart form may have.
    public var maximumFormParts: Int
    /// Largest multipart field other than the image, in bytes (notes and names are far smaller still).
    public var maximumFieldBytes = 64 * 1024
    /// Largest JSON request body, in bytes, and its deepest nesting of arrays and objects.
    public var maximumJSONBytes = 16 * 1024
    public var maximumJSONDepth = 16
    /// Limits on the images themselves (pixels are checked from the header, before decoding).
    public var decodeLimits: DecodeLimits
    /// Requests per client address; nil for no limit.
    public var rateLimit: RateLimit?
    /// How long a client may take to send a request body (408 beyond it).
    public var bodyTimeout: Duration
    /// How long a connection may stay silent before it is closed.
    public var idleTimeout: Duration

    public init(host: String = "127.0.0.1", port: Int = 8080, maximumBodyBytes: Int = 20 * 1_048_576, maximumFormParts: Int = 16,
                decodeLimits: DecodeLimits = DecodeLimits(), rateLimit: RateLimit? = RateLimit(perSecond: 20, burst: 60),
                bodyTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumFormParts = maximumFormParts
        self.decodeLimits = decodeLimits
        self.rateLimit = rateLimit
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }
}

/// What the web app serves: the models, the catalog of blind spots, who moderates it, the examples, the class names,
/// its metrics and the queue that analyses run in.
public struct WebDependencies: Sendable {
    public let models: any ModelService
    public let catalog: CatalogService
    public let admin: AdminAccess
    public let gallery: ExampleGallery
    public let labels: ImageNetLabels
    public let metrics: ServerMetrics
    /// Where probes and explanations run, a bounded few at a time.
    public let analyses: AnalysisQueue
    /// What is in flight, and whether the server is stopping.
    public let drain: ServerDrain

    public init(models: any ModelService, catalog: CatalogService, admin: AdminAccess, gallery: ExampleGallery, labels: ImageNetLabels,
                metrics: ServerMetrics, analyses: AnalysisQueue = AnalysisQueue(), drain: ServerDrain = ServerDrain()) {
        self.models = models
        self.catalog = catalog
        self.admin = admin
        self.gallery = gallery
        self.labels = labels
        self.metrics = metrics
        self.analyses = analyses
        self.drain = drain
    }
}

/// The router with every route of the demo, the API, health and metrics.
public func buildRouter(configuration: WebConfiguration, dependencies: WebDependencies) throws -> Router<WebRequestContext> {
    // HEAD answers wherever GET does, as RFC 9110 asks of every general-purpose server.
    let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: MetricsMiddleware(metrics: dependencies.metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: DrainMiddleware(drain: dependencies.drain))
    router.add(middleware: SameOriginMiddleware())
    if let limit = configuration.rateLimit { router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(limit: limit))) }
    let decoder = ImageDecoder(limits: configuration.decodeLimits)
    APIRoutes(configuration: configuration, dependencies: dependencies, decoder: decoder).register(on: router)
    AnalysisRoutes(configuration: configuration, dependencies: dependencies, decoder: decoder).register(on: router)
    CatalogRoutes(configuration: configuration, dependencies: dependencies).register(on: router)
    try PageRoutes(configuration: configuration, dependencies: dependencies).register(on: router)
    HealthRoutes(dependencies: dependencies).register(on: router)
    // Added last, so it runs only where no route matched (the router's 404 is built with every middleware).
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    return router
}

/// The Hummingbird application listening on `configuration.host:port`.
public func buildApplication(configuration: WebConfiguration, dependencies: WebDependencies,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let router = try buildRouter(configuration: configuration, dependencies: dependencies)
    let idle = TimeAmount.nanoseconds(Int64(configuration.idleTimeout.seconds * 1e9))
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: idle)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Blindspot"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) })
}

/// Headers every answer carries: no inline or third-party scripts, no MIME sniffing, no framing.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            Self.secure(&response.headers)
            return response
        } catch let error as APIError {
            var response = try error.response(from: request, context: context)
            Self.secure(&response.headers)
            return response
        }
    }

    private static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }
}
