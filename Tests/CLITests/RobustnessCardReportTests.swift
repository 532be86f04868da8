// The robustness card as the HTML and Markdown reports lay it out, on hand-made records (no corruption is run): the
// headline names its normaliser, the heatmap shades each error with the number in it, the card's transforms stay out of
// the generic robustness table, and the SVGs are there.
import Analysis
import Foundation
import Models
import Reports
import Testing
import Transforms

@Suite struct RobustnessCardReportTests {
    /// Four images per transform; the first `wrong` answered 2 instead of 1.
    static func records(_ model: String, _ transform: EvaluationTransform?, wrong: Int) -> [EvaluationRecord] {
        (0..<4).map { image in
            EvaluationRecord(file: "image-\(image).jpg", truth: 1, model: model, transform: transform?.key,
                             top5: [image < wrong ? 2 : 1], probabilities: [0.62])
        }
    }

    /// "big" errs (0, 1, 1, 2, 2)/4 on fog and (0, 0, 1, 1, 1)/4 on brightness, "small" (1, 2, 2, 3, 4)/4 and
    /// (1, 1, 1, 2, 2)/4, with clean-crop errors 0 and 1/4: CE 50% and 3/7, mean 13/28 = 46.4%; relative 6/7 and
    /// 150%, mean 33/28 = 117.9% (worked out in RobustnessCardTests).
    static func results(referenceModel: String?) throws -> EvaluationResults {
        var records: [EvaluationRecord] = []
        let transforms: [EvaluationTransform] = [.corruptionBaseline] + (1...5).map { .corruption(.fog, severity: $0) }
            + (1...5).map { .corruption(.brightness, severity: $0) }
        let errors: [String: [Int]] = ["big": [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 1], "small": [1, 1, 2, 2, 3, 4, 1, 1, 1, 2, 2]]
        for (model, wrong) in errors {
            records += Self.records(model, nil, wrong: 0)
            for (transform, count) in zip(transforms, wrong) { records += Self.records(model, transform, wrong: count) }
        }
        return EvaluationResults(dataset: "photos", unlabelled: [], transforms: transforms,
                                 robustness: RobustnessPlan(referenceModel: referenceModel, frost: "procedural ice"),
                                 records: records, digests: [:], labels: try ImageNetLabels.bundled())
    }

    @Test func theHTMLCardShowsTheNumbersAndNamesItsNormaliser() throws {
        let html = EvaluationReport.fragment(try Self.results(referenceModel: "small"))
        #expect(html.contains("Robustness card (ImageNet-C)") && html.contains("Frost: procedural ice."))
        #expect(html.contains("centre 224 × 224 crop") && html.contains("not re-encoded as JPEG"))
        #expect(html.contains("reference-normalised mean CE 46.4% · relative 117.9% · ECE 38.0% (not mCE)"), "\(html)")
        #expect(html.contains("<tr><th scope=\"row\">Fog</th><td class=\"heat-0 number\">0.0%</td><td class=\"heat-2 number\">25.0%</td>"
            + "<td class=\"heat-2 number\">25.0%</td><td class=\"heat-5 number\">50.0%</td><td class=\"heat-5 number\">50.0%</td>"
            + "<td class=\"mean number\">50.0%</td><td class=\"number\">85.7%</td></tr>"))
        #expect(!html.contains("<table class=\"report-table robustness\">"), "the card's transforms are not listed again")
        #expect(html.contains("reliability on the clean images, ECE 38.0%") && html.contains("aria-label=\"big: reliability diagram\""))
        #expect(html.contains("aria-label=\"big: CE per corruption\""))
        // small is its own reference.
        #expect(html.contains("reference-normalised mean CE 100.0% · relative 100.0%"))
    }

    @Test func alexNetsCardIsCalledMCEAndMarkdownHasTheHeatmap() throws {
        let results = try Self.results(referenceModel: nil)
        let html = EvaluationReport.fragment(results)
        #expect(html.contains("AlexNet&#39;s published ImageNet-C errors") && html.contains(">mCE "))
        #expect(!html.contains("reference-normalised mean CE"))
        let markdown = EvaluationReport.markdown(try Self.results(referenceModel: "small"))
        #expect(markdown.contains("| Fog | 0.0% | 25.0% | 25.0% | 50.0% | 50.0% | 50.0% | 85.7% |"), "\(markdown)")
        #expect(markdown.contains("ECE 38.0% on the clean images"))
    }
}
