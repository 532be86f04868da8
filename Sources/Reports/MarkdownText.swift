// Writing GitHub Markdown as text safely: outside text (labels, file names, notes, category titles) is escaped so
// that it reads as written and never turns into markup, raw HTML, a link or a table column. HTMLText's twin.

public enum MarkdownText {
    /// Escapes text for a paragraph or a table cell: Markdown punctuation gets a backslash, `<`, `>` and `&`
    /// become entities (GitHub would render raw HTML), line breaks become spaces, and a leading list or heading
    /// marker is neutralised.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "|", "~": escaped += "\\" + String(character)
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\n", "\r": escaped += " "
            default: escaped.unicodeScalars.append(character)
            }
        }
        if let first = escaped.first, "#+-=".contains(first) { return "\\" + escaped }
        // "1. Sentence" would start an ordered list ("1.5 m" would not).
        let digits = escaped.prefix { $0.isASCII && $0.isNumber }
        let rest = escaped.dropFirst(digits.count)
        if !digits.isEmpty, let marker = rest.first, marker == "." || marker == ")", rest.dropFirst().first?.isWhitespace ?? true {
            return digits + "\\" + rest
        }
        return escaped
    }

    /// `![alt](path)` for a picture beside the Markdown file (`path` is ours: a relative path without spaces).
    public static func image(alt: String, path: String) -> String {
        "![\(escape(alt))](\(path))"
    }
}
