// How a catalog report is shown, in the API's JSON and on the pages: the stored report plus its links and, per
// model, the latest verdict (a re-check when newer than the verdict given at report time).
import Catalog
import Foundation

struct VerdictView: Encodable, Sendable, Equatable {
    let model: String
    let weightsDigest: String
    let predictions: [CatalogPrediction]
    let expectedRank: Int
    let expectedProbability: Double
    /// The model did not put the expected class first: the blind spot holds.
    let holds: Bool
    let checkedAt: String
    /// "report" (what the model said when the report was made) or "recheck".
    let kind: String

    init(_ verdict: ModelVerdict, kind: String) {
        model = verdict.model
        weightsDigest = verdict.weightsDigest
        predictions = verdict.predictions
        expectedRank = verdict.expectedRank
        expectedProbability = verdict.expectedProbability
        holds = verdict.holds
        checkedAt = verdict.checkedAt.formatted(.iso8601)
        self.kind = kind
    }
}

struct ReportView: Encodable, Sendable, Equatable {
    struct Expected: Encodable, Sendable, Equatable {
        let index: Int
        let label: String
    }

    let id: Int64
    let status: String
    /// The report's page, "/blindspots/12".
    let url: String
    /// The re-encoded display image, "/api/v1/blindspots/12/image".
    let imageURL: String
    let image: StoredImage
    let expected: Expected
    /// The category's slug, and its title when it exists.
    let category: String?
    let categoryTitle: String?
    let note: String
    let reporter: String?
    let confirmations: Int
    let createdAt: String
    let updatedAt: String
    let verdicts: [VerdictView]
    let rechecks: [VerdictView]
    /// Per model, the latest verdict, in model name order.
    let current: [VerdictView]

    init(_ report: FiledReport, categories: [Category]) {
        id = report.id
        status = report.status.rawValue
        url = "/blindspots/\(report.id)"
        imageURL = "/api/v1/blindspots/\(report.id)/image"
        image = report.image
        expected = Expected(index: report.expected.index, label: report.expected.label)
        category = report.category
        categoryTitle = categories.first { $0.slug == report.category }?.title
        note = report.note
        reporter = report.reporter
        confirmations = report.confirmations
        createdAt = report.createdAt.formatted(.iso8601)
        updatedAt = report.updatedAt.formatted(.iso8601)
        verdicts = report.verdicts.map { VerdictView($0, kind: "report") }
        rechecks = report.rechecks.map { VerdictView($0, kind: "recheck") }
        var latest: [String: (ModelVerdict, String)] = [:]
        for (verdict, kind) in report.verdicts.map({ ($0, "report") }) + report.rechecks.map({ ($0, "recheck") }) {
            if let known = latest[verdict.model], known.0.checkedAt > verdict.checkedAt { continue }
            latest[verdict.model] = (verdict, kind)
        }
        current = latest.keys.sorted().map { VerdictView(latest[$0]!.0, kind: latest[$0]!.1) }
    }
}

/// One page of the catalog as the API lists it.
struct ReportListView: Encodable, Sendable {
    let reports: [ReportView]
    let total: Int
    let page: Int
    let pageSize: Int
}
