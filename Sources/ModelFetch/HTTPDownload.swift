// Streams one file over HTTP(S) into a StagedFile with AsyncHTTPClient, reporting bytes as they arrive.
// It follows redirects (the client's configuration) and classifies failures; checking the digest and installing are WeightsFetcher's job.
import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct HTTPDownload {
    let client: HTTPClient
    /// How long to wait for the response head, connection included; the body is bounded by the client's read-idle timeout instead.
    let responseTimeout: Duration

    func download(from url: String, into staged: StagedFile, progress: @Sendable (FetchProgress) -> Void) async throws {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(url: url), timeout: .init(responseTimeout))
        } catch {
            try Task.checkCancellation()
            throw FetchError.Reason.unreachable(url: url, cause: Self.explain(error))
        }
        guard response.status == .ok else {
            throw FetchError.Reason.httpStatus(url: url, status: Int(response.status.code), phrase: response.status.reasonPhrase)
        }
        let expectedBytes = response.headers.first(name: "content-length").flatMap { Int64($0) }
        progress(FetchProgress(phase: .downloading, completedBytes: 0, totalBytes: expectedBytes))
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { try staged.append($0) }
                progress(FetchProgress(phase: .downloading, completedBytes: staged.byteCount, totalBytes: expectedBytes))
            }
        } catch let reason as FetchError.Reason {
            throw reason
        } catch {
            try Task.checkCancellation()
            throw FetchError.Reason.interrupted(
                url: url, receivedBytes: staged.byteCount, expectedBytes: expectedBytes, cause: Self.explain(error))
        }
        if let expectedBytes, staged.byteCount != expectedBytes {
            throw FetchError.Reason.interrupted(
                url: url, receivedBytes: staged.byteCount, expectedBytes: expectedBytes,
                cause: "the body ended before the announced Content-Length")
        }
    }

    /// A short human phrase for a client or network error.
    static func explain(_ error: any Error) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .readTimeout: return "no data arrived within the read timeout"
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded: return "no response within the time allowed"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return String(describing: clientError)
            }
        }
        return plainSystemError(in: String(describing: error)) ?? String(describing: error)
    }

    /// The system's wording for the errno that SwiftNIO's socket errors end with (`... (errno: 111)` → `Connection refused`).
    private static func plainSystemError(in description: String) -> String? {
        guard let marker = description.range(of: "(errno: ", options: .backwards),
              let code = Int32(description[marker.upperBound...].prefix(while: \.isNumber))
        else { return nil }
        return String(cString: strerror(code))
    }
}
