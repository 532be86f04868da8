// What an evaluation does to every image besides classifying it as it is: one of Blindspot's families at one level
// ("blur:2"), one of ImageNet-C's corruptions at one severity ("imagenet-c:fog:3"), or ImageNet-C's crop alone
// ("imagenet-c:clean", the robustness card's clean baseline). Parsing the `--transform` text, names and strict JSON.
import Foundation
import Transforms

public enum EvaluationTransform: Sendable, Hashable, Codable, CustomStringConvertible {
    case family(TransformFamily, level: TransformLevel)
    /// The image cut as ImageNet-C cut its files (shorter side 256, centre 224), then corrupted.
    case corruption(Corruption, severity: Int)
    /// The same 224 crop, not corrupted.
    case corruptionBaseline

    /// The prefix of ImageNet-C's transforms in `--transform` and in record keys.
    public static let imageNetC = Corruption.namespace

    /// "blur:2", "imagenet-c:fog:3", "imagenet-c:clean": how records name it.
    public var key: String {
        switch self {
        case let .family(family, level): "\(family.rawValue):\(Self.number(level.value))"
        case let .corruption(corruption, severity): "\(Self.imageNetC):\(corruption.rawValue):\(severity)"
        case .corruptionBaseline: "\(Self.imageNetC):clean"
        }
    }

    /// "Defocus blur σ 2", "Fog, severity 3", "ImageNet-C crop, clean".
    public var description: String { "\(group)\(isCorruption ? ", " : " ")\(levelLabel)" }

    /// What a report groups it under: the family's or the corruption's title.
    public var group: String {
        switch self {
        case let .family(family, _): family.title
        case let .corruption(corruption, _): corruption.title
        case .corruptionBaseline: "ImageNet-C crop"
        }
    }

    /// Its place in its group, mildest first: "σ 2", "severity 3", "clean".
    public var levelLabel: String {
        switch self {
        case let .family(_, level): level.label
        case let .corruption(_, severity): "severity \(severity)"
        case .corruptionBaseline: "clean"
        }
    }

    /// Orders transforms within a group, mildest first.
    public var rank: Int {
        switch self {
        case let .family(family, level): family.levels.firstIndex(of: level) ?? family.levels.count
        case let .corruption(_, severity): severity
        case .corruptionBaseline: 0
        }
    }

    /// Whether the image is first cut to ImageNet-C's 224 crop (and the model then gets that crop, see `Evaluator`).
    public var isCorruption: Bool {
        switch self {
        case .family: false
        case .corruption, .corruptionBaseline: true
        }
    }

    public var family: TransformFamily? {
        if case let .family(family, _) = self { family } else { nil }
    }

    public var level: TransformLevel? {
        if case let .family(_, level) = self { level } else { nil }
    }

    public var corruption: (corruption: Corruption, severity: Int)? {
        if case let .corruption(corruption, severity) = self { (corruption, severity) } else { nil }
    }

    /// Every transform of ImageNet-C's robustness card, in order: the clean crop, the 15 common corruptions and the 4
    /// held-out ones, each at severities 1 to 5.
    public static var robustnessCard: [EvaluationTransform] {
        [.corruptionBaseline] + Corruption.allCases.flatMap { corruption in Corruption.severities.map { .corruption(corruption, severity: $0) } }
    }

    // MARK: - Parsing

    /// "blur:2", "rotate:90", "flip:vertical", "background:white", "blur:all" for every level, "blur:mid" for the
    /// middle one; "imagenet-c:fog:3", "imagenet-c:fog" (severities 1-5), "imagenet-c:common" (15 × 5),
    /// "imagenet-c:held-out" (4 × 5), "imagenet-c:all" (19 × 5), "imagenet-c:clean" (the crop alone).
    public static func parse(_ text: String) throws -> [EvaluationTransform] {
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.first?.lowercased() == imageNetC { return try parseCorruption(text, rest: parts.count == 2 ? parts[1] : "") }
        guard parts.count == 2, let family = TransformFamily(rawValue: parts[0]) else {
            throw EvaluationError.badTransform(text, reason: "write FAMILY:LEVEL, FAMILY:mid or FAMILY:all, or imagenet-c:CORRUPTION[:SEVERITY]; families: "
                + TransformFamily.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let levels = family.levels
        switch parts[1].lowercased() {
        case "all": return levels.map { .family(family, level: $0) }
        case "mid", "middle": return [.family(family, level: levels[levels.count / 2])]
        default:
            let wanted = parts[1]
            if let level = levels.first(where: { Double(wanted) == $0.value || $0.label.caseInsensitiveCompare(wanted) == .orderedSame }) {
                return [.family(family, level: level)]
            }
            throw EvaluationError.badTransform(text, reason: "\(family.rawValue)'s levels are "
                + levels.map { "\(number($0.value)) (\($0.label))" }.joined(separator: ", "))
        }
    }

    /// `rest` is what follows "imagenet-c:".
    private static func parseCorruption(_ text: String, rest: String) throws -> [EvaluationTransform] {
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let groups = Corruption.groups.map { "\($0.name) (the \($0.members.count))" }.joined(separator: ", ")
        let names = "corruptions: " + Corruption.allCases.map(\.rawValue).joined(separator: ", ") + "; or \(groups), clean"
        guard let name = parts.first, !name.isEmpty, parts.count <= 2 else {
            throw EvaluationError.badTransform(text, reason: "write imagenet-c:CORRUPTION:SEVERITY, imagenet-c:CORRUPTION (severities 1-5), "
                + "imagenet-c:GROUP or imagenet-c:clean; " + names)
        }
        let severity = parts.count == 2 ? parts[1] : nil
        func everySeverity(_ corruptions: [Corruption]) -> [EvaluationTransform] {
            corruptions.flatMap { corruption in Corruption.severities.map { .corruption(corruption, severity: $0) } }
        }
        let group = Corruption.groups.first { $0.name == name }
        if group != nil || name == "clean" {
            guard severity == nil else { throw EvaluationError.badTransform(text, reason: "imagenet-c:\(name) takes no severity") }
            return group.map { everySeverity($0.members) } ?? [.corruptionBaseline]
        }
        guard let corruption = Corruption(rawValue: name) else {
            throw EvaluationError.badTransform(text, reason: "'\(name)' is not one of ImageNet-C's corruptions; " + names)
        }
        guard let severity else { return everySeverity([corruption]) }
        guard let value = Int(severity), Corruption.severities.contains(value) else {
            throw EvaluationError.badTransform(text, reason: "ImageNet-C's severities are 1 to 5, not '\(severity)'")
        }
        return [.corruption(corruption, severity: value)]
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    // MARK: - JSON

    private enum CodingKeys: String, CodingKey {
        case family, level, corruption, severity
    }

    /// A family as `{"family", "level"}` (as results files always wrote it); a corruption as `{"corruption", "severity"}`;
    /// the clean crop as `{"corruption": "clean"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .family(family, level):
            try container.encode(family, forKey: .family)
            try container.encode(level, forKey: .level)
        case let .corruption(corruption, severity):
            try container.encode(corruption, forKey: .corruption)
            try container.encode(severity, forKey: .severity)
        case .corruptionBaseline:
            try container.encode("clean", forKey: .corruption)
        }
    }

    /// Only the family's own levels and ImageNet-C's own corruptions and severities: a results file could name any
    /// number, which no transformation has.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.family) {
            let family = try container.decode(TransformFamily.self, forKey: .family)
            let level = try container.decode(TransformLevel.self, forKey: .level)
            guard family.levels.contains(level) else {
                throw DecodingError.dataCorruptedError(forKey: .level, in: container,
                                                       debugDescription: "\(level.value) (\(level.label)) is not a level of \(family.rawValue)")
            }
            guard !container.contains(.corruption) else {
                throw DecodingError.dataCorruptedError(forKey: .corruption, in: container, debugDescription: "a transform is a family or a corruption, not both")
            }
            self = .family(family, level: level)
            return
        }
        let name = try container.decode(String.self, forKey: .corruption)
        if name == "clean" {
            guard !container.contains(.severity) else {
                throw DecodingError.dataCorruptedError(forKey: .severity, in: container, debugDescription: "the clean crop has no severity")
            }
            self = .corruptionBaseline
            return
        }
        guard let corruption = Corruption(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .corruption, in: container, debugDescription: "'\(name)' is not one of ImageNet-C's corruptions")
        }
        let severity = try container.decode(Int.self, forKey: .severity)
        guard Corruption.severities.contains(severity) else {
            throw DecodingError.dataCorruptedError(forKey: .severity, in: container, debugDescription: "severity \(severity) is not one of 1 to 5")
        }
        self = .corruption(corruption, severity: severity)
    }
}
