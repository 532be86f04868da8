// The pages and what they link to: the demo, example deep links and images, the API description, static
// assets, health and metrics; and the headers every answer carries.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport
import WebApp

@Suite(.serialized) struct PageTests {
    @Test func theDemoPageOffersTheModelsTheExamplesAndTheClassNames() async throws {
        let server = try await TestServer.make()
        let gallery = server.dependencies.gallery
        try await server.test { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("<title>") && html.contains("Blindspot"))
            #expect(html.contains(TinyModelService.modelName))
            #expect(html.contains("analog clock") || gallery.examples.isEmpty, "class names for the FLAG form")
            #expect(!html.contains("<script>"), "no inline scripts")
            for category in gallery.categories {
                #expect(html.contains(category.title.replacingOccurrences(of: "'", with: "&#39;")), "\(category.slug)")
                for example in category.examples { #expect(html.contains("/examples/\(example.id)")) }
            }
            let headers = page.headers
            #expect(headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(headers[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test func exampleLinksOpenTheDemoWithTheirImage() async throws {
        let server = try await TestServer.make()
        let first = try #require(server.dependencies.gallery.examples.first, "the post's examples are in \(SharedDataPath.seedExamples)")
        try await server.test { client in
            let page = try await client.execute(uri: "/examples/\(first.id)", method: .get)
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(html.contains("/examples/\(first.id)/image"))
            #expect(html.contains(first.reportedTop3[0].name))
            let image = try await client.execute(uri: "/examples/\(first.id)/image", method: .get)
            #expect(image.status == .ok)
            #expect(image.headers[.contentType] == "image/png")
            #expect(image.body.readableBytes == (try Data(contentsOf: server.dependencies.gallery.directory.appendingPathComponent(first.file))).count)
            #expect(try await client.execute(uri: "/examples/999", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/examples/..%2Fexamples.json/image", method: .get).status == .notFound)
            let listed = try await client.execute(uri: "/api/v1/examples", method: .get)
            let examples = try #require(try listed.body.json() as? [[String: Any]])
            #expect(examples.count == server.dependencies.gallery.examples.count)
            #expect(examples.first?["pageURL"] as? String == "/examples/\(first.id)")
            #expect(examples.first?["imageAvailable"] as? Bool == true)
        }
    }

    /// A browser that follows a broken link gets a page with the site's navigation and a plain message; an API client
    /// gets the JSON error; neither names a path on the server (`/examples/99` named the examples' folder).
    @Test func brokenLinksGetAPageForPeopleAndNoServerPath() async throws {
        let server = try await TestServer.make()
        let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]
        try await server.test { client in
            for (path, message) in [("/examples/99", "There is no example 99."), ("/nope", "Not Found."), ("/blindspots/999", "There is no report 999.")] {
                let page = try await client.execute(uri: path, method: .get, headers: browser)
                #expect(page.status == .notFound, "\(path)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                let html = String(buffer: page.body)
                #expect(html.contains("<h1>Not found</h1>") && html.contains(message), "\(path): \(html)")
                #expect(html.contains("<nav aria-label=\"Site\">") && html.contains("href=\"/blindspots\""), "\(path)")
                let json = try await client.execute(uri: path, method: .get)
                #expect(json.status == .notFound && json.headers[.contentType] == "application/json; charset=utf-8", "\(path)")
                let error = try APITests.error(json)
                #expect(!error.message.contains(server.dependencies.gallery.directory.path) && !error.message.contains("/shared"), "\(path): \(error.message)")
            }
            // Under /api/ the answer is JSON whatever the client accepts: the page's own scripts read it.
            let api = try await client.execute(uri: "/api/v1/nothing", method: .get, headers: browser)
            #expect(api.status == .notFound && api.headers[.contentType] == "application/json; charset=utf-8")
            // Other errors a browser meets get the page too, with their status and headers.
            let method = try await client.execute(uri: "/examples/1", method: .post, headers: browser)
            #expect(method.status == .methodNotAllowed && method.headers[.allow] == "GET, HEAD")
            #expect(String(buffer: method.body).contains("<h1>405 Method Not Allowed</h1>"))
        }
    }

    @Test func theAPIIsDescribedForPeopleAndMachines() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let page = try await client.execute(uri: "/api", method: .get)
            let html = String(buffer: page.body)
            for path in ["/api/v1/models", "/api/v1/classify", "/api/v1/blindspots", "/api/v1/categories", "/healthz", "/readyz", "/metrics"] {
                #expect(html.contains(path), "\(path)")
            }
            #expect(html.contains("curl "))
            let spec = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(spec.status == .ok)
            let document = try #require(try spec.body.json() as? [String: Any])
            #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = try #require(document["paths"] as? [String: Any])
            for path in ["/api/v1/models", "/api/v1/classify", "/api/v1/blindspots", "/api/v1/blindspots/{id}", "/api/v1/blindspots/{id}/image", "/api/v1/categories", "/api/v1/examples", "/healthz", "/readyz", "/metrics"] {
                #expect(paths[path] != nil, "\(path) is documented")
            }
        }
    }

    @Test func staticAssetsAreServedAndNothingElseIs() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let script = try await client.execute(uri: "/static/app.js", method: .get)
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.body.readableBytes > 1000)
            let style = try await client.execute(uri: "/static/app.css", method: .get)
            #expect(style.status == .ok && style.headers[.contentType] == "text/css; charset=utf-8")
            #expect(try await client.execute(uri: "/static/..%2F..%2FPackage.swift", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/static/openapi.json", method: .get).status == .notFound)
        }
    }

    /// Once draining (SIGTERM in `serve`), /readyz answers 503 "shutting down" and new requests 503 shutting_down with
    /// Retry-After; /healthz and /metrics still answer.
    @Test func drainingRefusesNewRequests() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            #expect(try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo)).status == .ok)
            server.dependencies.drain.begin()
            let ready = try await client.execute(uri: "/readyz", method: .get)
            let readiness = try ready.body.json() as? [String: Any]
            #expect(ready.status == .serviceUnavailable && readiness?["status"] as? String == "shutting down")
            let refused = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(refused.status == .serviceUnavailable && refused.headers[.retryAfter] == "1")
            #expect(String(buffer: refused.body).contains(#""code":"shutting_down""#))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"blindspot_draining{replica="local"} 1.0"#), "\(metrics)")
        }
    }

    @Test func healthAndMetrics() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect((try ready.body.json() as? [String: Any])?["status"] as? String == "ready")
            _ = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            _ = try await client.execute(uri: "/api/v1/classify?model=nope", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"blindspot_http_requests_total{replica="local",route="/api/v1/classify",method="POST",status="200"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"blindspot_http_requests_total{replica="local",route="/api/v1/classify",method="POST",status="404"} 1"#))
            #expect(metrics.contains(#"blindspot_batch_size_images_count{replica="local",model="\#(TinyModelService.modelName)"} 1"#))
            #expect(metrics.contains(#"blindspot_queue_depth_images{replica="local",model="\#(TinyModelService.modelName)"} 0"#))
            #expect(metrics.contains(#"blindspot_draining{replica="local"} 0.0"#) && metrics.contains(#"blindspot_requests_in_flight{replica="local"} 0.0"#))
            #expect(metrics.contains("blindspot_http_request_duration_seconds_bucket"))
            #expect(metrics.contains("blindspot_inference_duration_seconds_bucket"))
        }
    }
}

enum SharedDataPath {
    static var seedExamples: String { ProcessInfo.processInfo.environment["BLINDSPOT_SHARED", default: "../shared"] + "/seed-examples" }
}
