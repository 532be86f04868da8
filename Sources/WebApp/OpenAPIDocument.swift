// The API document as the server publishes it: Resources/openapi.json with the lists only the running server knows
// filled in (the ImageNet classes' WordNet ids and names as alternations, the probe families as an enum), so
// that clients and fuzzers are told exactly which values are accepted.
import Foundation
import HTTPTypes
import Models
import Transforms

enum OpenAPIDocument {
    /// `document` with `ImageNetClass`'s two patterns and `ProbeFamily`'s enum filled; throws when the document does
    /// not have those schemas (a build without them is broken).
    static func filled(_ document: Data, labels: ImageNetLabels) throws -> Data {
        guard var root = try JSONSerialization.jsonObject(with: document) as? [String: Any],
              var components = root["components"] as? [String: Any],
              var schemas = components["schemas"] as? [String: Any],
              var classes = schemas["ImageNetClass"] as? [String: Any],
              var choices = classes["anyOf"] as? [[String: Any]], choices.count == 3,
              var families = schemas["ProbeFamily"] as? [String: Any] else {
            throw APIError(status: .internalServerError, code: "missing_asset", message: "openapi.json lacks the ImageNetClass or ProbeFamily schema")
        }
        let entries = (0 ..< labels.count).map { labels[$0] }
        choices[1]["pattern"] = alternation(of: entries.map(\.wordNetID))
        choices[2]["pattern"] = alternation(of: entries.map(\.name))
        classes["anyOf"] = choices
        families["enum"] = ProbeFamily.all.map(\.rawValue)
        schemas["ImageNetClass"] = classes
        schemas["ProbeFamily"] = families
        components["schemas"] = schemas
        root["components"] = components
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// A regular expression (ECMA-262, as JSON Schema has them) matching exactly one of `texts`, whole.
    static func alternation(of texts: [String]) -> String {
        let special = Set(#"\^$.|?*+()[]{}/"#)
        let escaped = texts.map { text in text.map { special.contains($0) ? "\\\($0)" : String($0) }.joined() }
        return "^(?:" + escaped.joined(separator: "|") + ")$"
    }
}
