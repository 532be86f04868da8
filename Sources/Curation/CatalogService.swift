// The catalog's work that needs the models: making a report (image into the vault, what every ready model says,
// the category), keeping each report's verdicts current for the models present, re-checking the catalog as a
// regression suite, deleting with image clean-up, and importing the post's examples. Storage is CatalogStore's.
import Catalog
import Foundation
import Imaging
import Inference
import Models

/// A category as a reporter gives it: an existing slug, or a title for a new one.
public enum CategoryChoice: Sendable, Equatable {
    case existing(slug: String)
    case new(title: String)
}

public struct RecheckSummary: Sendable, Equatable {
    public var reports = 0
    /// Verdicts whose blind spot still holds (the expected class is not the model's first).
    public var stillHolding = 0
    /// Verdicts that no longer hold: the model now gets it right.
    public var fixed = 0
    /// Reports that held at report time for a model and no longer do, or the other way round.
    public var changed: [(id: Int64, model: String, before: Int, after: Int)] = []

    public static func == (left: RecheckSummary, right: RecheckSummary) -> Bool {
        left.reports == right.reports && left.stillHolding == right.stillHolding && left.fixed == right.fixed
            && left.changed.map { "\($0.id) \($0.model) \($0.before) \($0.after)" } == right.changed.map { "\($0.id) \($0.model) \($0.before) \($0.after)" }
    }
}

/// Whether the catalog can take reports now.
public enum CatalogHealth: Sendable, Equatable {
    case ready
    /// Open, but its data directory takes no reports now (read-only, or nearly full); it recovers once that is fixed.
    case degraded(StorageFault)
    /// Could not be opened when the server started; unavailable until a restart.
    case unavailable(StorageFault)
}

public struct CatalogService: Sendable {
    public let store: any CatalogStore
    public let images: any ImageStore
    public let models: any ModelService
    public let labels: ImageNetLabels
    public let decoder: ImageDecoder

    /// Serialises, per image, keeping it with filing a report, and deleting a report with removing its image, so a
    /// delete can never remove the files of a report being filed at the same moment (within this process).
    private let imageLocks = KeyedLock()

    public init(store: any CatalogStore, images: any ImageStore, models: any ModelService, labels: ImageNetLabels, decoder: ImageDecoder) {
        self.store = store
        self.images = images
        self.models = models
        self.labels = labels
        self.decoder = decoder
    }

    /// The catalog's state for readiness: the store that could not be opened, or what the data directory's file system
    /// says now (a database elsewhere, PostgreSQL, is not asked).
    public func health() -> CatalogHealth {
        if let store = store as? UnavailableCatalogStore { return .unavailable(store.fault) }
        if let directory = images.healthDirectory, let diagnosis = StorageFault.diagnose(directory: directory) { return .degraded(diagnosis.fault) }
        return .ready
    }

    /// Files a report: checks and keeps the image, asks every ready model, and stores it as pending (or adds a
    /// confirmation to the same image reported with the same class). At least one model must be ready.
    public func report(image bytes: Data, expected: Int, note: String, category: CategoryChoice?, reporter: String?) async throws -> (report: FiledReport, merged: Bool) {
        guard labels.entries.indices.contains(expected) else { throw CatalogError.invalid("class \(expected) is not an ImageNet class (0-999)") }
        let schedulers = models.readySchedulers()
        guard !schedulers.isEmpty else { throw ModelServiceError.noModel }
        let verdicts = try await judge(bytes, expected: expected, with: schedulers)
        let slug = try await categorySlug(for: category)
        let reporter = reporter.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let sha256 = ImageVault.sha256(of: bytes)
        return try await imageLocks.withLock(sha256) {
            // The image first: kept (files flushed) before the row that points to them, or, where the store keeps images
            // itself, always handed to it with the row, so that the transaction holds the image even when another server
            // deletes that image's last report meanwhile. Files kept already are not encoded again.
            var stored = try await Self.offThread { [decoder] in try ImageVault.measure(bytes, decoder: decoder) }
            var encoded: EncodedImage?
            let kept = images.keepsImagesWithReports ? false : try await images.contains(sha256: sha256)
            if !kept {
                let image = try await Self.offThread { [decoder] in try ImageVault.encode(bytes, decoder: decoder) }
                stored = image.stored
                if images.keepsImagesWithReports { encoded = image } else { try await images.write(image) }
            }
            return try await store.add(NewFiledReport(image: stored, expected: CatalogClass(index: expected, label: labels[expected].name),
                                                 category: slug, note: note, reporter: reporter, verdicts: verdicts, encoded: encoded))
        }
    }

    /// `report` with a verdict from every ready model whose current weights have not judged it yet (recorded as
    /// re-checks), so pages show what each present model says now.
    public func current(_ report: FiledReport) async throws -> FiledReport {
        let known = Set((report.verdicts + report.rechecks).map { "\($0.model) \($0.weightsDigest)" })
        let missing = models.readySchedulers().filter { scheduler in
            guard let digest = models.weightsDigest(of: scheduler.classifier.model.name) else { return false }
            return !known.contains("\(scheduler.classifier.model.name) \(digest)")
        }
        guard !missing.isEmpty, let bytes = try await images.original(sha256: report.image.sha256) else { return report }
        try await store.recordRecheck(of: report.id, verdicts: try await judge(bytes, expected: report.expected.index, with: missing))
        return try await store.report(id: report.id) ?? report
    }

    /// Re-runs every approved report on the ready models (or only `modelNames`) and records the verdicts.
    public func recheck(modelNames: [String]? = nil, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> RecheckSummary {
        var schedulers = models.readySchedulers()
        if let modelNames { schedulers = schedulers.filter { modelNames.contains($0.classifier.model.name) } }
        guard !schedulers.isEmpty else { throw ModelServiceError.noModel }
        let reports = try await store.allReports().filter { $0.status == .approved }
        var summary = RecheckSummary()
        for (done, report) in reports.enumerated() {
            guard let bytes = try await images.original(sha256: report.image.sha256) else {
                throw CatalogError.storage(.failed, detail: "the image of report \(report.id) (\(report.image.sha256)) is missing from \(images.location)")
            }
            let verdicts = try await judge(bytes, expected: report.expected.index, with: schedulers)
            try await store.recordRecheck(of: report.id, verdicts: verdicts)
            summary.reports += 1
            for verdict in verdicts {
                if verdict.holds { summary.stillHolding += 1 } else { summary.fixed += 1 }
                if let before = report.verdicts.first(where: { $0.model == verdict.model }), before.holds != verdict.holds {
                    summary.changed.append((report.id, verdict.model, before.expectedRank, verdict.expectedRank))
                }
            }
            progress(done + 1, reports.count)
        }
        return summary
    }

    /// Deletes a report, and its image when no other report uses it.
    public func delete(id: Int64) async throws -> FiledReport? {
        guard let report = try await store.report(id: id) else { return nil }
        return try await imageLocks.withLock(report.image.sha256) {
            guard let deleted = try await store.delete(id: id) else { return nil }
            try await images.removeIfUnreferenced(sha256: deleted.image.sha256, store: store)
            return deleted
        }
    }

    /// Files the examples of `gallery` (with their categories and findings) as approved reports, one per example
    /// and expected class set's first class. Returns how many were new.
    public func importExamples(_ gallery: ExampleGallery) async throws -> Int {
        var added = 0
        for category in gallery.categories {
            try await store.ensureCategory(Category(slug: category.slug, title: category.title, finding: category.finding))
            for example in category.examples {
                guard let file = gallery.imageFile(of: example), let bytes = FileManager.default.contents(atPath: file.path) else {
                    throw CatalogError.invalid("the image of example \(example.id) (\(example.file)) is not in \(gallery.directory.path)")
                }
                let (report, merged) = try await self.report(image: bytes, expected: example.expected[0].index,
                                                             note: "From the post: \(example.finding)", category: .existing(slug: category.slug),
                                                             reporter: "What Inception Net Doesn't See")
                if !merged {
                    added += 1
                    _ = try await store.setStatus(.approved, of: report.id)
                }
            }
        }
        return added
    }

    /// `importExamples(gallery)` into a catalog that has no report yet (of any status), so a fresh server's catalog
    /// agrees with its gallery; a catalog with reports, this one's earlier import included, is left as it is, so a
    /// restart never files them twice. Returns how many were added, nil when the catalog already had reports.
    public func importExamplesIntoEmptyCatalog(_ gallery: ExampleGallery) async throws -> Int? {
        guard try await store.list(ReportQuery(pageSize: 1)).total == 0 else { return nil }
        return try await importExamples(gallery)
    }

    /// What each scheduler's model says about `bytes`, with the expected class's rank.
    private func judge(_ bytes: Data, expected: Int, with schedulers: [BatchScheduler]) async throws -> [ModelVerdict] {
        var verdicts: [ModelVerdict] = []
        for scheduler in schedulers {
            let decoder = decoder
            let result = try await scheduler.classify(top: 5) { try scheduler.classifier.prepare(bytes, decoder: decoder) }
            let probabilities = result.classification.probabilities
            let rank = result.classification.rank(of: expected)
            let name = scheduler.classifier.model.name
            verdicts.append(ModelVerdict(
                model: name, weightsDigest: models.weightsDigest(of: name) ?? "unknown",
                predictions: result.classification.predictions.map { CatalogPrediction(index: $0.index, label: $0.label, probability: $0.probability) },
                expectedRank: rank, expectedProbability: probabilities[expected], checkedAt: Date()))
        }
        return verdicts
    }

    private func categorySlug(for choice: CategoryChoice?) async throws -> String? {
        switch choice {
        case nil:
            return nil
        case .existing(let slug):
            guard try await store.categories().contains(where: { $0.slug == slug }) else {
                throw CatalogError.invalid("there is no category '\(slug)'")
            }
            return slug
        case .new(let title):
            let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let slug = Category.slug(for: title) else { throw CatalogError.invalid("a category title needs letters or digits") }
            try await store.ensureCategory(Category(slug: slug, title: title))
            return slug
        }
    }

    /// Runs blocking file and image work on a dispatch thread, not on Swift's cooperative pool.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// Mutual exclusion per key for async work: callers with the same key run one after another, others in parallel.
final class KeyedLock: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`: the keys held, each with the callers waiting for it.
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { continuation in
            let runNow = lock.withLock { () -> Bool in
                if waiting[key] == nil {
                    waiting[key] = []
                    return true
                }
                waiting[key]!.append(continuation)
                return false
            }
            if runNow { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[key] = queue
            return first
        }
        next?.resume()
    }
}
