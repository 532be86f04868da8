// The checks every command's `validate()` shares: a number within bounds (NaN and infinity never are), model and
// class names that exist, and `--threads`. Each failure is a ValidationError naming the option: a usage error.
import ArgumentParser
import EngineDNNL
import Foundation
import Imaging
import Models

enum OptionCheck {
    /// Batch sizes any command accepts: a batch of 256 photos already needs gigabytes for the larger models.
    static let batchSizes = 1...256

    /// Throws unless `value` lies in `range`. A NaN lies in no range, and a finite range excludes infinity.
    static func require<Value: Comparable>(_ value: Value, within range: ClosedRange<Value>, _ option: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be \(text(range.lowerBound))…\(text(range.upperBound)), not \(text(value))")
        }
    }

    /// `require(_:within:_:)` for an option that may be left out.
    static func require<Value: Comparable>(_ value: Value?, within range: ClosedRange<Value>, _ option: String) throws {
        if let value { try require(value, within: range, option) }
    }

    /// `require(_:within:_:)` for every value of a repeatable option.
    static func require<Value: Comparable>(_ values: [Value], within range: ClosedRange<Value>, _ option: String) throws {
        guard !values.isEmpty else { throw ValidationError("\(option) needs at least one value") }
        for value in values { try require(value, within: range, option) }
    }

    /// Throws unless every name is a model of the catalog (built-in or added with `models add`), each named once.
    static func requireModels(_ names: [String], _ option: String) throws {
        let catalog = try CommandEnvironment().loader.zoo
        for (position, name) in names.enumerated() {
            guard catalog.model(named: name) != nil else {
                throw ValidationError("\(option): unknown model '\(name)'; known models: \(catalog.names.joined(separator: ", "))")
            }
            if names[..<position].contains(name) { throw ValidationError("\(option) names \(name) twice") }
        }
    }

    /// The class `text` names (an index, a WordNet id or an exact name), or a usage error saying how to name one.
    static func requireClass(_ text: String, _ option: String) throws -> Int {
        let labels = try ImageNetLabels.bundled()
        guard let index = labels.resolve(text) else { throw ValidationError("\(option): " + labels.unknownClassMessage(text)) }
        return index
    }

    /// 2.5 → "2.5", 2.0 → "2", and everything else as Swift prints it ("nan", "inf", 1024).
    private static func text<Value>(_ value: Value) -> String {
        if let number = value as? Double, number.isFinite, number == number.rounded(), abs(number) < 1e15 { return String(Int(number)) }
        return "\(value)"
    }
}

/// `--threads`, for every command that runs a model. oneDNN takes the count as an Int32, and nothing gains from
/// more threads than a large machine has cores.
struct ThreadOptions: ParsableArguments {
    static let counts = 1...1024

    @Option(help: "CPU threads for inference (default: all cores).")
    var threads: Int?

    func validate() throws {
        try OptionCheck.require(threads, within: Self.counts, "--threads")
    }

    /// The oneDNN backend with this many threads.
    func backend() throws -> DNNLBackend {
        try DNNLBackend(threads: threads)
    }
}

/// `--max-megapixels`, for the commands that decode images from users (classify, serve).
struct PixelLimitOptions: ParsableArguments {
    /// From a thousand pixels to ten gigapixels; beyond that a header is a lie or a decode bomb.
    static let megapixels = 0.001...10_000.0

    @Option(help: """
        Largest image in megapixels. A PNG, WebP or GIF over it is refused from its header; a larger JPEG is decoded \
        at 1/2, 1/4 or 1/8 scale to fit, if that still leaves the model's input size.
        """)
    var maxMegapixels = DecodeLimits().maximumMegapixels

    func validate() throws {
        try OptionCheck.require(maxMegapixels, within: Self.megapixels, "--max-megapixels")
    }

    /// `limits` with this pixel limit.
    func applied(to limits: DecodeLimits) -> DecodeLimits {
        var limits = limits
        limits.maximumMegapixels = maxMegapixels
        return limits
    }
}
