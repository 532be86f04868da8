// Reading a labelled folder for discovery: each image decoded once (on background threads, while the previous chunk
// is classified), its attributes measured, and every model's answer and penultimate features from one forward pass.
import Foundation
import Imaging
import Inference
import Models

public struct DiscoveryScan: Sendable {
    public let classifiers: [Classifier]
    public let labels: ImageNetLabels
    public let batchSize: Int

    public init(classifiers: [Classifier], labels: ImageNetLabels, batchSize: Int = 8) {
        self.classifiers = classifiers
        self.labels = labels
        self.batchSize = batchSize
    }

    /// One image read: its facts and its pixels at the size the models need.
    struct Read: Sendable {
        let image: DiscoveryImage
        let pixels: RGBImage
    }

    /// Reads every image of `dataset` (`name` is how the results call it); files that cannot be read are returned
    /// with the reason. `progress` hears (images done, images).
    public func run(_ dataset: LabelledDataset, name: String,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> (input: DiscoveryInput, unreadable: [UnlabelledFile]) {
        let shorterSide = classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max()
        let groups = labels.entries.map { Array($0.ancestors) }
        var images: [DiscoveryImage] = []
        var answers = Array(repeating: [DiscoveryAnswer](), count: classifiers.count)
        var features = Array(repeating: [[Float]](), count: classifiers.count)
        var hasFeatures = classifiers.map { $0.featureCount != nil }
        var unreadable: [UnlabelledFile] = []
        let chunks = stride(from: 0, to: dataset.images.count, by: batchSize).map {
            Array(dataset.images[$0..<min($0 + batchSize, dataset.images.count)])
        }
        progress(0, dataset.images.count)
        var done = 0
        var next = chunks.first.map { read($0, dataset: dataset, shorterSide: shorterSide, groups: groups) }
        for (position, chunk) in chunks.enumerated() {
            let outcomes = next?.wait() ?? []
            if position + 1 < chunks.count { next = read(chunks[position + 1], dataset: dataset, shorterSide: shorterSide, groups: groups) }
            var readable: [Read] = []
            for (labelled, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .success(let read): readable.append(read)
                case .failure(let error): unreadable.append(UnlabelledFile(file: labelled.file, reason: "could not be read: \(error)"))
                }
            }
            images += readable.map(\.image)
            for (index, classifier) in classifiers.enumerated() where !readable.isEmpty {
                for (read, classification) in zip(readable, try classifier.classify(readable.map(\.pixels), top: 5)) {
                    let best = classification.predictions.first
                    answers[index].append(DiscoveryAnswer(predicted: best?.index ?? 0, confidence: best?.probability ?? 0,
                                                          truthProbability: classification.probabilities[read.image.truth],
                                                          top5: classification.predictions.map(\.index)))
                    if let vector = classification.features { features[index].append(vector) } else { hasFeatures[index] = false }
                }
            }
            done += chunk.count
            progress(done, dataset.images.count)
        }
        let models = classifiers.indices.map { index in
            DiscoveryModelAnswers(model: classifiers[index].model.name, answers: answers[index], features: hasFeatures[index] ? features[index] : nil)
        }
        return (DiscoveryInput(dataset: name, images: images, models: models, classNames: labels.entries.map(\.name)), unreadable)
    }

    private func read(_ chunk: [LabelledImage], dataset: LabelledDataset, shorterSide: Int?, groups: [[String]]) -> PendingResults<Read> {
        PendingResults.start(count: chunk.count) { index in
            let labelled = chunk[index]
            let bytes = try Data(contentsOf: dataset.url(of: labelled))
            let decoder = ImageDecoder()
            let original = try decoder.uprightSize(bytes, minimumShorterSide: shorterSide)
            let pixels = try decoder.decode(bytes, minimumShorterSide: shorterSide)
            let facts = ImageFacts(pixels, originalWidth: original.width, originalHeight: original.height)
            let image = DiscoveryImage(file: labelled.file, truth: labelled.classIndex, numeric: facts.numeric,
                                       categories: facts.categories, groups: groups.indices.contains(labelled.classIndex) ? groups[labelled.classIndex] : [])
            return Read(image: image, pixels: pixels)
        }
    }
}
