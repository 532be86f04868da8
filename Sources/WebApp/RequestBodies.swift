// Reading request bodies within limits: refuse by Content-Length before reading, stop reading at the limit,
// and find the image in a raw image/* body or in a multipart form. Sniffing the format is Imaging's job.
import Crypto
import Foundation
import Hummingbird

/// An uploaded image and, for multipart requests, the rest of the form.
struct Upload: Sendable {
    let image: Data
    let form: MultipartForm?
}

enum RequestBodies {
    /// The whole body, refused with 413 when its declared or actual size is over `limit` bytes.
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    /// The image of a request: the body itself for `image/*`, or the field `image` of a multipart form.
    static func upload(_ request: Request, limit: Int, maximumParts: Int) async throws -> Upload {
        let contentType = request.headers[.contentType]
        guard let contentType else { throw APIError.unsupportedMediaType(nil) }
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if mediaType.hasPrefix("image/") {
            return Upload(image: try await collect(request, limit: limit), form: nil)
        }
        guard let boundary = MultipartForm.boundary(ofContentType: contentType) else {
            throw APIError.unsupportedMediaType(contentType)
        }
        let form = try multipartForm(try await collect(request, limit: limit), boundary: boundary, maximumParts: maximumParts)
        guard let image = form["image"], !image.data.isEmpty else {
            throw APIError.badRequest("the form has no file in its 'image' field", code: "missing_image")
        }
        return Upload(image: image.data, form: form)
    }

    /// A multipart form from a collected body; malformed forms are 400s.
    static func multipartForm(_ body: Data, boundary: String, maximumParts: Int) throws -> MultipartForm {
        do {
            return try MultipartForm(body: body, boundary: boundary, maximumParts: maximumParts)
        } catch {
            throw APIError.badRequest(error.description, code: "invalid_form")
        }
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
