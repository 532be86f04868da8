// multipart/form-data (RFC 7578) parsed from a body already held in memory (its size is bounded before this).
// Only what forms send: parts with a Content-Disposition name, optional filename and Content-Type.
import Foundation

struct MultipartPart: Sendable, Equatable {
    let name: String
    let filename: String?
    let contentType: String?
    let data: Data

    var text: String? { String(data: data, encoding: .utf8) }
}

enum MultipartError: Error, Equatable, CustomStringConvertible {
    case missingBoundary
    case malformed(String)
    case tooManyParts(limit: Int)
    case fieldTooLarge(name: String, byteCount: Int, limit: Int)

    var description: String {
        switch self {
        case .missingBoundary: return "multipart/form-data without a boundary parameter"
        case .malformed(let reason): return "malformed multipart body: \(reason)"
        case .tooManyParts(let limit): return "the form has more than \(limit) fields"
        case let .fieldTooLarge(name, byteCount, limit):
            return "the form field '\(name)' holds \(byteCount) bytes; fields other than the image may hold \(limit)"
        }
    }
}

struct MultipartForm: Sendable {
    let parts: [MultipartPart]

    /// The first part named `name`.
    subscript(name: String) -> MultipartPart? { parts.first { $0.name == name } }

    /// The boundary of a `multipart/form-data; boundary=…` content type, nil for any other type.
    static func boundary(ofContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            return value.isEmpty ? nil : value
        }
        return ""
    }

    /// Parts beyond `maximumParts`, or holding more than `maximumFieldBytes` (except those named in `unbounded`,
    /// which only the body's own limit bounds), make the form malformed.
    init(body: Data, boundary: String, maximumParts: Int = 16, maximumFieldBytes: Int = .max,
         unbounded: Set<String> = []) throws(MultipartError) {
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw .missingBoundary }
        let delimiter = Data("--\(boundary)".utf8)
        let crlf = Data("\r\n".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else { throw .malformed("no opening boundary") }
        var parts: [MultipartPart] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: crlf) else { throw .malformed("boundary not followed by a line break") }
            cursor += crlf.count
            guard let headersRange = body.range(of: headerEnd, in: cursor..<body.endIndex) else {
                throw .malformed("part headers do not end")
            }
            guard headersRange.lowerBound - cursor <= 8192 else { throw .malformed("part headers over 8 KB") }
            let headers = try Self.headers(body[cursor..<headersRange.lowerBound])
            let contentStart = headersRange.upperBound
            guard let next = body.range(of: crlf + delimiter, in: contentStart..<body.endIndex) else {
                throw .malformed("part '\(headers.name)' has no closing boundary")
            }
            guard parts.count < maximumParts else { throw .tooManyParts(limit: maximumParts) }
            let byteCount = next.lowerBound - contentStart
            guard byteCount <= maximumFieldBytes || unbounded.contains(headers.name) else {
                throw .fieldTooLarge(name: String(headers.name.prefix(64)), byteCount: byteCount, limit: maximumFieldBytes)
            }
            parts.append(MultipartPart(name: headers.name, filename: headers.filename, contentType: headers.contentType,
                                       data: Data(body[contentStart..<next.lowerBound])))
            cursor = next.upperBound
        }
        self.parts = parts
    }

    private static func headers(_ bytes: Data) throws(MultipartError) -> (name: String, filename: String?, contentType: String?) {
        guard let text = String(data: bytes, encoding: .utf8) else { throw .malformed("part headers are not UTF-8") }
        var name: String?
        var filename: String?
        var contentType: String?
        for line in text.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line without a colon") }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-disposition":
                let parameters = dispositionParameters(value)
                guard parameters.kind == "form-data" else { throw .malformed("Content-Disposition is not form-data") }
                name = parameters.values["name"]
                filename = parameters.values["filename"]
            case "content-type":
                contentType = value
            default:
                continue
            }
        }
        guard let name else { throw .malformed("a part has no name") }
        return (name, filename, contentType)
    }

    /// `form-data; name="image"; filename="a b.png"` → kind and parameters (quoted values may contain ';').
    private static func dispositionParameters(_ value: String) -> (kind: String, values: [String: String]) {
        var values: [String: String] = [:]
        var scalars = Substring(value)
        func take(until stop: Character) -> Substring {
            let piece = scalars.prefix { $0 != stop }
            scalars = scalars.dropFirst(piece.count)
            return piece
        }
        let kind = take(until: ";").trimmingCharacters(in: .whitespaces).lowercased()
        while !scalars.isEmpty {
            scalars = scalars.dropFirst()  // ';'
            let key = take(until: "=").trimmingCharacters(in: .whitespaces).lowercased()
            guard !scalars.isEmpty else { break }
            scalars = scalars.dropFirst()  // '='
            scalars = scalars.drop { $0 == " " }
            var parameter = ""
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                while let character = scalars.first, character != "\"" {
                    scalars = scalars.dropFirst()
                    if character == "\\", let escaped = scalars.first {
                        parameter.append(escaped)
                        scalars = scalars.dropFirst()
                    } else {
                        parameter.append(character)
                    }
                }
                scalars = scalars.dropFirst()  // closing quote
                _ = take(until: ";")
            } else {
                parameter = take(until: ";").trimmingCharacters(in: .whitespaces)
            }
            if !key.isEmpty { values[key] = parameter }
        }
        return (kind, values)
    }
}
