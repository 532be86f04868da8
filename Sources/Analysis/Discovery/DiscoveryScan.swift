// Reading a labelled folder for discovery: each image decoded once (on background threads, while the previous chunk
// is classified), its attributes measured, every model's answer and penultimate features from one forward pass, and
// each finished chunk kept in a ScanStore.
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

    /// One image read: its facts and its pixels at the size the models need, and the seconds each took.
    struct Read: Sendable {
        let image: DiscoveryImage
        let pixels: RGBImage
        let decodeSeconds: Double
        let measureSeconds: Double
    }

    /// Where a scan's time went. Decoding and measuring run on background threads while the models classify the
    /// previous chunk, so their seconds are summed over threads and overlap the others; `waiting` is the time the
    /// models stood idle for them.
    public struct Times: Sendable {
        public var classifying = 0.0
        public var waiting = 0.0
        public var decoding = 0.0
        public var measuring = 0.0
    }

    /// Reads every image of `dataset` (`name` is how the results call it) that `store` does not hold yet, chunk by
    /// chunk, each finished chunk recorded in `store`; files that cannot be read are returned with the reason.
    /// `progress` hears (images done, images).
    public func run(_ dataset: LabelledDataset, name: String, store: ScanStore,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> (input: DiscoveryInput, unreadable: [UnlabelledFile], times: Times) {
        let shorterSide = classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max()
        let groups = labels.entries.map { Array($0.ancestors) }
        let finished = store.finishedFiles
        let chunks = stride(from: 0, to: dataset.images.count, by: batchSize).map {
            Array(dataset.images[$0..<min($0 + batchSize, dataset.images.count)])
        }
        let pending = chunks.map { $0.filter { !finished.contains($0.file) } }.filter { !$0.isEmpty }
        var done = dataset.images.count - pending.reduce(0) { $0 + $1.count }
        progress(done, dataset.images.count)
        var next = pending.first.map { read($0, dataset: dataset, shorterSide: shorterSide, groups: groups) }
        var times = Times()
        for (position, chunk) in pending.enumerated() {
            let waitStart = ContinuousClock.now
            let outcomes = next?.wait() ?? []
            times.waiting += (ContinuousClock.now - waitStart).milliseconds / 1000
            if position + 1 < pending.count { next = read(pending[position + 1], dataset: dataset, shorterSide: shorterSide, groups: groups) }
            var readable: [Read] = []
            var unreadable: [UnlabelledFile] = []
            for (labelled, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .success(let read):
                    readable.append(read)
                    times.decoding += read.decodeSeconds
                    times.measuring += read.measureSeconds
                case .failure(let error): unreadable.append(UnlabelledFile(file: labelled.file, reason: "could not be read: \(error)"))
                }
            }
            var answers = Array(repeating: [DiscoveryAnswer](), count: classifiers.count)
            var features = Array(repeating: [[Float]]?.none, count: classifiers.count)
            for (index, classifier) in classifiers.enumerated() where !readable.isEmpty {
                let classifyStart = ContinuousClock.now
                let classifications = try classifier.classify(readable.map(\.pixels), top: 5)
                times.classifying += (ContinuousClock.now - classifyStart).milliseconds / 1000
                answers[index] = zip(readable, classifications).map { read, classification in
                    let best = classification.predictions.first
                    return DiscoveryAnswer(predicted: best?.index ?? 0, confidence: best?.probability ?? 0,
                                           truthProbability: classification.probabilities[read.image.truth],
                                           top5: classification.predictions.map(\.index))
                }
                if classifier.featureCount != nil { features[index] = classifications.compactMap(\.features) }
            }
            try store.append(images: readable.map(\.image), answers: answers, features: features, unreadable: unreadable)
            done += chunk.count
            progress(done, dataset.images.count)
        }
        let input = DiscoveryInput(dataset: name, images: store.images, models: store.modelAnswers(), classNames: labels.entries.map(\.name))
        return (input, store.unreadable, times)
    }

    /// A store for a scan by these classifiers in `directory`: see ScanStore.
    public func store(in directory: URL, resume: Bool) throws -> ScanStore {
        try ScanStore(directory: directory, models: classifiers.map(\.model.name), featureWidths: classifiers.map(\.featureCount),
                      batchSize: batchSize, resume: resume)
    }

    private func read(_ chunk: [LabelledImage], dataset: LabelledDataset, shorterSide: Int?, groups: [[String]]) -> PendingResults<Read> {
        PendingResults.start(count: chunk.count) { index in
            let labelled = chunk[index]
            let start = ContinuousClock.now
            let bytes = try Data(contentsOf: dataset.url(of: labelled))
            let decoder = ImageDecoder()
            let original = try decoder.uprightSize(bytes, minimumShorterSide: shorterSide)
            let pixels = try decoder.decode(bytes, minimumShorterSide: shorterSide)
            let decoded = ContinuousClock.now
            let facts = ImageFacts(pixels, originalWidth: original.width, originalHeight: original.height)
            let image = DiscoveryImage(file: labelled.file, truth: labelled.classIndex, numeric: facts.numeric,
                                       categories: facts.categories, groups: groups.indices.contains(labelled.classIndex) ? groups[labelled.classIndex] : [])
            return Read(image: image, pixels: pixels, decodeSeconds: (decoded - start).milliseconds / 1000,
                        measureSeconds: (ContinuousClock.now - decoded).milliseconds / 1000)
        }
    }
}
