// What Schemathesis found fuzzing the API from its own /openapi.json (issue 15), each pinned: blank parameters mean
// "absent", the smallest images classify, probe and explain, a method a path lacks is 405 with Allow.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing
import TestSupport
import Transforms

@Suite(.serialized) struct ContractRegressionTests {
    static func jpeg(width: Int, height: Int) throws -> Data {
        try RGBImage(width: width, height: height, pixels: (0 ..< width * height * 3).map { UInt8(truncatingIfNeeded: $0 * 37 + 90) }).jpegData()
    }

    /// `POST /api/v1/probe?model=&expected=&families=&seed=0` with a 1×1 JPEG stopped the whole server (an empty list
    /// of models reached a precondition). Blank values are now absent: the default model, no expected class, every family.
    @Test func blankParametersMeanAbsentAndATinyImageIsProbed() async throws {
        let server = try await TestServer.make()
        let pixel = try Self.jpeg(width: 1, height: 1)
        try await server.test { client in
            for query in ["model=&expected=&families=&seed=0", "model=%20,%20&expected=%20&families=rotate", "model=,"] {
                let response = try await client.execute(uri: "/api/v1/probe?\(query)&thumbnails=false", method: .post,
                                                        headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: pixel))
                #expect(response.status == .ok, "\(query): \(String(buffer: response.body).prefix(300))")
                let body = try #require(try response.body.json() as? [String: Any])
                let models = try #require(body["models"] as? [[String: Any]])
                #expect(models.map { $0["model"] as? String } == [TinyModelService.modelName], "\(query)")
            }
            let blankTop = try await client.execute(uri: "/api/v1/classify?top=&expected=&model=", method: .post,
                                                    headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: pixel))
            #expect(blankTop.status == .ok)
            #expect((try blankTop.body.json() as? [String: Any])?["predictions"].map { ($0 as? [Any])?.count } == 5)
        }
    }

    /// A 1×1 JPEG was refused with 400 "too small" on EfficientNet-Lite (its centre crop of 224/256 is empty); 1×1, 2×3
    /// and 3×2 images now classify and explain, with the image's own size in the answer.
    @Test(arguments: [(1, 1), (2, 3), (3, 2)])
    func theSmallestImagesClassifyAndExplain(width: Int, height: Int) async throws {
        let server = try await TestServer.make()
        let image = try Self.jpeg(width: width, height: height)
        try await server.test { client in
            let classified = try await client.execute(uri: "/api/v1/classify?top=3", method: .post, headers: [.contentType: "image/jpeg"],
                                                      body: ByteBuffer(bytes: image))
            #expect(classified.status == .ok, "\(String(buffer: classified.body).prefix(300))")
            let body = try #require(try classified.body.json() as? [String: Any])
            let info = try #require(body["image"] as? [String: Any])
            #expect(info["width"] as? Int == width && info["height"] as? Int == height)
            let probabilities = try #require(body["predictions"] as? [[String: Any]]).compactMap { $0["probability"] as? Double }
            #expect(probabilities.count == 3 && probabilities.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
            for method in ["patches", "superpixels"] {
                let explained = try await client.execute(uri: "/api/v1/explain?method=\(method)", method: .post,
                                                         headers: [.contentType: "image/jpeg", .accept: "application/json"], body: ByteBuffer(bytes: image))
                #expect(explained.status == .ok, "\(method): \(String(buffer: explained.body).prefix(300))")
            }
        }
    }

    /// Random text as `expected`, `class` or `families` was schema-valid and answered 422 or 400: the published document
    /// now lists exactly the values accepted (the 1000 classes by index, WordNet id or name; the families), and `page`,
    /// `seed` and the multipart fields carry the bounds the server enforces.
    @Test func theDocumentListsEveryAcceptedClassAndFamily() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let document = try #require(try await client.execute(uri: "/openapi.json", method: .get).body.json() as? [String: Any])
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let choices = try #require((schemas["ImageNetClass"] as? [String: Any])?["anyOf"] as? [[String: Any]])
            #expect(choices[0]["pattern"] as? String == "^(0|[1-9][0-9]{0,2})$")
            let labels = TestServer.labels
            let entries = (0 ..< labels.count).map { labels[$0] }
            for (choice, values, others) in [(1, entries.map(\.wordNetID), ["n0144076", "n01440764x", "tench"]),
                                             (2, entries.map(\.name), ["tenc", "tench ", "n01440764", "analog.clock"])] {
                let pattern = try NSRegularExpression(pattern: try #require(choices[choice]["pattern"] as? String))
                func matches(_ text: String) -> Bool { pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
                #expect(values.count == 1000 && values.allSatisfy(matches), "every class matches choice \(choice)")
                #expect(!others.contains(where: matches), "choice \(choice) matches nothing else")
            }
            let families = try #require((schemas["ProbeFamily"] as? [String: Any])?["enum"] as? [String])
            #expect(families.count == 39 && families == ProbeFamily.all.map(\.rawValue))
            #expect(families.contains("rotate") && families.contains("imagenet-c:fog") && families.allSatisfy { ProbeFamily(rawValue: $0) != nil })
            for (index, text) in [(0, "0"), (999, "999"), (409, "analog clock"), (409, "Analog Clock"), (0, "n01440764")] {
                #expect(labels.resolve(text) == index, "\(text)")
            }
            for text in ["007", "+7", "1000", "-1", " 7", ""] { #expect(labels.resolve(text) == nil, "'\(text)' is not a class the document allows") }
        }
    }

    /// A multipart part named "" was refused (400 invalid_form) though the form schema allows any further field.
    @Test func aFormPartWithAnEmptyNameIsIgnored() async throws {
        let server = try await TestServer.make()
        let pixel = try Self.jpeg(width: 2, height: 3)
        let form = Photos.multipart([("", nil, nil, Data("x".utf8)), ("image", "pixel.jpg", "image/jpeg", pixel)])
        try await server.test { client in
            let response = try await client.execute(uri: "/api/v1/classify?top=1", method: .post, headers: [.contentType: form.contentType], body: form.body)
            #expect(response.status == .ok, "\(String(buffer: response.body).prefix(300))")
        }
    }

    /// `explain?stride=2` tried 8281 positions (113 s on one request); the stride is raised so at most 400 are tried.
    @Test func explainTriesAtMostFourHundredPositions() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        let image = try Self.jpeg(width: 40, height: 30)
        try await server.test { client in
            let response = try await client.execute(uri: "/api/v1/explain?stride=2&patch=4", method: .post,
                                                    headers: [.contentType: "image/jpeg", .accept: "application/json"], body: ByteBuffer(bytes: image))
            #expect(response.status == .ok)
            let explanation = try #require((try response.body.json() as? [[String: Any]])?.first)
            let (columns, rows, stride) = (try #require(explanation["columns"] as? Int), try #require(explanation["rows"] as? Int),
                                           try #require(explanation["stride"] as? Int))
            // 224 pixels, patch 4: stride 11 gives 21 × 21 = 441 positions, 12 gives 19 × 19 = 361.
            #expect(stride == 12 && columns == 19 && rows == 19 && columns * rows <= 400, "stride \(stride), \(columns) × \(rows)")
            #expect((explanation["drops"] as? [Double])?.count == columns * rows)
        }
    }

    /// `TRACE /api/v1/models` (and any method a path lacks) answered 404; it is 405 with the path's methods in Allow.
    /// HEAD answers wherever GET does. A path that does not exist stays 404.
    @Test func aMethodAPathLacksIs405WithAllow() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/api/v1/models", HTTPRequest.Method("TRACE")!, "GET, HEAD"),
                ("/healthz", .delete, "GET, HEAD"),
                ("/readyz", .post, "GET, HEAD"),
                ("/metrics", .put, "GET, HEAD"),
                ("/api/v1/classify", .get, "POST"),
                ("/api/v1/blindspots/7", .put, "DELETE, GET, HEAD, PATCH"),
                ("/api/v1/blindspots", .options, "GET, HEAD, POST"),
            ]
            for (path, method, allowed) in cases {
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allowed, "\(method) \(path)")
                #expect(try APITests.error(response).code == "method_not_allowed")
            }
            let head = try await client.execute(uri: "/api/v1/models", method: .head)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(try await client.execute(uri: "/api/v1/nothing", method: HTTPRequest.Method("TRACE")!).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/blindspots/7/image/x", method: .get).status == .notFound)
        }
    }
}
