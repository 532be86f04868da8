// Probe and explain over HTTP with the real efficientnet_lite0: the JSON and HTML forms of a probe, the PNG and
// JSON forms of an explanation for both methods, parameter errors, and 503 busy with Retry-After when the queue
// of analyses is full.
import Analysis
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import Inference
import Testing
import TestSupport
import WebApp

@Suite(.serialized) struct AnalysisRouteTests {
    @Test func probeAnswersEveryVariantPerModelWithThumbnails() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let direct = try server.dependencies.models.scheduler(named: nil).classifier
        let plain = try direct.classify([direct.prepare(photo, decoder: ImageDecoder())], top: 3).classifications[0]
        try await server.test { client in
            let response = try await client.execute(uri: "/api/v1/probe?families=flip,grayscale,rotate&expected=tench", method: .post,
                                                    headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let body = try #require(try response.body.json() as? [String: Any])
            let variants = try #require(body["variants"] as? [[String: Any]])
            let planned = 27  // the original, 2 flips, grayscale, 23 rotations
            #expect(variants.count == planned)
            let thumbnails = variants.compactMap { $0["thumbnail"] as? String }
            #expect(thumbnails.count == variants.count && thumbnails.allSatisfy { $0.hasPrefix("data:image/jpeg;base64,") })
            #expect(variants[0]["family"] == nil && variants[1]["family"] as? String == "flip")
            #expect((body["expected"] as? [[String: Any]])?.first?["name"] as? String == "tench")
            let models = try #require(body["models"] as? [[String: Any]])
            #expect(models.count == 1 && models[0]["model"] as? String == "efficientnet_lite0")
            let outcomes = try #require(models[0]["outcomes"] as? [[String: Any]])
            #expect(outcomes.count == variants.count)
            let originalTop = try #require(outcomes[0]["top"] as? [[String: Any]])
            #expect(originalTop.map { $0["index"] as? Int } == plain.predictions.map(\.index))
            for (got, want) in zip(originalTop, plain.predictions) {
                #expect(abs((got["probability"] as? Double ?? -1) - want.probability) < 1e-9)
            }
            let families = try #require(models[0]["families"] as? [[String: Any]])
            #expect(families.map { $0["family"] as? String } == ["flip", "grayscale", "rotate"])
            let rotate = try #require(families.last)
            #expect(rotate["variants"] as? Int == 23)
            let flipped = outcomes.filter { ($0["flipped"] as? Bool) == true }.count
            #expect(families.compactMap { $0["flipped"] as? Int }.reduce(0, +) == flipped)
        }
    }

    @Test func probeAsHTMLIsTheRenderedReport() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let response = try await client.execute(uri: "/api/v1/probe?families=blur,hue&model=all&expected=great+white+shark", method: .post,
                                                    headers: [.contentType: "image/jpeg", .accept: "text/html"], body: ByteBuffer(bytes: photo))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: response.body)
            #expect(html.hasPrefix("<section class=\"probe-report\" data-variants=\"11\">"), "the original and 5 levels of each family")
            #expect(html.contains("id=\"probe-blur\"") && html.contains("id=\"probe-hue\""))
            #expect(html.components(separatedBy: "<svg").count - 1 == 2)
            let pictures = 12  // per family, the original and 5 levels
            #expect(html.components(separatedBy: "<img src=\"data:image/jpeg;base64,").count - 1 == pictures)
            #expect(html.contains("<th scope=\"col\">\(TinyModelService.modelName)</th>"))
            #expect(html.contains("expected: great white shark"), "a '+' in the query is a space")
        }
    }

    @Test func explainAnswersAPNGOrJSONForBothMethods() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let png = try await client.execute(uri: "/api/v1/explain", method: .post, headers: [.contentType: "image/jpeg"],
                                               body: ByteBuffer(bytes: photo))
            #expect(png.status == .ok && png.headers[.contentType] == "image/png")
            let overlay = try ImageDecoder().decode(Data(buffer: png.body))
            #expect(overlay.height == OcclusionMap.overlayLongerSide && overlay.width == OcclusionMap.overlayLongerSide + HeatScale.panelWidth)

            let patches = try await client.execute(uri: "/api/v1/explain?class=tench", method: .post,
                                                   headers: [.contentType: "image/jpeg", .accept: "application/json"], body: ByteBuffer(bytes: photo))
            #expect(patches.status == .ok)
            let patchList = try #require(try patches.body.json() as? [[String: Any]])
            let patchMap = try #require(patchList.first)
            #expect(patchMap["method"] as? String == "patches" && patchMap["columns"] as? Int == 10 && patchMap["rows"] as? Int == 10)
            #expect((patchMap["drops"] as? [Double])?.count == 100 && patchMap["segmentMap"] == nil)
            #expect((patchMap["class"] as? [String: Any])?["label"] as? String == "tench")
            #expect((patchMap["overlay"] as? String)?.hasPrefix("data:image/png;base64,") == true)
            // The scale is absolute: its top is the round number of points at or above the largest drop, as the caption says.
            let maxDrop = try #require(patchMap["maxDrop"] as? Double)
            let drops = try #require(patchMap["drops"] as? [Double])
            #expect(abs(maxDrop - max(0, drops.max() ?? 0)) < 1e-12)
            #expect(patchMap["scaleMaximum"] as? Double == HeatScale(maxDrop: maxDrop).maximum && patchMap["muted"] as? Bool == (maxDrop < 0.01))
            #expect((patchMap["caption"] as? String)?.contains("0 to \(HeatScale.points(HeatScale(maxDrop: maxDrop).maximum)) points") == true)

            let superpixels = try await client.execute(uri: "/api/v1/explain?method=superpixels&segments=40&model=all", method: .post,
                                                       headers: [.contentType: "image/jpeg", .accept: "application/json"], body: ByteBuffer(bytes: photo))
            #expect(superpixels.status == .ok)
            let segmentMap = try #require(try superpixels.body.json() as? [[String: Any]]).first
            let count = try #require(segmentMap?["segments"] as? Int)
            #expect((segmentMap?["drops"] as? [Double])?.count == count)
            let labels = try #require(segmentMap?["segmentMap"] as? [Int])
            let inputPixels = 50_176  // 224 × 224
            #expect(labels.count == inputPixels && labels.allSatisfy { (0..<count).contains($0) })
        }
    }

    @Test func badParametersAreRefusedBeforeAnyWork() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/api/v1/probe?families=rotate,sideways", .badRequest, "bad_parameter"),
                ("/api/v1/probe?expected=unicorn", .unprocessableContent, "unknown_label"),
                ("/api/v1/probe?seed=-1", .badRequest, "bad_parameter"),
                ("/api/v1/probe?thumbnails=maybe", .badRequest, "bad_parameter"),
                ("/api/v1/probe?model=alexnet", .notFound, "unknown_model"),
                ("/api/v1/explain?method=gradients", .badRequest, "bad_parameter"),
                ("/api/v1/explain?class=unicorn", .unprocessableContent, "unknown_label"),
                ("/api/v1/explain?method=superpixels&segments=3", .badRequest, "bad_parameter"),
                ("/api/v1/explain?method=superpixels&patch=2", .badRequest, "bad_parameter"),
                ("/api/v1/explain?patch=2", .badRequest, "bad_parameter"),
            ]
            for (uri, status, code) in cases {
                let response = try await client.execute(uri: uri, method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
                #expect(response.status == status, "\(uri)")
                #expect(try APITests.error(response).code == code, "\(uri)")
            }
            let text = try await client.execute(uri: "/api/v1/probe", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi"))
            #expect(text.status == .unsupportedMediaType)
        }
    }

    @Test func aFullQueueOfAnalysesAnswers503WithRetryAfter() async throws {
        let analyses = AnalysisQueue(configuration: .init(concurrent: 1, waiting: 0))
        let server = try await TestServer.make(analyses: analyses)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let gate = DispatchSemaphore(value: 0)
        let occupant = Task { try await analyses.run { gate.wait() } }
        while analyses.depth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await server.test { client in
            for uri in ["/api/v1/probe", "/api/v1/explain"] {
                let started = ContinuousClock.now
                let response = try await client.execute(uri: uri, method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
                #expect(response.status == .serviceUnavailable, "\(uri)")
                #expect(try APITests.error(response).code == "busy")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                #expect(ContinuousClock.now - started < .milliseconds(500), "refused at once")
            }
            gate.signal()
            try await occupant.value
            let response = try await client.execute(uri: "/api/v1/probe?families=flip&thumbnails=false", method: .post,
                                                    headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: photo))
            #expect(response.status == .ok, "free again")
            let variants = try #require((try response.body.json() as? [String: Any])?["variants"] as? [[String: Any]])
            #expect(variants.count == 3 && variants.allSatisfy { $0["thumbnail"] == nil })
        }
    }
}
