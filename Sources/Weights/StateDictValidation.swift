// Strict checking of a loaded state_dict against the keys and shapes a model expects.
// Every problem is collected into one error; nothing is renamed or reshaped here.

/// One disagreement between the checkpoint and the model.
public enum KeyProblem: Equatable, Sendable, CustomStringConvertible {
    case missing(key: String, expected: [Int])
    case unexpected(key: String, found: [Int])
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var key: String {
        switch self {
        case let .missing(key, _), let .unexpected(key, _), let .shapeMismatch(key, _, _): key
        }
    }

    public var description: String {
        switch self {
        case let .missing(key, expected):
            "missing \(key): expected \(expected), found nothing"
        case let .unexpected(key, found):
            "unexpected \(key): expected nothing, found \(found)"
        case let .shapeMismatch(key, expected, found):
            "wrong shape for \(key): expected \(expected), found \(found)"
        }
    }
}

extension StateDict {
    /// Checks that the keys and shapes are exactly `expected`, and throws `WeightsError.keyMismatch` listing every
    /// missing, unexpected or mis-shaped key otherwise.
    /// - Parameters:
    ///   - ignored: keys matching these are not checked at all, on either side (e.g. `"AuxLogits.*"`).
    ///   - optional: keys matching these may be present or absent, with any shape. Keys matching
    ///     `KeyPattern.numBatchesTracked` are always optional.
    public func validate(against expected: [String: [Int]], ignoring ignored: [KeyPattern] = [],
                         optional: [KeyPattern] = []) throws {
        try Self.validate(shapes: tensors.mapValues(\.shape), against: expected, ignoring: ignored, optional: optional)
    }

    /// The same check on the shapes a state dict had, keyed by name (for a reader that has handed its tensors out).
    public static func validate(shapes: [String: [Int]], against expected: [String: [Int]], ignoring ignored: [KeyPattern] = [],
                                optional: [KeyPattern] = []) throws {
        let optional = optional + [.numBatchesTracked]
        func isIgnored(_ key: String) -> Bool { ignored.contains { $0.matches(key) } }
        func isOptional(_ key: String) -> Bool { optional.contains { $0.matches(key) } }

        var problems: [KeyProblem] = []
        for (key, expectedShape) in expected where !isIgnored(key) && !isOptional(key) {
            if let found = shapes[key] {
                if found != expectedShape {
                    problems.append(.shapeMismatch(key: key, expected: expectedShape, found: found))
                }
            } else {
                problems.append(.missing(key: key, expected: expectedShape))
            }
        }
        for (key, shape) in shapes where expected[key] == nil && !isIgnored(key) && !isOptional(key) {
            problems.append(.unexpected(key: key, found: shape))
        }
        guard problems.isEmpty else {
            throw WeightsError.keyMismatch(problems.sorted { $0.key < $1.key })
        }
    }
}
