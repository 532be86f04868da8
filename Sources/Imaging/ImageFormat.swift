// The four accepted encodings, recognised from their magic bytes only (never a file name or a MIME type).
// Anything else is rejected here, with a name for what it looks like, before libvips sees a byte.
import Foundation

public enum ImageFormat: String, Sendable, Equatable, CaseIterable {
    case jpeg = "JPEG"
    case png = "PNG"
    case webp = "WebP"
    case gif = "GIF"

    /// The usual file name extension, without the dot.
    public var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .png: return "png"
        case .webp: return "webp"
        case .gif: return "gif"
        }
    }

    /// The IANA media type.
    public var mediaType: String { "image/\(self == .jpeg ? "jpeg" : fileExtension)" }

    /// The format whose signature opens `bytes`; otherwise `ImageError.unsupportedFormat` naming what was seen.
    public init(sniffing bytes: Data) throws(ImageError) {
        let head = [UInt8](bytes.prefix(64))
        guard !head.isEmpty else { throw .empty }
        func opens(_ signature: String, at offset: Int = 0) -> Bool {
            let expected = Array(signature.utf8)
            return head.count >= offset + expected.count && Array(head[offset ..< offset + expected.count]) == expected
        }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if opens("RIFF") && opens("WEBP", at: 8) {
            self = .webp
        } else if opens("GIF87a") || opens("GIF89a") {
            self = .gif
        } else {
            throw .unsupportedFormat(seen: Self.describe(head))
        }
    }

    /// A short name for a rejected header: known document and image formats, text, or the first bytes in hex.
    private static func describe(_ head: [UInt8]) -> String {
        let text = String(decoding: head, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{FEFF}")))
            .lowercased()
        let known: [(prefix: String, name: String)] = [
            ("%pdf", "a PDF document"), ("<svg", "an SVG document"), ("<?xml", "an XML (or SVG) document"),
            ("<!doctype html", "an HTML document"), ("<html", "an HTML document"), ("ii*\0", "a TIFF image"),
            ("mm\0*", "a TIFF image"),
        ]
        if let match = known.first(where: { text.hasPrefix($0.prefix) }) {
            return match.name
        }
        if head.count >= 12, String(decoding: head[4 ..< 8], as: UTF8.self) == "ftyp" {
            return "an ISO media file (HEIC, AVIF or video)"
        }
        if head.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20 ..< 0x7F).contains($0) || $0 >= 0x80 }) {
            return "text"
        }
        return "data starting " + head.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ")
    }
}
