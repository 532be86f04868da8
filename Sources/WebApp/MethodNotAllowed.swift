// 405 with `Allow` for a path that exists but does not answer the request's method (RFC 9110, 15.5.6); other
// unrouted requests go on to the router's 404. Runs only for requests no route matched.
import Hummingbird

struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each routed path as its segments (a capture, "{name}", or "*" matches any one segment), with the methods it answers.
    private let paths: [(segments: [String], methods: [HTTPRequest.Method])]

    /// `routes` as the router lists them; HEAD is added wherever GET is (the router answers it from GET).
    init(routes: [Router<Context>.RouteDescription]) {
        var methods: [String: Set<HTTPRequest.Method>] = [:]
        for route in routes {
            methods[route.path.description, default: []].insert(route.method)
            if route.method == .get { methods[route.path.description, default: []].insert(.head) }
        }
        paths = methods.sorted { $0.key < $1.key }.map { path, methods in
            (Self.segments(of: path), methods.sorted { $0.rawValue < $1.rawValue })
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = Self.segments(of: request.uri.path)
        let allowed = paths.filter { Self.matches($0.segments, segments) }.flatMap(\.methods)
        if !allowed.isEmpty && !allowed.contains(request.method) {
            throw APIError.methodNotAllowed(request.method, allowed: allowed)
        }
        return try await next(request, context)
    }

    private static func segments(of path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    private static func matches(_ pattern: [String], _ segments: [String]) -> Bool {
        pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0 == "*" || $0.hasPrefix("{") || $0 == $1 }
    }
}
