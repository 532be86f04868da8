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
    public let models: [ModelDiscovery]

    public init(dataset: String, images: Int, seed: UInt64, holdout: Double, minimumSize: Int, models: [ModelDiscovery]) {
        self.dataset = dataset
        self.images = images
        self.seed = seed
        self.holdout = holdout
        self.minimumSize = minimumSize
        self.models = models
    }
}

public struct ModelDiscovery: Sendable, Codable, Equatable {
    public let model: String
    /// Top-1 error over every image that counts (suspect labels left out unless kept).
    public let errorRate: Double
    /// Its error rate on the held-out half, which slices' lifts are measured against.
    public let heldOutErrorRate: Double
    /// Confirmed slices first, by held-out lift × size; then the others.
    public let slices: [Slice]
    public let suspectLabels: [SuspectLabel]
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
    /// True when the held-out lift's lower bound exceeds 1.
    public let confirmed: Bool
    /// Its members' most frequent mistakes.
    public let confusions: [Confusion]
    /// The two-sided confidence of the intervals, after the Bonferroni correction.
    public let confidence: Double
}

public struct SuspectLabel: Sendable, Codable, Equatable {
    public let file: String
    public let label: String
    public let predicted: String
    /// The model's probability of `predicted`.
    public let confidence: Double
}
