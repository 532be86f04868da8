// Evaluating models on a labelled dataset: images go through in fixed chunks (decoded and transformed on two
// threads while the previous chunk is classified), each chunk's records handed to the caller as it completes, so
// a killed run resumes at the first unfinished chunk with the same batches, hence the same numbers. ImageNet-C's
// transforms follow ImageNetCProtocol; each variant is made once and classified by every model.
import Engine
import Foundation
import Imaging
import Inference
import Models
import Transforms

public struct Evaluator: Sendable {
    public let classifiers: [Classifier]
    public let transforms: [EvaluationTransform]
    /// Images per chunk; each chunk's variants are classified in batches of this size.
    public let batchSize: Int
    /// Transformations run on a copy whose shorter side is at most this (the clean image is classified as is).
    public let workingShorterSide: Int
    /// The classes the outputs are masked to (ImageNet-A's or -R's 200); nil: all.
    public let classes: [Int]?
    /// Where frost's ice comes from.
    public let frost: FrostTextures

    public init(classifiers: [Classifier], transforms: [EvaluationTransform] = [], batchSize: Int = 8, workingShorterSide: Int = 512,
                classes: [Int]? = nil, frost: FrostTextures = .procedural) {
        precondition(!classifiers.isEmpty && batchSize >= 1)
        self.classifiers = classifiers
        self.transforms = transforms
        self.batchSize = batchSize
        self.workingShorterSide = workingShorterSide
        self.classes = classes
        self.frost = frost
    }

    /// The records a finished image has: one per model, clean and under each transformation.
    public var recordsPerImage: Int { classifiers.count * (1 + transforms.count) }

    /// Files whose every record is among `records`: what a resumed run can skip.
    public func completedFiles(in records: [EvaluationRecord]) -> Set<String> {
        var counts: [String: Set<String>] = [:]
        for record in records { counts[record.file, default: []].insert("\(record.model)\u{0}\(record.transform ?? "")") }
        return Set(counts.filter { $0.value.count == recordsPerImage }.keys)
    }

    /// Evaluates every image of `dataset` not in `completed`. `chunkFinished` hears each chunk's records, and the
    /// files that could not be decoded, as soon as the chunk is done (to be logged for resuming); `progress` hears
    /// (images done, images) including those skipped as completed.
    public func run(_ dataset: LabelledDataset, completed: Set<String> = [],
                    chunkFinished: ([EvaluationRecord], [UnlabelledFile]) throws -> Void,
                    progress: (Int, Int) -> Void = { _, _ in }) throws {
        let chunks = stride(from: 0, to: dataset.images.count, by: batchSize).map {
            Array(dataset.images[$0..<min($0 + batchSize, dataset.images.count)])
        }
        let pending = chunks.filter { chunk in !chunk.allSatisfy { completed.contains($0.file) } }
        var done = dataset.images.count - pending.reduce(0) { $0 + $1.count }
        progress(done, dataset.images.count)
        guard !pending.isEmpty else { return }
        // Decoding chunk k + 1 overlaps the inference of chunk k.
        var next = prepareInBackground(pending[0], dataset: dataset)
        for (position, chunk) in pending.enumerated() {
            let prepared = next.wait()
            if position + 1 < pending.count { next = prepareInBackground(pending[position + 1], dataset: dataset) }
            let (records, failures) = try classify(chunk, prepared: prepared)
            try chunkFinished(records, failures)
            done += chunk.count
            progress(done, dataset.images.count)
        }
    }

    /// An image decoded, with its transformed copies in `transforms` order; or why it could not be read.
    typealias Prepared = Result<[RGBImage], any Error>

    private func classify(_ chunk: [LabelledImage], prepared: [Prepared]) throws -> ([EvaluationRecord], [UnlabelledFile]) {
        var failures: [UnlabelledFile] = []
        var variants: [(image: LabelledImage, transform: EvaluationTransform?, picture: RGBImage)] = []
        for (image, outcome) in zip(chunk, prepared) {
            switch outcome {
            case .success(let pictures):
                variants += zip([nil] + transforms.map(Optional.some), pictures).map { (image, $0, $1) }
            case .failure(let error):
                failures.append(UnlabelledFile(file: image.file, reason: "could not be read: \(error)"))
            }
        }
        var records: [EvaluationRecord] = []
        for classifier in classifiers {
            let own = classifier.model.preprocessing, cut = ImageNetCProtocol.preprocessing(for: own)
            for start in stride(from: 0, to: variants.count, by: batchSize) {
                let batch = variants[start..<min(start + batchSize, variants.count)]
                var tensor = Tensor(zeros: [batch.count] + own.tensorShape)
                for (slot, variant) in batch.enumerated() {
                    try (variant.transform?.isCorruption == true ? cut : own).write(variant.picture, into: &tensor, at: slot)
                }
                for (variant, classification) in zip(batch, try classifier.classify(tensor, top: 5, among: classes)) {
                    records.append(EvaluationRecord(file: variant.image.file, truth: variant.image.classIndex, model: classifier.model.name,
                                                    transform: variant.transform?.key, top5: classification.predictions.map(\.index),
                                                    probabilities: classification.predictions.map(\.probability)))
                }
            }
        }
        return (records, failures)
    }

    /// Starts decoding (and transforming) `chunk` on two threads; `wait()` gives the results in chunk order.
    private func prepareInBackground(_ chunk: [LabelledImage], dataset: LabelledDataset) -> PendingResults<[RGBImage]> {
        let cutting = transforms.contains(where: \.isCorruption)
        let shorterSide = classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max()
        let (transforms, workingShorterSide, frost) = (self.transforms, self.workingShorterSide, self.frost)
        return PendingResults.start(count: chunk.count) { index in
            let bytes = try Data(contentsOf: dataset.url(of: chunk[index]))
            let decoder = ImageDecoder()
            let image = try decoder.decode(bytes, minimumShorterSide: shorterSide)
            let working = transforms.contains { !$0.isCorruption } ? image.shrunk(toShorterSide: workingShorterSide) : image
            // ImageNet-C's cut starts from the full-size decode, as PIL's did: shrink-on-load would change its pixels.
            let cut = try cutting ? Corruption.imageNetCrop(decoder.decode(bytes)) : image
            let seed = Corruption.seed(forImageNamed: chunk[index].file)
            return try [image] + transforms.map { (transform) throws -> RGBImage in
                switch transform {
                case let .family(family, level): return try family.apply(to: working, level: level)
                case let .corruption(corruption, severity): return try corruption.apply(to: cut, severity: severity, seed: seed, frost: frost)
                case .corruptionBaseline: return cut
                }
            }
        }
    }
}
