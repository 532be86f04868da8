// Writing HTML as text safely: escaping for element content and attribute values, and the page frame reports share.
// Every piece of outside text goes through `escape`; numbers are Imaging's ReadableNumbers.
import Foundation

public enum HTMLText {
    /// Escapes text for use in element content and in double- or single-quoted attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A whole page: UTF-8, a phone-width viewport, light and dark colour schemes, the title, `head` as given
    /// (stylesheets, scripts: already HTML), and `body` inside `<body>` (of class `bodyClass` when given).
    public static func page(title: String, head: String, body: String, bodyClass: String? = nil) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(escape(title))</title>
        \(head)
        </head>
        <body\(bodyClass.map { " class=\"\(escape($0))\"" } ?? "")>
        \(body)
        </body>
        </html>
        """
    }
}
