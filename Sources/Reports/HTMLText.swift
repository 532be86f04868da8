// Writing HTML as text safely: escaping for element content and attribute values, and number formats that
// reports and pages share. Every piece of outside text goes through `escape`.
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

    /// A probability as a percentage with one decimal: "87.3%".
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }
}
