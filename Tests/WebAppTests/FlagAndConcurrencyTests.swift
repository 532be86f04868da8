// FLAG reports land on disk whole, one file each, even when many arrive at once; and concurrent classify
// requests are batched (the metrics show it) and all answered.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WebApp

@Suite(.serialized) struct FlagAndConcurrencyTests {
    @Test func aFlagIsStoredWithItsImageNoteAndWhatTheModelSaid() async throws {
        guard let server = try await TestServer.make(), let photo = Photos.tench else { return }
        let note = "<script>alert(1)</script> — upside down"
        let form = Photos.multipart([("image", "tench.jpg", "image/jpeg", photo), ("expected", nil, nil, Data("goldfish".utf8)),
                                     ("note", nil, nil, Data(note.utf8)), ("model", nil, nil, Data("efficientnet_lite0".utf8))])
        let data = server.dataDirectory
        try await server.test { client in
            let response = try await client.execute(uri: "/api/v1/flags", method: .post, headers: [.contentType: form.contentType], body: form.body)
            #expect(response.status == .created)
            let flag = try #require(try response.body.json() as? [String: Any])
            let id = try #require(flag["id"] as? String)
            #expect((flag["expected"] as? [String: Any])?["index"] as? Int == 1)
            #expect(flag["note"] as? String == note)
            #expect((flag["predictions"] as? [[String: Any]])?.first?["label"] as? String == "tench")
            let stored = try Data(contentsOf: data.appendingPathComponent("flags/\(id).json"))
            let record = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
            #expect(record["note"] as? String == note)
            let image = try #require(record["image"] as? [String: Any])
            #expect(try Data(contentsOf: data.appendingPathComponent(try #require(image["file"] as? String))) == photo)

            let unknown = Photos.multipart([("image", "tench.jpg", "image/jpeg", photo), ("expected", nil, nil, Data("flying car".utf8))])
            let refused = try await client.execute(uri: "/api/v1/flags", method: .post, headers: [.contentType: unknown.contentType], body: unknown.body)
            #expect(refused.status == .unprocessableContent)
            #expect(try APITests.error(refused).code == "unknown_label")
            let long = Photos.multipart([("image", "tench.jpg", "image/jpeg", photo), ("expected", nil, nil, Data("1".utf8)),
                                         ("note", nil, nil, Data(String(repeating: "x", count: 2001).utf8))])
            #expect(try await client.execute(uri: "/api/v1/flags", method: .post, headers: [.contentType: long.contentType], body: long.body).status == .badRequest)
        }
    }

    @Test func concurrentFlagsAreAllKeptWhole() async throws {
        guard let server = try await TestServer.make(), let photo = Photos.tench else { return }
        let data = server.dataDirectory
        try await server.test(.live) { client in
            let port = try #require(client.port)
            let requests = (0..<32).map { index in
                let form = Photos.multipart([("image", "tench.jpg", "image/jpeg", photo), ("expected", nil, nil, Data("\(index)".utf8)),
                                             ("note", nil, nil, Data("flag \(index)".utf8))], boundary: "boundary-\(index)")
                return ParallelClient.Request(path: "/api/v1/flags", contentType: form.contentType, body: form.body.data)
            }
            let responses = try await ParallelClient.post(requests, port: port)
            #expect(responses.map(\.status) == Array(repeating: .created, count: 32))
            let ids = responses.compactMap { (try? $0.body.json() as? [String: Any])?["id"] as? String }
            #expect(Set(ids).count == 32)
            let files = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("flags").path).filter { $0.hasSuffix(".json") }
            #expect(files.count == 32)
            let notes = try files.map { file -> String in
                let record = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("flags/\(file)"))) as? [String: Any]
                return record?["note"] as? String ?? ""
            }
            #expect(Set(notes) == Set((0..<32).map { "flag \($0)" }))
            let images = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("images").path)
            #expect(images.count == 1, "one image stored once, no temporary files left: \(images)")
        }
    }

    @Test func thirtyTwoConcurrentClassificationsAreBatchedAndAllAnswered() async throws {
        guard let server = try await TestServer.make(scheduling: .init(maximumBatchSize: 8, batchWindow: .milliseconds(20), queueCapacity: 64)),
              let photo = Photos.tench else { return }
        let (labels, metrics) = try await server.test(.live) { client in
            let responses = try await ParallelClient.post(32, port: try #require(client.port), path: "/api/v1/classify?top=1",
                                                          contentType: "image/jpeg", body: photo)
            #expect(responses.map(\.status) == Array(repeating: .ok, count: 32))
            let labels = responses.map { response in
                let body = try? response.body.json() as? [String: Any]
                return ((body?["predictions"] as? [[String: Any]])?.first?["label"] as? String) ?? "no answer"
            }
            return (labels, String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
        }
        #expect(labels == Array(repeating: "tench", count: 32))
        let count = Self.value(of: #"blindspot_batch_size_images_count{model="efficientnet_lite0"}"#, in: metrics)
        let sum = Self.value(of: #"blindspot_batch_size_images_sum{model="efficientnet_lite0"}"#, in: metrics)
        let single = Self.value(of: #"blindspot_batch_size_images_bucket{model="efficientnet_lite0",le="1.0"}"#, in: metrics)
        #expect(sum == 32, "every image went through one batch")
        #expect(count < 32 && single < count, "batches larger than one: \(count) batches, \(single) of size 1")
        print("32 concurrent requests: \(Int(count)) batches, mean size \(sum / max(count, 1))")
    }

    static func value(of series: String, in metrics: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }
}
