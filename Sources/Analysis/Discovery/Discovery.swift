// Discovery from gathered answers: a seeded class-stratified split, the searches on one half, every slice checked on
// the other, suspect labels set aside. Pure computation on DiscoveryInput; reading images is DiscoveryScan's.
import Engine
import Foundation

public struct DiscoverySettings: Sendable {
    public var maximumSlices = 10
    public var minimumSize = 10
    /// The fraction of each class held out.
    public var holdout = 0.5
    public var seed: UInt64 = 0
    /// Keep images with suspect labels in the slice statistics.
    public var keepSuspectLabels = false
    /// The family-wise confidence of the held-out intervals (Bonferroni over the slices checked).
    public var confidence = 0.95

    public init() {}
}

public enum Discovery {
    /// Which images are held out: within each class, a seeded shuffle puts `round(holdout × n)` of its n images in the
    /// held-out half (a class's lone image goes there with probability `holdout`).
    public static func heldOut(_ images: [DiscoveryImage], holdout: Double, seed: UInt64) -> [Bool] {
        var random = SplitMix64(seed: seed ^ 0x5EED_D15C_0BE7)
        var held = Array(repeating: false, count: images.count)
        let byClass = Dictionary(grouping: images.indices, by: { images[$0].truth })
        for label in byClass.keys.sorted() {
            var members = byClass[label] ?? []
            members.shuffle(using: &random)
            let exact = holdout * Double(members.count)
            var count = Int(exact.rounded(.down))
            if Double(random.next() >> 11) / Double(1 << 53) < exact - Double(count) { count += 1 }
            for index in members.prefix(count) { held[index] = true }
        }
        return held
    }

    /// The searches and checks; throws only when features kept in a file cannot be read.
    public static func run(_ input: DiscoveryInput, settings: DiscoverySettings) throws -> DiscoveryResults {
        let held = heldOut(input.images, holdout: settings.holdout, seed: settings.seed)
        var models = try input.models.indices.map { try model(at: $0, input: input, held: held, settings: settings) }
        if input.models.count > 1 { models = models.map { withTransfer($0, input: input, held: held, settings: settings) } }
        let records = zip(input.images, held).map { DiscoveryRecord(file: $0.file, label: input.classNames[$0.truth], heldOut: $1) }
        return DiscoveryResults(dataset: input.dataset, images: input.images.count, seed: settings.seed, holdout: settings.holdout,
                                minimumSize: settings.minimumSize, records: records, models: models)
    }

    /// A slice before its held-out check: what it is, and which of all the images belong to it.
    struct Found {
        let kind: Slice.Kind
        let description: String
        let rule: [SlicePredicate]?
        /// Membership over every image of the input, by position.
        let members: [Bool]
    }

    static func model(at position: Int, input: DiscoveryInput, held: [Bool], settings: DiscoverySettings) throws -> ModelDiscovery {
        let answers = input.models[position]
        let suspects = Set(LabelTriage.suspects(images: input.images, model: position, answers: input.models))
        let counted = input.images.indices.filter { settings.keepSuspectLabels || !suspects.contains($0) }
        let discovery = counted.filter { !held[$0] }
        let heldOut = counted.filter { held[$0] }
        let wrong = input.images.indices.map { answers.answers[$0].predicted != input.images[$0].truth }

        let search = SliceSearch(minimumSize: settings.minimumSize)
        var found = search.candidates(discovery.map { input.images[$0] }, errors: discovery.map { wrong[$0] },
                                      limit: settings.maximumSlices * 2).map { candidate in
            Found(kind: .attribute, description: candidate.rule.map(\.text).joined(separator: " and "), rule: candidate.rule,
                  members: input.images.map { image in candidate.rule.allSatisfy { $0.holds(for: image) } })
        }
        var map: [[Float]]?
        if let features = answers.features, discovery.count >= 2 {
            var fitted = Array(repeating: false, count: input.images.count)
            for index in discovery { fitted[index] = true }
            let coordinates = try EmbeddingSearch(minimumSize: settings.minimumSize, seed: settings.seed).projection(features, fitted: fitted)
                .coordinates(of: features)
            map = coordinates.map { point in [0, 1].map { point.indices.contains($0) ? Float(point[$0]) : 0 } }
            found += embeddingSlices(coordinates: coordinates, input: input, answers: answers, counted: counted, discovery: discovery,
                                     wrong: wrong, settings: settings)
        }
        // Every slice checked on the held-out half counts towards the correction.
        let confidence = 1 - (1 - settings.confidence) / Double(max(found.count, 1))
        let discoveryCheck = HeldOutCheck(errors: discovery.map { wrong[$0] }, seed: settings.seed &+ 1)
        let heldOutCheck = HeldOutCheck(errors: heldOut.map { wrong[$0] }, seed: settings.seed &+ 2)
        var slices: [(slice: Slice, rank: Double)] = []
        for candidate in found {
            let checked = heldOutCheck.numbers(heldOut.map { candidate.members[$0] }, confidence: confidence)
            let members = counted.filter { candidate.members[$0] }
            let slice = Slice(id: "", kind: candidate.kind, description: candidate.description, rule: candidate.rule,
                              members: members.map { input.images[$0].file },
                              discovery: discoveryCheck.numbers(discovery.map { candidate.members[$0] }, confidence: confidence), heldOut: checked,
                              confirmed: checked.size >= minimumHeldOut(settings) && checked.liftCI[0] > 1,
                              confusions: confusions(members.filter { wrong[$0] }, input: input, answers: answers), confidence: confidence)
            slices.append((slice, checked.lift * Double(checked.size)))
        }
        slices.sort { ($0.slice.confirmed ? 1 : 0, $0.rank) > ($1.slice.confirmed ? 1 : 0, $1.rank) }
        var numbers: [Slice.Kind: Int] = [:]
        let ranked = slices.prefix(settings.maximumSlices).map { entry in
            numbers[entry.slice.kind, default: 0] += 1
            return entry.slice.numbered((entry.slice.kind == .attribute ? "a" : "e") + String(numbers[entry.slice.kind] ?? 0))
        }
        let rate = { (indices: [Int]) in HeldOutCheck.rate(indices.count { wrong[$0] }, indices.count) }
        let suspectLabels = suspects.sorted().map { index in
            SuspectLabel(file: input.images[index].file, label: input.classNames[input.images[index].truth],
                         predicted: input.classNames[answers.answers[index].predicted], confidence: answers.answers[index].confidence)
        }
        let recordAnswers = answers.answers.map { RecordAnswer(predicted: input.classNames[$0.predicted], confidence: $0.confidence) }
        return ModelDiscovery(model: answers.model, errorRate: rate(counted), heldOutErrorRate: rate(heldOut), slices: ranked,
                              suspectLabels: suspectLabels, answers: recordAnswers, map: map)
    }

    /// The embedding search's clusters that fail more often than the discovery half, with a positive SliceLine score;
    /// `coordinates` are every image's in the PCA space fitted on the discovery half.
    static func embeddingSlices(coordinates: [[Double]], input: DiscoveryInput, answers: DiscoveryModelAnswers, counted: [Int], discovery: [Int],
                                wrong: [Bool], settings: DiscoverySettings) -> [Found] {
        guard discovery.count >= 2 * settings.minimumSize else { return [] }
        let search = EmbeddingSearch(minimumSize: settings.minimumSize, seed: settings.seed)
        let clusterCount = min(max(2, discovery.count / (2 * settings.minimumSize)), 24)
        let centres = search.clusters(discovery.map { coordinates[$0] }, errors: discovery.map { wrong[$0] }, count: clusterCount)
        let assignment = Dictionary(uniqueKeysWithValues: zip(counted, EmbeddingSearch.nearest(counted.map { coordinates[$0] }, centres: centres)))
        let overall = HeldOutCheck.rate(discovery.count { wrong[$0] }, discovery.count)
        return centres.indices.compactMap { cluster in
            let inDiscovery = discovery.filter { assignment[$0] == cluster }
            let errorRate = HeldOutCheck.rate(inDiscovery.count { wrong[$0] }, inDiscovery.count)
            guard inDiscovery.count >= settings.minimumSize,
                  SliceSearch.score(errorRate: errorRate, size: inDiscovery.count, overallErrorRate: overall, count: discovery.count) > 0 else { return nil }
            let members = input.images.indices.map { assignment[$0] == cluster }
            return Found(kind: .embedding, description: SliceDescription.embedding(members: counted.filter { members[$0] }, input: input,
                                                                                   answers: answers, wrong: wrong, folder: counted),
                         rule: nil, members: members)
        }
    }

    /// `discovered` with every model's held-out error on each of its slices, over the images its own numbers count
    /// (its suspect labels left out unless kept), so that its own row repeats its held-out lift.
    static func withTransfer(_ discovered: ModelDiscovery, input: DiscoveryInput, held: [Bool], settings: DiscoverySettings) -> ModelDiscovery {
        let byFile = Dictionary(uniqueKeysWithValues: input.images.enumerated().map { ($1.file, $0) })
        let suspects = settings.keepSuspectLabels ? [] : Set(discovered.suspectLabels.compactMap { byFile[$0.file] })
        let heldOut = input.images.indices.filter { held[$0] && !suspects.contains($0) }
        let slices = discovered.slices.map { slice -> Slice in
            let members = slice.members.compactMap { byFile[$0] }.filter { held[$0] }
            var updated = slice
            updated.transfer = input.models.map { model in
                func rate(_ indices: [Int]) -> Double {
                    HeldOutCheck.rate(indices.count { model.answers[$0].predicted != input.images[$0].truth }, indices.count)
                }
                let overall = rate(heldOut)
                return Transfer(model: model.model, heldOutErrorRate: rate(members), lift: overall > 0 ? rate(members) / overall : 0)
            }
            return updated
        }
        var updated = discovered
        updated.slices = slices
        return updated
    }

    /// The fewest held-out members a confirmed slice has: half the minimum size, and never under 5, since a bootstrap
    /// of one or two images is no evidence.
    static func minimumHeldOut(_ settings: DiscoverySettings) -> Int {
        max(5, settings.minimumSize / 2)
    }

    /// The most frequent (expected, predicted) pairs among `wrong` images, at most five.
    static func confusions(_ wrong: [Int], input: DiscoveryInput, answers: DiscoveryModelAnswers) -> [Slice.Confusion] {
        var counts: [[Int]: Int] = [:]
        for index in wrong { counts[[input.images[index].truth, answers.answers[index].predicted], default: 0] += 1 }
        return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.lexicographicallyPrecedes($1.key)) }
            .prefix(5).map { Slice.Confusion(expected: input.classNames[$0.key[0]], predicted: input.classNames[$0.key[1]], count: $0.value) }
    }
}

extension Slice {
    func numbered(_ id: String) -> Slice {
        Slice(id: id, kind: kind, description: description, rule: rule, members: members, discovery: discovery, heldOut: heldOut,
              confirmed: confirmed, confusions: confusions, confidence: confidence)
    }
}
