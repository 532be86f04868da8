// Per-client rate limiting (429 with Retry-After, reading never limited) and connections cut off when a client
// sends its body too slowly or nothing at all.
import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WebApp

@Suite struct RateLimitAndTimeoutTests {
    @Test func aClientOverItsBurstGets429WithRetryAfterWhileReadingStaysOpen() async throws {
        var configuration = WebConfiguration(port: 0)
        configuration.rateLimit = RateLimit(perSecond: 0.01, burst: 3)  // no token comes back during the test
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            var statuses: [HTTPResponse.Status] = []
            var refusal: TestResponse?
            for _ in 0..<5 {
                // A request that fails fast (415) still costs a token: limiting comes before any work.
                let response = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "text/plain"],
                                                        body: ByteBuffer(string: "not an image"))
                statuses.append(response.status)
                if response.status == .tooManyRequests { refusal = response }
            }
            #expect(statuses == [.unsupportedMediaType, .unsupportedMediaType, .unsupportedMediaType, .tooManyRequests, .tooManyRequests])
            let refused = try #require(refusal)
            #expect(try APITests.error(refused).code == "rate_limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(refused.headers[.contentSecurityPolicy] != nil)
            for path in ["/healthz", "/readyz", "/", "/api/v1/models"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path) stays reachable")
            }
        }
    }

    @Test func noLimitWhenTurnedOff() async throws {
        var configuration = WebConfiguration(port: 0)
        configuration.rateLimit = nil
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            for _ in 0..<80 {
                let response = try await client.execute(uri: "/api/v1/classify", method: .post, headers: [.contentType: "text/plain"],
                                                        body: ByteBuffer(string: "x"))
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    // Bounds are loose: other suites run in parallel and keep the cooperative threads busy, which delays the
    // server's timers; what matters is that the answer comes while the client still withholds its body.
    @Test func aSlowBodyGets408() async throws {
        var configuration = WebConfiguration(port: 0)
        configuration.bodyTimeout = .milliseconds(500)
        configuration.idleTimeout = .seconds(60)
        let server = try await TestServer.make(configuration: configuration)
        try await server.test(.live) { client in
            // Headers announce 100 kB; 10 bytes come, then nothing.
            let slow = try RawConnection(port: try #require(client.port))
            try slow.send("POST /api/v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n0123456789")
            let start = ContinuousClock.now
            let answer = await slow.receive(timeout: 30)
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(200))")
            #expect(answer.contains("\"timeout\""))
            #expect(ContinuousClock.now - start < .seconds(25))
        }
    }

    @Test func aSilentConnectionIsClosed() async throws {
        var configuration = WebConfiguration(port: 0)
        configuration.idleTimeout = .milliseconds(500)
        let server = try await TestServer.make(configuration: configuration)
        try await server.test(.live) { client in
            let silent = try RawConnection(port: try #require(client.port))
            let start = ContinuousClock.now
            #expect(await silent.receive(timeout: 30).isEmpty)
            #expect(ContinuousClock.now - start < .seconds(25), "closed after \(ContinuousClock.now - start)")
        }
    }
}

/// A plain TCP connection to 127.0.0.1, for clients no HTTP library would imitate.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.EIO) }
    }

    /// Everything the server sends until it closes the connection or `timeout` seconds pass. The blocking reads
    /// run on a thread of their own: blocking one of the two cooperative threads starved the server under test.
    func receive(timeout: Int) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.blockingReceive(timeout: timeout)) }.start()
        }
    }

    private func blockingReceive(timeout: Int) -> String {
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
            if let text = String(bytes: received, encoding: .utf8), text.contains("\r\n\r\n"), text.hasPrefix("HTTP/1.1 4") {
                // A complete error answer: its JSON body follows the headers.
                if let length = text.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") })
                    .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
                    let bodyStart = text.range(of: "\r\n\r\n")?.upperBound, text[bodyStart...].utf8.count >= length { break }
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
