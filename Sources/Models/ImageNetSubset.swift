// ImageNet-A's and ImageNet-R's 200 classes, read from the lists their own evaluation code ships (copied into
// Resources with their source named), as indices of the 1000 classes: what a model's outputs are masked to.
import Foundation

public enum ImageNetSubset: String, CaseIterable, Sendable, Codable {
    case imagenetA = "imagenet-a", imagenetR = "imagenet-r"

    public var title: String {
        switch self {
        case .imagenetA: "ImageNet-A"
        case .imagenetR: "ImageNet-R"
        }
    }

    /// Where the list comes from.
    public var source: String {
        switch self {
        case .imagenetA: "imagenet_a_wnids in eval_many_models.py, github.com/hendrycks/natural-adv-examples"
        case .imagenetR: "imagenet_r_wnids in eval.py, github.com/hendrycks/imagenet-r"
        }
    }

    /// The 200 WordNet ids, in the resource's order ('#' lines are its header).
    public func wordNetIDs() throws -> [String] {
        let name = "\(rawValue)-wnids"
        guard let url = Bundle.module.url(forResource: name, withExtension: "txt") else {
            throw ImageNetLabels.LoadError.missingResource(name + ".txt")
        }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The subset's classes as indices of `labels`, ascending; a WordNet id that is not an ImageNet class is an error.
    public func classIndices(in labels: ImageNetLabels) throws -> [Int] {
        try wordNetIDs().enumerated().map { number, wordNetID in
            guard let index = labels.index(ofWordNetID: wordNetID) else {
                throw ImageNetLabels.LoadError.malformedLine("\(rawValue)-wnids.txt", number + 1, wordNetID + " is not an ImageNet class")
            }
            return index
        }.sorted()
    }
}
