// The one load generator: N clients post to a URL back to back for a fixed time. Each is a thread with one keep-alive
// connection and blocking reads, so waiting costs no CPU and the server under test keeps the cores (URLSession's
// clients took a third of them).
import Foundation
import Glibc
import Inference

/// What one load run measured: every answer by status with its latencies, the connections that failed, the refusals
/// that did not say when to come back, and the batch sizes the classify answers carried.
public struct LoadResult: Sendable, Codable, Equatable {
    public struct Latencies: Sendable, Codable, Equatable {
        public let count: Int
        public let p50Ms: Double
        public let p99Ms: Double
    }

    public let url: String
    public let clients: Int
    public let seconds: Double
    /// Requests sent, whatever became of them.
    public let requests: Int
    /// Answers by HTTP status ("200", "429", …).
    public let byStatus: [String: Latencies]
    /// Requests that got no answer (refused or dropped connections, timeouts).
    public let transportErrors: Int
    /// The first few transport errors, as the system named them.
    public let transportErrorSamples: [String]
    /// 429 and 503 answers without a Retry-After header.
    public let missingRetryAfter: Int
    /// 2xx answers per second.
    public let answeredPerSecond: Double
    /// Latency percentiles of the 2xx answers.
    public let p50Ms: Double
    public let p99Ms: Double
    /// The mean of the `batchSize` the 2xx answers carried (0 when they carry none, as reports do).
    public let meanBatchSize: Double
    /// How many answers came from a batch of each size ("1", "8", …).
    public let batchSizes: [String: Int]

    /// Requests that did not get a 2xx answer.
    public var failures: Int { requests - answered }
    /// 2xx answers.
    public var answered: Int { byStatus.filter { (200..<300).contains(Int($0.key) ?? 0) }.values.reduce(0) { $0 + $1.count } }
}

/// What the clients send: the same body every time, or one made for each request.
public enum LoadRequests: Sendable {
    case same(body: Data, contentType: String)
    /// New blind-spot reports: request `n` files photo `n mod photos` as class `(n / photos) mod 1000`, so no
    /// (photo, class) pair repeats before 1000 rounds.
    case reports(photos: [Data])

    func request(_ number: Int) -> (body: Data, contentType: String) {
        switch self {
        case .same(let body, let contentType):
            return (body, contentType)
        case .reports(let photos):
            let boundary = "blindspot-load-\(number)"
            var body = Data()
            func field(_ name: String, _ value: Data, filename: String? = nil) {
                let disposition = "form-data; name=\"\(name)\"" + (filename.map { "; filename=\"\($0)\"" } ?? "")
                body += Data("--\(boundary)\r\nContent-Disposition: \(disposition)\r\n\r\n".utf8) + value + Data("\r\n".utf8)
            }
            field("image", photos[number % photos.count], filename: "photo")
            field("expected", Data(String((number / photos.count) % 1000).utf8))
            field("note", Data("load test \(number)".utf8))
            body += Data("--\(boundary)--\r\n".utf8)
            return (body, "multipart/form-data; boundary=\(boundary)")
        }
    }
}

/// Load from concurrent HTTP clients: each posts to one URL back to back for a fixed time. The one load generator of
/// the tree: `blindspot bench`'s server section, `blindspot load` and the overload test use it.
public enum ServerLoad {
    /// `clients` clients each post to `url` until `duration` has passed; only requests that started before the end
    /// count, and rates are measured over the time until the last of them finished.
    public static func run(url: URL, requests: LoadRequests, clients: Int, duration: Duration) async -> LoadResult {
        let start = ContinuousClock.now
        let deadline = start + duration
        let samples = await withTaskGroup(of: [Sample].self) { group in
            for index in 0..<clients {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread {
                            continuation.resume(returning: client(index, of: clients, url: url, requests: requests, until: deadline))
                        }.start()
                    }
                }
            }
            return await group.reduce(into: [Sample]()) { $0 += $1 }
        }
        return summary(samples, url: url, clients: clients, seconds: (ContinuousClock.now - start).milliseconds / 1000)
    }

    static func summary(_ samples: [Sample], url: URL, clients: Int, seconds: Double) -> LoadResult {
        let answered = samples.filter { ($0.status ?? 0) / 100 == 2 }
        let latencies = answered.map(\.milliseconds).sorted()
        let byStatus = Dictionary(grouping: samples.filter { $0.status != nil }) { String($0.status ?? 0) }.mapValues { group in
            let sorted = group.map(\.milliseconds).sorted()
            return LoadResult.Latencies(count: group.count, p50Ms: percentile(sorted, 0.50), p99Ms: percentile(sorted, 0.99))
        }
        let errors = samples.compactMap(\.error)
        let batches = answered.compactMap(\.batchSize)
        return LoadResult(url: url.absoluteString, clients: clients, seconds: seconds, requests: samples.count, byStatus: byStatus,
                          transportErrors: errors.count, transportErrorSamples: Array(Set(errors).sorted().prefix(5)),
                          missingRetryAfter: samples.filter { [429, 503].contains($0.status) && !$0.retryAfter }.count,
                          answeredPerSecond: Double(answered.count) / seconds,
                          p50Ms: percentile(latencies, 0.50), p99Ms: percentile(latencies, 0.99),
                          meanBatchSize: batches.isEmpty ? 0 : Double(batches.reduce(0, +)) / Double(batches.count),
                          batchSizes: Dictionary(grouping: batches, by: String.init).mapValues(\.count))
    }

    /// The value below which `fraction` of the sorted `values` lie (nearest rank), 0 when there are none.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    struct Sample: Sendable {
        let milliseconds: Double
        /// The answer's status; nil when no answer came.
        let status: Int?
        let retryAfter: Bool
        /// The batch the server classified the image in, when the answer says.
        let batchSize: Int?
        /// What went wrong when no answer came.
        let error: String?
    }

    private struct Answer: Decodable {
        let batchSize: Int?
    }

    /// Client `index`'s requests until `deadline`; a connection that fails is counted and replaced.
    private static func client(_ index: Int, of clients: Int, url: URL, requests: LoadRequests,
                               until deadline: ContinuousClock.Instant) -> [Sample] {
        let host = url.host ?? "127.0.0.1"
        let path = url.path + (url.query.map { "?" + $0 } ?? "")
        var samples: [Sample] = []
        var connection: LoadConnection?
        var number = index
        while ContinuousClock.now < deadline {
            let (body, contentType) = requests.request(number)
            number += clients
            let head = Data(("POST \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(host):\(url.port ?? 80)\r\nContent-Type: \(contentType)\r\n"
                + "Content-Length: \(body.count)\r\n\r\n").utf8)
            let start = ContinuousClock.now
            let answer = Result { () throws(LoadConnection.Failure) in
                let open: LoadConnection
                if let connection { open = connection } else { open = try LoadConnection(host: host, port: url.port ?? 80) }
                connection = open
                return try open.exchange(head + body).get()
            }
            let milliseconds = (ContinuousClock.now - start).milliseconds
            switch answer {
            case .success(let answer):
                if answer.closes { connection = nil }
                let batchSize = answer.status / 100 == 2 ? (try? JSONDecoder().decode(Answer.self, from: answer.body))?.batchSize : nil
                samples.append(Sample(milliseconds: milliseconds, status: answer.status, retryAfter: answer.retryAfter, batchSize: batchSize, error: nil))
            case .failure(let failure):
                connection = nil
                samples.append(Sample(milliseconds: milliseconds, status: nil, retryAfter: false, batchSize: nil, error: failure.reason))
                usleep(10_000)  // a refused connection fails at once: do not spin
            }
        }
        return samples
    }
}

/// A blocking HTTP/1.1 connection that sends a request and reads its answer (Content-Length bodies only, which
/// is all the classify route sends).
private final class LoadConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    /// Connects, or throws why not (the descriptor is closed once, by deinit, either way).
    init(host: String, port: Int) throws(Failure) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(reason: "socket: " + String(cString: strerror(errno))) }
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
        guard connected == 0 else { throw Failure(reason: "connect: " + String(cString: strerror(errno))) }
    }

    deinit { close(descriptor) }

    struct Answer {
        let status: Int
        let body: Data
        /// Whether the server closes the connection after this answer.
        let closes: Bool
        let retryAfter: Bool
    }

    struct Failure: Error {
        let reason: String
    }

    /// The answer to `request`, or what went wrong.
    func exchange(_ request: Data) -> Result<Answer, Failure> {
        let sent = request.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let count = send(descriptor, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        guard sent else { return .failure(Failure(reason: "send: " + String(cString: strerror(errno)))) }
        guard let headerEnd = read(until: { Self.headerEnd(in: $0) }) else { return .failure(Failure(reason: "no answer: " + readFailure)) }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self).lowercased()
        let lines = head.components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            return .failure(Failure(reason: "not an HTTP answer"))
        }
        let length = lines.first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let closes = lines.contains { $0.hasPrefix("connection:") && $0.contains("close") }
        let retryAfter = lines.contains { $0.hasPrefix("retry-after:") }
        guard read(until: { $0.count >= headerEnd + 4 + length ? headerEnd + 4 + length : nil }) != nil else {
            return .failure(Failure(reason: "answer cut short: " + readFailure))
        }
        let body = Data(buffer[(headerEnd + 4)..<(headerEnd + 4 + length)])
        buffer.removeFirst(headerEnd + 4 + length)
        return .success(Answer(status: status, body: body, closes: closes, retryAfter: retryAfter))
    }

    /// Why the last read ended without what it needed.
    private var readFailure = ""

    /// Reads until `complete` finds what it needs in the buffer; nil when the connection ends or fails first.
    private func read(until complete: ([UInt8]) -> Int?) -> Int? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let found = complete(buffer) { return found }
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count == 0 { readFailure = "the server closed the connection" }
            if count < 0 { readFailure = String(cString: strerror(errno)) }
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
