// A glob over state_dict keys: `*` matches any run of characters (dots included), everything else matches itself.
// Used to name keys a model ignores or treats as optional; it is not a regular expression.

public struct KeyPattern: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    public init(stringLiteral pattern: String) {
        self.init(pattern)
    }

    /// BatchNorm's step counter: it carries nothing for inference and only newer PyTorch versions save it.
    public static let numBatchesTracked: KeyPattern = "*.num_batches_tracked"

    public var description: String { pattern }

    /// Whether the whole key matches the pattern.
    public func matches(_ key: String) -> Bool {
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard pieces.count > 1 else { return key == pattern }
        // Anchored first and last pieces; the middle pieces are found greedily from the left, in order.
        guard let first = pieces.first, let last = pieces.last, key.count >= first.count + last.count,
              key.hasPrefix(first), key.hasSuffix(last) else { return false }
        var rest = key.dropFirst(first.count).dropLast(last.count)
        for middle in pieces.dropFirst().dropLast() where !middle.isEmpty {
            guard let found = rest.firstRange(of: middle) else { return false }
            rest = rest[found.upperBound...]
        }
        return true
    }
}
