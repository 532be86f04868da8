// Every error the web app answers with: a status, a stable machine-readable code and a message fit to show,
// sent as {"error": {"code", "message"}}. The mapping from library errors to statuses lives here and only here.
import Catalog
import Foundation
import Hummingbird
import Imaging
import Inference
import Logging
import Models
import Transforms

struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// For 422 unknown_label: the classes the text may have meant, best first.
    var suggestions: [ClassMatch]? = nil
    /// Seconds, for 429 and 503.
    var retryAfter: Int? = nil
    /// Further headers the status calls for: `Allow` with 405, `WWW-Authenticate` with 401.
    var headers: HTTPFields = [:]

    var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let suggestions: [ClassMatch]?
        }
        let error: Detail
    }

    /// The JSON error body, or, for a browser asking for a page outside /api/, the error page with the same words.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        // The body of these requests was not read to its end: the connection cannot carry another request. A stopping
        // server closes too, so the client's next request opens a connection, which a load balancer sends elsewhere.
        if status == .contentTooLarge || status == .requestTimeout || code == "shutting_down" { headers[.connection] = "close" }
        if request.headers[.accept]?.contains("text/html") == true && !request.uri.path.hasPrefix("/api/") {
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ErrorPage(status: status, message: message).render())))
        }
        headers[.contentType] = "application/json; charset=utf-8"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(Body(error: .init(code: code, message: message, suggestions: suggestions)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }

    static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: message)
    }

    /// 405 for a method `path` does not have, with the methods it has in `Allow` (RFC 9110, 15.5.6).
    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> APIError {
        let names = allowed.map(\.rawValue)
        return APIError(status: .methodNotAllowed, code: "method_not_allowed",
                        message: "this path does not answer \(method.rawValue); it answers " + names.joined(separator: ", "),
                        headers: [.allow: names.joined(separator: ", ")])
    }

    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "too_large",
                 message: "the request body is larger than the limit of " + ByteCount.readable(limit))
    }

    static func unsupportedMediaType(_ contentType: String?) -> APIError {
        APIError(status: .unsupportedMediaType, code: "unsupported_type",
                 message: "send the image as the body with Content-Type image/jpeg, image/png, image/webp or image/gif, or as the multipart/form-data field 'image' (got \(contentType ?? "no Content-Type"))")
    }

    static var insufficientStorage: HTTPResponse.Status { HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage") }

    /// A storage fault as clients see it: what happened and what to do, never a path (the log has those).
    static func storage(_ fault: StorageFault) -> APIError {
        switch fault {
        case .full:
            return APIError(status: insufficientStorage, code: "insufficient_storage",
                            message: "\(fault.summary): nothing was stored; try again once space has been freed")
        case .readOnly:
            return APIError(status: .serviceUnavailable, code: "storage_read_only",
                            message: "\(fault.summary) at the moment: nothing was stored; try again later", retryAfter: 30)
        case .busy:
            return APIError(status: .serviceUnavailable, code: "storage_busy",
                            message: "\(fault.summary): nothing was stored; try again in a moment", retryAfter: 2)
        case .unavailable:
            return APIError(status: .serviceUnavailable, code: "database_unavailable",
                            message: "\(fault.summary) at the moment; try again later", retryAfter: 10)
        case .failed:
            return APIError(status: .internalServerError, code: "storage_failed", message: "\(fault.summary); the server's log says why")
        }
    }

    static func unknownLabel(_ text: String, labels: ImageNetLabels) -> APIError {
        APIError(status: .unprocessableContent, code: "unknown_label", message: labels.unknownClassMessage(text),
                 suggestions: labels.suggestions(for: text))
    }

    static func rateLimited(retryAfter: Int, limit: RateLimit) -> APIError {
        APIError(status: .tooManyRequests, code: "rate_limited",
                 message: "too many requests from this address (at most \(limit.perSecond.formatted()) per second, \(Int(limit.burst)) at once); retry in \(retryAfter) s",
                 retryAfter: retryAfter)
    }

    static func requestTimeout(seconds: Int) -> APIError {
        APIError(status: .requestTimeout, code: "timeout", message: "the request body did not arrive within \(seconds) s")
    }

    /// Turns what the libraries throw into the documented statuses; anything unexpected becomes a 500 whose
    /// message names the error.
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as ImageError:
            switch error {
            case .tooManyPixels, .dimensionsOverLimit:
                self.init(status: .unprocessableContent, code: "too_many_pixels", message: error.description)
            case .decodeTooSlow:
                self.init(status: .unprocessableContent, code: "decode_too_slow", message: error.description)
            case .tooManyBytes:
                self.init(status: .contentTooLarge, code: "too_large", message: error.description)
            case .unsupportedFormat:
                self.init(status: .unsupportedMediaType, code: "unsupported_type", message: error.description)
            case .empty, .undecodable, .sizeMismatch:
                self.init(status: .badRequest, code: "invalid_image", message: error.description)
            case .libraryUnavailable:
                self.init(status: .serviceUnavailable, code: "unavailable", message: error.description)
            }
        case let error as ModelServiceError:
            switch error {
            case .unknownModel:
                self.init(status: .notFound, code: "unknown_model", message: error.description)
            case .notPresent:
                self.init(status: .conflict, code: "model_not_present", message: error.description)
            case .loading:
                self.init(status: .serviceUnavailable, code: "model_loading", message: error.description, retryAfter: 5)
            case .failed, .noModel:
                self.init(status: .serviceUnavailable, code: "model_unavailable", message: error.description)
            }
        case let error as BatchSchedulerError:
            switch error {
            case let .overloaded(_, _, retryAfterSeconds):
                self.init(status: .serviceUnavailable, code: "overloaded", message: error.description, retryAfter: retryAfterSeconds)
            case .shutDown:
                self.init(status: .serviceUnavailable, code: "shutting_down", message: error.description, retryAfter: 5)
            }
        case let error as AnalysisQueueError:
            switch error {
            case let .busy(_, retryAfterSeconds):
                self.init(status: .serviceUnavailable, code: "busy", message: error.description, retryAfter: retryAfterSeconds)
            }
        case let error as TransformError:
            self.init(status: .internalServerError, code: "transform_failed", message: error.description)
        case let error as CatalogError:
            switch error {
            case .invalid(let reason): self.init(status: .unprocessableContent, code: "invalid_report", message: reason)
            case .notFound: self.init(status: .notFound, code: "not_found", message: error.description)
            case .storage(let fault, _): self = Self.storage(fault)
            case .unavailable(let fault, _):
                self.init(status: .serviceUnavailable, code: "catalog_unavailable",
                          message: "the catalog could not be opened when the server started (\(fault.summary)); classification works, and the catalog returns once the server is restarted with usable storage")
            }
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            self.init(status: .contentTooLarge, code: "too_large", message: "the request body is too large")
        default:
            // Unknown errors may name files or internals: the answer says only that the log has it (ErrorMiddleware logs it).
            self.init(status: .internalServerError, code: "internal", message: "the server failed to answer this request; its log says why")
        }
    }
}

/// Turns every error a route throws into the JSON error body, so no route answers with Hummingbird's plain text.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where !(error is APIError) && error.status != .contentTooLarge {
            let status = error.status
            throw APIError(status: status, code: status == .notFound ? "not_found" : "http_\(status.code)", message: status.reasonPhrase)
        } catch {
            let answer = APIError(error)
            // The client gets the answer's words; the log keeps what happened to the storage, or an unexpected error, paths
            // and database messages included (other 5xx, such as overload refusals, say all there is in the answer and
            // would flood the log).
            if (error is CatalogError && answer.status.code >= 500) || answer.code == "internal" {
                context.logger.error("\(request.method) \(request.uri.path) answered \(answer.status.code) \(answer.code): \(error)")
            }
            throw answer
        }
    }
}

extension ImageNetLabels {
    /// The class `text` names (an index, a WordNet id or an exact name), or a 422 with the near misses.
    func require(_ text: String) throws -> Int {
        guard let index = resolve(text) else { throw APIError.unknownLabel(text, labels: self) }
        return index
    }
}
