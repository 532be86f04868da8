// The JSON API against its documented contract, with the real efficientnet_lite0: every field of a classify
// answer, raw and multipart bodies, and each documented error status with its JSON body.
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import Models
import Testing
import WebApp

@Suite(.serialized) struct APITests {
    static func error(_ response: TestResponse) throws -> (code: String, message: String) {
        try error(response.body)
    }

    static func error(_ response: ParallelClient.Response) throws -> (code: String, message: String) {
        try error(response.body)
    }

    static func error(_ buffer: ByteBuffer) throws -> (code: String, message: String) {
        let body = try #require(try buffer.json() as? [String: Any])
        let error = try #require(body["error"] as? [String: Any])
        return (try #require(error["code"] as? String), try #require(error["message"] as? String))
    }

    @Test func modelsListsEveryCatalogModelWithItsAvailability() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        try await server.test { client in
            try await client.execute(uri: "/api/v1/models", method: .get) { response in
                #expect(response.status == .ok)
                let models = try #require(try response.body.json() as? [[String: Any]])
                #expect(models.count == ModelZoo.standard.models.count)
                let lite0 = try #require(models.first)
                #expect(lite0["name"] as? String == "efficientnet_lite0")
                #expect(lite0["inputSize"] as? Int == 224)
                #expect(lite0["available"] as? Bool == true)
                #expect(lite0["default"] as? Bool == true)
                #expect(lite0["source"] as? String == "efficientnet-lite0-57934424.pth")
                #expect(models.dropFirst().allSatisfy { $0["available"] as? Bool == false && $0["default"] as? Bool == false })
            }
        }
    }

    @Test func classifyAnswersWhatTheClassifierSaysWithTimingAndImageFacts() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let direct = try server.dependencies.models.scheduler(named: nil).classifier
        let expected = try direct.classify([direct.prepare(photo, decoder: ImageDecoder())], top: 3).classifications[0]
        try await server.test { client in
            let raw = try await client.execute(uri: "/api/v1/classify?model=efficientnet_lite0&top=3&expected=goldfish,tench", method: .post,
                                               headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(raw.status == .ok)
            #expect(raw.headers[.contentType] == "application/json; charset=utf-8")
            let body = try #require(try raw.body.json() as? [String: Any])
            #expect(body["model"] as? String == "efficientnet_lite0")
            let predictions = try #require(body["predictions"] as? [[String: Any]])
            #expect(predictions.map { $0["index"] as? Int } == expected.predictions.map(\.index))
            #expect(predictions.map { $0["label"] as? String } == expected.predictions.map(\.label))
            for (got, want) in zip(predictions, expected.predictions) {
                #expect(abs((got["probability"] as? Double ?? -1) - want.probability) < 1e-9)
            }
            #expect(predictions.first?["label"] as? String == "tench")
            let timing = try #require(body["timing"] as? [String: Double])
            for key in ["decodeMs", "inferenceMs", "totalMs"] { #expect((timing[key] ?? 0) > 0, "\(key)") }
            #expect(timing["totalMs"]! >= timing["decodeMs"]! + timing["inferenceMs"]!)
            let image = try #require(body["image"] as? [String: Any])
            #expect(image["width"] as? Int == 500 && image["height"] as? Int == 375)
            #expect(image["sha256"] as? String == SHA256.hash(data: photo).map { String(format: "%02x", $0) }.joined())
            let rank = try #require(body["expected"] as? [String: Any])
            #expect(rank["label"] as? String == "tench" && rank["rank"] as? Int == 1)

            let form = Photos.multipart([("image", "tench.jpg", "image/jpeg", photo)])
            let multipart = try await client.execute(uri: "/api/v1/classify?top=3", method: .post, headers: [.contentType: form.contentType],
                                                     body: form.body)
            #expect(multipart.status == .ok)
            let formBody = try #require(try multipart.body.json() as? [String: Any])
            #expect((formBody["predictions"] as? [[String: Any]])?.map { $0["index"] as? Int } == expected.predictions.map(\.index))
            #expect(formBody["expected"] == nil)
        }
    }

    @Test func eachErrorHasItsStatusAndAJSONBody() async throws {
        var configuration = WebConfiguration(port: 0, maximumBodyBytes: 150_000)
        configuration.decodeLimits.maximumMegapixels = 0.1
        let server = try await TestServer.make(.efficientnetLite0, configuration: configuration)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let seedPNG = try Data(contentsOf: URL(fileURLWithPath: server.dependencies.gallery.directory.path + "/car2.png"))
        try await server.test { client in
            func post(_ uri: String, _ type: String?, _ body: Data) async throws -> TestResponse {
                var headers: HTTPFields = [:]
                if let type { headers[.contentType] = type }
                return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
            }
            let cases: [(String, TestResponse, HTTPResponse.Status, String)] = [
                ("corrupt GIF", try await post("/api/v1/classify", "image/gif", Photos.corruptGIF), .badRequest, "invalid_image"),
                ("bad top", try await post("/api/v1/classify?top=0", "image/jpeg", photo), .badRequest, "bad_parameter"),
                ("form without image", try await post("/api/v1/classify", Photos.multipart([("note", nil, nil, Data("x".utf8))]).contentType,
                                                      Photos.multipart([("note", nil, nil, Data("x".utf8))]).body.data), .badRequest, "missing_image"),
                ("unknown model", try await post("/api/v1/classify?model=alexnet", "image/jpeg", photo), .notFound, "unknown_model"),
                ("absent weights", try await post("/api/v1/classify?model=efficientnet_lite3", "image/jpeg", photo), .conflict, "model_not_present"),
                ("too large", try await post("/api/v1/classify", "image/png", seedPNG), .contentTooLarge, "too_large"),
                ("text body", try await post("/api/v1/classify", "text/plain", Data("hello".utf8)), .unsupportedMediaType, "unsupported_type"),
                ("no type", try await post("/api/v1/classify", nil, photo), .unsupportedMediaType, "unsupported_type"),
                ("PDF as JPEG", try await post("/api/v1/classify", "image/jpeg", Data("%PDF-1.7\n".utf8)), .unsupportedMediaType, "unsupported_type"),
                ("too many pixels", try await post("/api/v1/classify", "image/jpeg", photo), .unprocessableContent, "too_many_pixels"),
                ("unknown label", try await post("/api/v1/classify?expected=flying%20car", "image/jpeg", photo), .unprocessableContent, "unknown_label"),
            ]
            for (name, response, status, code) in cases {
                #expect(response.status == status, "\(name)")
                let error = try Self.error(response)
                #expect(error.code == code, "\(name): \(error.message)")
                #expect(!error.message.isEmpty)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8", "\(name)")
            }
            let pixels = try Self.error(cases[9].1).message
            #expect(pixels.contains("500×375") && pixels.contains("0.1 megapixels"), "\(pixels)")
            let notFound = try await client.execute(uri: "/api/v1/nothing", method: .get)
            #expect(notFound.status == .notFound)
            #expect(try Self.error(notFound).code == "not_found")
        }
    }

    @Test func classesRankNearMissesAndAnUnknownLabelCarriesThem() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            func labels(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/api/v1/classes?" + query, method: .get)
                #expect(response.status == .ok)
                let body = try #require(try response.body.json() as? [String: Any])
                return try #require(body["classes"] as? [[String: Any]]).compactMap { $0["label"] as? String }
            }
            #expect(try await labels("q=husky") == ["Eskimo dog", "Siberian husky"])
            #expect(try await labels("q=n02110185") == ["Siberian husky"])
            #expect(try await labels("q=clock&limit=2").count == 2)
            #expect(try await labels("q=") == [])
            #expect(try await client.execute(uri: "/api/v1/classes?q=dog&limit=0", method: .get).status == .badRequest)

            let refused = try await client.execute(uri: "/api/v1/classify?expected=husky", method: .post,
                                                   headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(refused.status == .unprocessableContent)
            let body = try #require(try refused.body.json() as? [String: Any])
            let error = try #require(body["error"] as? [String: Any])
            #expect(error["code"] as? String == "unknown_label")
            #expect((error["message"] as? String)?.contains("Did you mean 'Eskimo dog' (also called husky) or 'Siberian husky'?") == true)
            let suggestions = try #require(error["suggestions"] as? [[String: Any]])
            #expect(suggestions.compactMap { $0["index"] as? Int } == [248, 250])
        }
    }

    @Test func aFullQueueAnswers503WithRetryAfterAndTheRestSucceed() async throws {
        let server = try await TestServer.make(scheduling: .init(maximumBatchSize: 1, batchWindow: .zero, queueCapacity: 1))
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let statuses = try await server.test(.live) { client in
            try await ParallelClient.post(24, port: try #require(client.port), path: "/api/v1/classify", contentType: "image/jpeg", body: photo)
                .map { ($0.status, $0.headers[.retryAfter], $0.status == .ok ? nil : try Self.error($0).code) }
        }
        let refused = statuses.filter { $0.0 == .serviceUnavailable }
        #expect(statuses.allSatisfy { $0.0 == .ok || $0.0 == .serviceUnavailable })
        #expect(!refused.isEmpty, "24 concurrent requests against a queue of 1 must overflow it")
        #expect(refused.allSatisfy { $0.2 == "overloaded" && Int($0.1 ?? "") ?? 0 >= 1 })
        #expect(statuses.contains { $0.0 == .ok })
    }

    @Test func aModelStillLoadingAnswers503AndReadinessSaysSo() async throws {
        let server = try await TestServer.make(load: false)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            let readiness = try #require(try ready.body.json() as? [String: Any])
            #expect(readiness["status"] as? String == "not ready")
            #expect((readiness["models"] as? [[String: Any]])?.first?["state"] as? String == "loading")
            let classify = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                                    body: ByteBuffer(bytes: photo))
            #expect(classify.status == .serviceUnavailable)
            #expect(try Self.error(classify).code == "model_loading")
            #expect(classify.headers[.retryAfter] != nil)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }
}
