// A request's query string as the API reads it: an empty or blank value (spaces, tabs, line breaks) counts as absent
// (`model=` is the default model, `expected=` no expected class), and every malformed value is a 400 `bad_parameter`
// naming its parameter. The API document says the same of every optional parameter.
import Foundation
import Hummingbird

struct QueryParameters: Sendable {
    private let fields: [String: String]

    init(_ request: Request) {
        fields = URLEncodedFields.decode(request.uri.query ?? "")  // "+" is a space, as forms send it
    }

    /// What counts as blank: exactly the characters of the document's pattern `^[ \t\r\n]*$`.
    static let blank = CharacterSet(charactersIn: " \t\r\n")

    /// The value of `name` as sent; nil when it is absent, empty or blank.
    subscript(name: String) -> String? {
        guard let value = fields[name], !value.trimmingCharacters(in: Self.blank).isEmpty else { return nil }
        return value
    }

    /// A comma-separated value of `name` ("a,b", "a, b"), each item without the blanks around it and blank items left
    /// out; nil when nothing is left.
    func list(_ name: String) -> [String]? {
        let items = (self[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: Self.blank) }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }

    /// A whole number within `range`, `value` when absent.
    func integer(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try integer(name, range: range) ?? value
    }

    /// A whole number within `range`, nil when absent.
    func integer(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw Self.bad(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// true or false (also 1 or 0), `value` when absent.
    func flag(_ name: String, default value: Bool) throws -> Bool {
        switch self[name]?.lowercased() {
        case nil: value
        case "true", "1": true
        case "false", "0": false
        default: throw Self.bad(name, "must be true or false")
        }
    }

    /// One of `choices`, `value` when absent.
    func choice(_ name: String, of choices: [String], default value: String) throws -> String {
        guard let text = self[name] else { return value }
        guard choices.contains(text) else { throw Self.bad(name, "must be " + choices.joined(separator: " or ")) }
        return text
    }

    static func bad(_ name: String, _ problem: String) -> APIError {
        APIError.badRequest("'\(name)' \(problem)", code: "bad_parameter")
    }
}
