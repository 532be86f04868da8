// Every route the router has, enumerated rather than listed by hand: each answer carries the security headers,
// and every route that changes state as the moderator (PATCH or DELETE anywhere, POST under /admin/ except
// logging in and out) refuses a request without the admin token. A route added later is covered too.
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WebApp

@Suite struct RouteSecurityTests {
    static func needsAdmin(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        method == .patch || method == .delete || method == .put
            || (method == .post && path.hasPrefix("/admin/") && path != "/admin/login" && path != "/admin/logout")
    }

    @Test func everyRouteIsSecuredAndModerationNeedsTheToken() async throws {
        let server = try await TestServer.make()
        let routes = try buildRouter(configuration: server.configuration, dependencies: server.dependencies).routes
            .map { (method: $0.method, path: $0.path.description) }
        #expect(routes.count >= 25, "the router lists its routes: \(routes.count)")
        let adminRoutes = routes.filter { Self.needsAdmin($0.method, $0.path) }.map { "\($0.method) \($0.path)" }
        #expect(Set(adminRoutes) == ["PATCH /api/v1/blindspots/{id}", "DELETE /api/v1/blindspots/{id}", "POST /admin/blindspots/{id}"],
                "the moderation routes are the ones reviewed: \(adminRoutes)")
        try await server.test { client in
            for route in routes {
                // Parameters get a value that exists or not; either way the answer must be secured.
                let uri = route.path.split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix(":") || $0.hasPrefix("{") ? ($0.contains("file") ? "app.js" : "1") : String($0) }
                    .joined(separator: "/")
                let response = try await client.execute(uri: uri, method: route.method, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(string: "{\"status\": \"approved\"}"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true, "\(route.method) \(uri): CSP")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(route.method) \(uri): nosniff")
                #expect(response.status.code < 500, "\(route.method) \(uri): \(response.status)")
                if Self.needsAdmin(route.method, route.path) {
                    #expect([401, 403].contains(response.status.code), "\(route.method) \(uri) without the token: \(response.status)")
                }
            }
        }
    }
}
