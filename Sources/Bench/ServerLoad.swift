// Load from concurrent HTTP clients: each posts the same image to a classify URL back to back for a fixed time,
// and the throughput, latency percentiles and the batch sizes the server reported are gathered. Not a server.
// Each client is a thread with one keep-alive connection and blocking reads: waiting costs no CPU, so the load
// generator takes as little as possible of the cores the server under test needs (URLSession's clients took
// more than a third of them and made the server look slow).
import Foundation
import Glibc
import Inference

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
        let start = ContinuousClock.now
        let deadline = start + duration
        let samples = await withTaskGroup(of: [Sample].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread {
                            continuation.resume(returning: client(url: url, body: body, contentType: contentType, until: deadline))
                        }.start()
                    }
                }
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

    /// One client's requests until `deadline`; a connection that fails is counted and replaced.
    private static func client(url: URL, body: Data, contentType: String, until deadline: ContinuousClock.Instant) -> [Sample] {
        let host = url.host ?? "127.0.0.1"
        let path = url.path + (url.query.map { "?" + $0 } ?? "")
        let head = Data(("POST \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(host):\(url.port ?? 80)\r\nContent-Type: \(contentType)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n").utf8)
        var samples: [Sample] = []
        var connection: LoadConnection?
        while ContinuousClock.now < deadline {
            let start = ContinuousClock.now
            if connection == nil { connection = LoadConnection(host: host, port: url.port ?? 80) }
            let answer = connection?.exchange(head + body)
            if answer == nil || answer?.closes == true { connection = nil }
            let batchSize = answer.flatMap { $0.status == 200 ? (try? JSONDecoder().decode(Answer.self, from: $0.body))?.batchSize : nil }
            samples.append(Sample(milliseconds: (ContinuousClock.now - start).milliseconds, batchSize: batchSize))
        }
        return samples
    }
}

/// A blocking HTTP/1.1 connection that sends a request and reads its answer (Content-Length bodies only, which
/// is all the classify route sends).
private final class LoadConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init?(host: String, port: Int) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
    }

    deinit { close(descriptor) }

    /// The answer's status and body, and whether the server closes the connection after it; nil when it failed.
    func exchange(_ request: Data) -> (status: Int, body: Data, closes: Bool)? {
        let sent = request.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        guard sent, let headerEnd = read(until: { Self.headerEnd(in: $0) }) else { return nil }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self).lowercased()
        let lines = head.components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let length = lines.first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let closes = lines.contains { $0.hasPrefix("connection:") && $0.contains("close") }
        guard read(until: { $0.count >= headerEnd + 4 + length ? headerEnd + 4 + length : nil }) != nil else { return nil }
        let body = Data(buffer[(headerEnd + 4)..<(headerEnd + 4 + length)])
        buffer.removeFirst(headerEnd + 4 + length)
        return (status, body, closes)
    }

    /// Reads until `complete` finds what it needs in the buffer; nil when the connection ends or fails first.
    private func read(until complete: ([UInt8]) -> Int?) -> Int? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let found = complete(buffer) { return found }
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer += chunk[0..<count]
        }
    }

    private static func headerEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
