// Load from concurrent HTTP clients: each posts the same image to a classify URL back to back for a fixed time,
// and the throughput, latency percentiles and the batch sizes the server reported are gathered. Not a server.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public struct LoadResult: Sendable, Codable, Equatable {
    public let clients: Int
    public let seconds: Double
    /// Answers with status 200.
    public let requests: Int
    /// Other statuses and transport errors.
    public let failures: Int
    public let imagesPerSecond: Double
    public let p50Ms: Double
    public let p99Ms: Double
    /// The mean of the `batchSize` the answers carried.
    public let meanBatchSize: Double
}

public enum ServerLoad {
    /// `clients` clients each post `body` to `url` until `duration` has passed; only requests that started
    /// before the end count, and the throughput is measured over the time until the last of them finished.
    public static func run(url: URL, body: Data, contentType: String, clients: Int, duration: Duration) async -> LoadResult {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = clients
        configuration.timeoutIntervalForRequest = 120
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let start = ContinuousClock.now
        let deadline = start + duration
        let samples = await withTaskGroup(of: [Sample].self) { group in
            for _ in 0..<clients {
                group.addTask { await client(session: session, url: url, body: body, contentType: contentType, until: deadline) }
            }
            return await group.reduce(into: [Sample]()) { $0 += $1 }
        }
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        let answered = samples.filter { $0.batchSize != nil }
        let latencies = answered.map(\.milliseconds).sorted()
        return LoadResult(clients: clients, seconds: seconds, requests: answered.count, failures: samples.count - answered.count,
                          imagesPerSecond: Double(answered.count) / seconds,
                          p50Ms: percentile(latencies, 0.50), p99Ms: percentile(latencies, 0.99),
                          meanBatchSize: answered.isEmpty ? 0 : Double(answered.compactMap(\.batchSize).reduce(0, +)) / Double(answered.count))
    }

    /// The value below which `fraction` of the sorted `values` lie (nearest rank), 0 when there are none.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    private struct Sample: Sendable {
        let milliseconds: Double
        /// The batch the server classified the image in; nil when the request failed.
        let batchSize: Int?
    }

    private struct Answer: Decodable {
        let batchSize: Int
    }

    private static func client(session: URLSession, url: URL, body: Data, contentType: String,
                               until deadline: ContinuousClock.Instant) async -> [Sample] {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        var samples: [Sample] = []
        while ContinuousClock.now < deadline {
            let start = ContinuousClock.now
            var batchSize: Int?
            if let (data, response) = try? await session.upload(for: request, from: body),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                batchSize = (try? JSONDecoder().decode(Answer.self, from: data))?.batchSize
            }
            samples.append(Sample(milliseconds: (ContinuousClock.now - start).milliseconds, batchSize: batchSize))
        }
        return samples
    }
}
