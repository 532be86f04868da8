// Reading request bodies within limits: refuse by Content-Length before reading, stop reading at the limit,
// and find the image in a raw image/* body or in a multipart form. Sniffing the format is Imaging's job.
import Crypto
import Foundation
import Hummingbird
import Inference

/// An uploaded image and, for multipart requests, the rest of the form.
struct Upload: Sendable {
    let image: Data
    let form: MultipartForm?
}

/// Reads request bodies within the configured size, part count and time.
struct RequestBodies {
    let limit: Int
    let maximumParts: Int
    let maximumFieldBytes: Int
    let maximumJSONBytes: Int
    let maximumJSONDepth: Int
    /// How long a client may take to send a whole body (slow clients hold a connection and memory).
    let timeout: Duration

    init(_ configuration: WebConfiguration) {
        limit = configuration.maximumBodyBytes
        maximumParts = configuration.maximumFormParts
        maximumFieldBytes = configuration.maximumFieldBytes
        maximumJSONBytes = configuration.maximumJSONBytes
        maximumJSONDepth = configuration.maximumJSONDepth
        timeout = configuration.bodyTimeout
    }

    /// The whole body, refused with 413 when its declared or actual size is over `limit` bytes (the
    /// configured limit unless given), and with 408 when it takes longer than `timeout` to arrive.
    func collect(_ request: Request, limit: Int? = nil) async throws -> Data {
        let limit = limit ?? self.limit
        let (body, timeout) = (request.body, self.timeout)
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            // Refused without keeping anything. A client that sends its whole body before reading the answer
            // (most libraries) only sees the 413 if the body is read: up to a bound, it is read and dropped.
            if declared <= Self.discardLimit { await Self.discard(body, within: timeout) }
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            guard let data = try await Self.within(timeout, { Data(try await body.collect(upTo: limit).readableBytesView) }) else {
                throw APIError.requestTimeout(seconds: Int(timeout.seconds.rounded()))
            }
            return data
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    /// The most bytes read and dropped to answer 413 to a client that is still sending; beyond, the connection is cut.
    static let discardLimit = 256 * 1_048_576

    static func discard(_ body: RequestBody, within timeout: Duration) async {
        _ = try? await within(timeout) { for try await _ in body {} }
    }

    /// What `work` gives, or nil when `timeout` passes first (the work is then cancelled).
    static func within<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// The image of a request: the body itself for `image/*`, or the field `image` of a multipart form.
    func upload(_ request: Request) async throws -> Upload {
        let contentType = request.headers[.contentType]
        guard let contentType else { throw APIError.unsupportedMediaType(nil) }
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if mediaType.hasPrefix("image/") {
            return Upload(image: try await collect(request), form: nil)
        }
        guard let boundary = MultipartForm.boundary(ofContentType: contentType) else {
            throw APIError.unsupportedMediaType(contentType)
        }
        let form = try multipartForm(try await collect(request), boundary: boundary)
        guard let image = form["image"], !image.data.isEmpty else {
            throw APIError.badRequest("the form has no file in its 'image' field", code: "missing_image")
        }
        return Upload(image: image.data, form: form)
    }

    /// A multipart form from a collected body; malformed forms are 400s. Only the image field may be large.
    func multipartForm(_ body: Data, boundary: String) throws -> MultipartForm {
        do {
            return try MultipartForm(body: body, boundary: boundary, maximumParts: maximumParts, maximumFieldBytes: maximumFieldBytes,
                                     unbounded: ["image"])
        } catch {
            throw APIError.badRequest(error.description, code: "invalid_form")
        }
    }

    /// A JSON body decoded as `type`, refused before decoding when it is over the JSON size or nesting limit;
    /// `expected` tells a client whose JSON does not fit what to send.
    func json<T: Decodable>(_ type: T.Type, from request: Request, expected: String) async throws -> T {
        let body = try await collect(request, limit: maximumJSONBytes)
        guard JSONNesting.depth(of: body) <= maximumJSONDepth else {
            throw APIError.badRequest("the JSON nests arrays and objects more than \(maximumJSONDepth) deep", code: "json_too_deep")
        }
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw APIError.badRequest("send \(expected)", code: "invalid_json")
        }
    }
}

/// How deeply a JSON text nests arrays and objects, counted on the bytes without parsing (brackets inside strings
/// do not count), so a hostile body is refused before a parser recurses into it.
enum JSONNesting {
    static func depth(of json: Data) -> Int {
        var (depth, deepest, inString, escaped) = (0, 0, false, false)
        for byte in json {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}

extension Data {
    /// The SHA-256 of these bytes as 64 lowercase hex digits.
    var sha256Hex: String {
        SHA256.hash(data: self).map { String(format: "%02x", $0) }.joined()
    }
}

/// application/x-www-form-urlencoded, as HTML forms send it in bodies and GET query strings ('+' is a space).
enum URLEncodedFields {
    /// Name → value; the first of repeated names wins; undecodable pairs are skipped.
    static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String? { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decoded(parts[0]), let value = parts.count > 1 ? decoded(parts[1]) : "" else { continue }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}
