// What a probe sweeps an image through: one of Blindspot's transformation families at its levels ("rotate"), or one
// of ImageNet-C's corruptions at severities 1 to 5 ("imagenet-c:fog"). Names, parsing and the words every view uses;
// the pixels are TransformFamily's and Corruption's.
import Foundation

public enum ProbeFamily: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
    case transform(TransformFamily)
    /// Made on ImageNet-C's 224 × 224 crop of the image, as ImageNet-C made its files (see `Corruption.imageNetCrop`).
    case corruption(Corruption)

    /// What a corruption's name starts with, as in `eval --transform`.
    public static let imageNetCPrefix = Corruption.namespace + ":"

    /// What a probe runs when no family is named: Blindspot's own families (ImageNet-C's cost 5 variants each and are asked for).
    public static var standard: [ProbeFamily] { TransformFamily.allCases.map(ProbeFamily.transform) }

    /// Every family a probe can run, Blindspot's first.
    public static var all: [ProbeFamily] { standard + Corruption.allCases.map(ProbeFamily.corruption) }

    public init?(rawValue: String) {
        if rawValue.hasPrefix(Self.imageNetCPrefix) {
            guard let corruption = Corruption(rawValue: String(rawValue.dropFirst(Self.imageNetCPrefix.count))) else { return nil }
            self = .corruption(corruption)
        } else {
            guard let family = TransformFamily(rawValue: rawValue) else { return nil }
            self = .transform(family)
        }
    }

    /// "rotate", "imagenet-c:fog".
    public var rawValue: String {
        switch self {
        case let .transform(family): family.rawValue
        case let .corruption(corruption): Self.imageNetCPrefix + corruption.rawValue
        }
    }

    public var description: String { rawValue }

    /// Strict: a name that is no family is refused.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let family = ProbeFamily(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: UnknownFamily(name: name).description)
        }
        self = family
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// "rotate, imagenet-c:fog,imagenet-c:common" → those families in that order, each once; an unknown name is refused
    /// with every name a list may hold.
    public static func list(_ text: String) throws(UnknownFamily) -> [ProbeFamily] {
        var chosen: [ProbeFamily] = []
        for piece in text.split(separator: ",") {
            let name = piece.trimmingCharacters(in: .whitespaces)
            let named: [ProbeFamily]
            if let group = Corruption.groups.first(where: { imageNetCPrefix + $0.name == name.lowercased() }) {
                named = group.members.map(ProbeFamily.corruption)
            } else if let family = ProbeFamily(rawValue: name) ?? ProbeFamily(rawValue: name.lowercased()) {
                named = [family]
            } else {
                throw UnknownFamily(name: name)
            }
            chosen += named.filter { !chosen.contains($0) }
        }
        return chosen
    }

    public var transform: TransformFamily? {
        if case let .transform(family) = self { family } else { nil }
    }

    public var corruption: Corruption? {
        if case let .corruption(corruption) = self { corruption } else { nil }
    }

    /// "Rotation", "Fog (ImageNet-C)".
    public var title: String {
        corruption == nil ? name : "\(name) (ImageNet-C)"
    }

    /// "Rotation", "Fog": the title without saying whose, where the context says it.
    public var name: String {
        switch self {
        case let .transform(family): family.title
        case let .corruption(corruption): corruption.title
        }
    }

    /// One sentence on what it does.
    public var summary: String {
        switch self {
        case let .transform(family): family.summary
        case let .corruption(corruption):
            "ImageNet-C's \(corruption.title.lowercased()) (\(corruption.category.rawValue)) with the published parameters of "
                + "severities 1 to 5, on ImageNet-C's 224 × 224 crop of the image (shorter side 256, centre 224)."
        }
    }

    /// Mildest first; a corruption's are its severities, `value` 1 to 5.
    public var levels: [TransformLevel] {
        switch self {
        case let .transform(family): family.levels
        case .corruption: Corruption.severities.map { TransformLevel(value: Double($0), label: "severity \($0)") }
        }
    }
}

/// A name in a list of probe families that is none of them.
public struct UnknownFamily: Error, Equatable, CustomStringConvertible {
    public let name: String

    public var description: String {
        "unknown family '\(name)'; families: \(TransformFamily.allCases.map(\.rawValue).joined(separator: ", ")); "
            + "ImageNet-C's corruptions: \(Corruption.allCases.map { ProbeFamily.imageNetCPrefix + $0.rawValue }.joined(separator: ", ")), "
            + "or the groups \(Corruption.groups.map { ProbeFamily.imageNetCPrefix + $0.name }.joined(separator: ", "))"
    }
}
