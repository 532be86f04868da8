// What `blindspot discover` writes: per model its error rate, its slices with their held-out numbers, and the images
// whose labels it confidently contradicts. The JSON schema the README documents is this file's Codable form.
import Foundation

public struct DiscoveryResults: Sendable, Codable, Equatable {
    public let dataset: String
    /// Labelled images read (suspect labels included).
    public let images: Int
    public let seed: UInt64
    /// The fraction of each class held out to check slices on.
    public let holdout: Double
    public let minimumSize: Int
    /// Every image read, in the order of the embeddings file's rows and of each model's `answers` and `map`.
    public let records: [DiscoveryRecord]
    public var models: [ModelDiscovery]

    public init(dataset: String, images: Int, seed: UInt64, holdout: Double, minimumSize: Int, records: [DiscoveryRecord], models: [ModelDiscovery]) {
        self.dataset = dataset
        self.images = images
        self.seed = seed
        self.holdout = holdout
        self.minimumSize = minimumSize
        self.records = records
        self.models = models
    }
}

public struct DiscoveryRecord: Sendable, Codable, Equatable {
    /// Its path relative to the folder.
    public let file: String
    /// The name of its labelled class.
    public let label: String
    /// Whether it is in the held-out half.
    public let heldOut: Bool
}

/// A model's answer on one record.
public struct RecordAnswer: Sendable, Codable, Equatable {
    public let predicted: String
    /// The probability of `predicted`.
    public let confidence: Double
}

public struct ModelDiscovery: Sendable, Codable, Equatable {
    public let model: String
    /// Top-1 error over every image that counts (suspect labels left out unless kept).
    public let errorRate: Double
    /// Its error rate on the held-out half, which slices' lifts are measured against.
    public let heldOutErrorRate: Double
    /// Confirmed slices first, by held-out lift × size; then the others.
    public var slices: [Slice]
    public let suspectLabels: [SuspectLabel]
    /// Its answer on every record, in their order.
    public let answers: [RecordAnswer]
    /// Every record's place on the plane of the first two principal components of the model's features (fitted on the
    /// discovery half, in units of the features' RMS spread), in the order of the records; nil without features.
    public let map: [[Float]]?
}

/// A suspected blind spot: a group of images, found on the discovery half and checked on the held-out one.
public struct Slice: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case attribute
        case embedding
    }

    public struct Numbers: Sendable, Codable, Equatable {
        public let size: Int
        public let errorRate: Double
        /// 95% bootstrap interval (Bonferroni-widened over the slices checked; see `confidence`).
        public let errorRateCI: [Double]
        /// The slice's error rate over the half's.
        public let lift: Double
        public let liftCI: [Double]
    }

    public struct Confusion: Sendable, Codable, Equatable {
        public let expected: String
        public let predicted: String
        public let count: Int
    }

    public let id: String
    public let kind: Kind
    public let description: String
    /// The membership rule of an attribute slice (a conjunction of predicates).
    public let rule: [SlicePredicate]?
    /// Relative file paths of its members in both halves.
    public let members: [String]
    /// What the search saw on the discovery half.
    public let discovery: Numbers
    public let heldOut: Numbers
    /// True when the held-out lift's lower bound exceeds 1 and the held-out half holds at least max(5, minimum size / 2)
    /// of its images.
    public let confirmed: Bool
    /// Its members' most frequent mistakes.
    public let confusions: [Confusion]
    /// The two-sided confidence of the intervals, after the Bonferroni correction.
    public let confidence: Double
    /// For a confirmed attribute slice whose attribute a transformation can set: what setting it on images the model
    /// gets right does to them.
    public var intervention: Intervention? = nil
    /// Every model's error on the slice's held-out members, beside its error on the whole held-out half: does the blind
    /// spot transfer? Empty when one model was examined.
    public var transfer: [Transfer] = []
}

public struct Transfer: Sendable, Codable, Equatable {
    public let model: String
    public let heldOutErrorRate: Double
    /// That error over the model's own on the held-out half.
    public let lift: Double
}

/// Images outside a slice that the model gets right, moved to the slice's level of one attribute by a transformation,
/// against the same images only re-encoded.
public struct Intervention: Sendable, Codable, Equatable {
    /// The attribute moved, and the transformation family and level that moved it there.
    public let attribute: String
    public let family: String
    public let level: String
    public let images: Int
    /// The share of those images the model gets wrong once transformed, with its 95% bootstrap interval.
    public let flipRate: Double
    public let flipRateCI: [Double]
    /// The share it gets wrong after re-encoding alone.
    public let controlFlipRate: Double
    /// True when the flip rate's lower bound is above the control's rate.
    public let causes: Bool
    /// "darkening correct images to the slice's median brightness flips 41% [35%, 47%]", or why it is only correlated.
    public let finding: String
}

public struct SuspectLabel: Sendable, Codable, Equatable {
    public let file: String
    public let label: String
    public let predicted: String
    /// The model's probability of `predicted`.
    public let confidence: Double
}
