// What discovery reads: every image of a labelled folder with its attributes and class groups, and each model's
// answer on it. Gathering these is DiscoveryScan's job; the searches and checks only read them.
import Foundation

/// One image as discovery sees it.
public struct DiscoveryImage: Sendable, Equatable, Codable {
    public let file: String
    /// The labelled class.
    public let truth: Int
    /// Numeric attributes by name (brightness, contrast, …); an attribute an image lacks is absent.
    public let numeric: [String: Double]
    /// Categorical attributes by name ("dominant hue": "red"); a missing value is absent.
    public let categories: [String: String]
    /// The WordNet groups its labelled class belongs to ("dog", "wheeled vehicle", …), most specific first.
    public let groups: [String]

    public init(file: String, truth: Int, numeric: [String: Double], categories: [String: String], groups: [String]) {
        self.file = file
        self.truth = truth
        self.numeric = numeric
        self.categories = categories
        self.groups = groups
    }
}

/// One model's answer on one image.
public struct DiscoveryAnswer: Sendable, Equatable, Codable {
    /// The most probable class.
    public let predicted: Int
    /// Its probability.
    public let confidence: Double
    /// The probability of the labelled class.
    public let truthProbability: Double
    /// The five most probable classes, best first.
    public let top5: [Int]

    public init(predicted: Int, confidence: Double, truthProbability: Double, top5: [Int]) {
        self.predicted = predicted
        self.confidence = confidence
        self.truthProbability = truthProbability
        self.top5 = top5
    }
}

/// Everything one model said about the folder, in the order of `DiscoveryInput.images`.
public struct DiscoveryModelAnswers: Sendable {
    public let model: String
    public let answers: [DiscoveryAnswer]
    /// The penultimate features per image (rows in image order), when the network gives them.
    public let features: FeatureRows?

    public init(model: String, answers: [DiscoveryAnswer], features: FeatureRows?) {
        self.model = model
        self.answers = answers
        self.features = features
    }
}

public struct DiscoveryInput: Sendable {
    /// What the folder is called in the results (its path as given).
    public let dataset: String
    public let images: [DiscoveryImage]
    public let models: [DiscoveryModelAnswers]
    /// Class names by index, for descriptions.
    public let classNames: [String]

    public init(dataset: String, images: [DiscoveryImage], models: [DiscoveryModelAnswers], classNames: [String]) {
        self.dataset = dataset
        self.images = images
        self.models = models
        self.classNames = classNames
    }
}
