// `blindspot report` as a user runs it (the post's examples filed in a fresh catalog, examined by EfficientNet-Lite0
// with a short probe; evaluation results alone), and EvaluationReport's HTML, Markdown and CSV of hand-made results:
// the numbers, the escaping of outside text, the CSV's quoting.
import Analysis
import Foundation
import Models
import Reports
import Testing
import TestSupport

@Suite struct ReportCommandTests {
    static var lite0Present: Bool { CachedWeights.url("efficientnet-lite0-57934424.pth") != nil }

    @Test(.enabled(if: SharedData.has("seed-examples/examples.json") && lite0Present))
    func documentsTheExamplesCatalog() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-report-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path, out = root.appendingPathComponent("report")
        let imported = try await BlindspotBinary.run(["catalog", "import-examples", SharedData.url("seed-examples").path, "--data", data])
        #expect(imported.status == 0, "\(imported.errors)")

        let start = ContinuousClock.now
        let made = try await BlindspotBinary.run(["report", "--catalog", "--out", out.path, "--data", data,
                                            "--model", "efficientnet_lite0", "--probe-families", "rotate,flip"])
        print("blindspot report --catalog on the 16 examples (efficientnet_lite0, rotate and flip): \(ContinuousClock.now - start)")
        #expect(made.status == 0, "\(made.errors)")

        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        let examples = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: SharedData.url("seed-examples/examples.json"))) as? [String: Any])
        let titles = try #require((examples["examples"] as? [[String: Any]])?.compactMap { $0["title"] as? String })
        #expect(titles.count == 16)
        for title in Set(titles) {
            #expect(html.contains(">\(HTMLText.escape(title))</h2>"), "the category \(title) has its heading")
            #expect(markdown.contains("\n## \(MarkdownText.escape(title))\n"), "the Markdown has the category \(title)")
        }
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<style>") && !html.contains("<script"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("), "nothing is fetched from elsewhere")
        #expect(html.contains("<th scope=\"row\">efficientnet_lite0</th>"), "the model is named")
        #expect(html.components(separatedBy: "<figure class=\"entry-image\"><img src=\"data:image/jpeg;base64,").count - 1 == 16)
        #expect(html.components(separatedBy: "<figure class=\"entry-heatmap\"><img src=\"data:image/jpeg;base64,").count - 1 == 16)
        #expect(html.components(separatedBy: "<table class=\"probe-summary\">").count - 1 == 16, "one probe summary per report")
        #expect(html.contains(">Rotation</th>") && html.contains(">Mirror and upside down</th>") && !html.contains(">Defocus blur</th>"))
        #expect(html.range(of: "<td class=\"digest\">[0-9a-f]{64}</td>", options: .regularExpression) != nil, "the weights' SHA-256")
        let version = try await BlindspotBinary.run(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty && html.contains("Blindspot \(version)"))

        let pictures = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("images").path)
        #expect(pictures.count == 32, "a picture and a heatmap per report")
        for picture in pictures { #expect(markdown.contains("(images/\(picture))"), "report.md shows \(picture)") }
    }

    @Test func evaluationResultsAloneNeedNoModel() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-report-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let results = root.appendingPathComponent("results.json")
        try JSONEncoder().encode(try EvaluationReportTests.sample()).write(to: results)
        let out = root.appendingPathComponent("report")
        let made = try await BlindspotBinary.run(["report", "--eval", results.path, "--out", out.path], environment: ["BLINDSPOT_HOME": root.path])
        #expect(made.status == 0, "\(made.errors)")
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("Evaluation of sample &lt;i&gt;set&lt;/i&gt;") && html.contains("From results.json."))
        #expect(html.contains("75.0%") && !html.contains("id=\"overview\""), "the evaluation only, no catalog")
        #expect(html.contains("<th scope=\"row\">model_a</th>") && html.contains("<td class=\"digest\">feedface</td>"))
        #expect(try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8).contains("## Evaluation of sample &lt;i&gt;set&lt;/i&gt;"))
    }

    @Test func optionsAreChecked() async throws {
        let unknown = try await BlindspotBinary.run(["report", "--out", "r", "--probe-families", "rotate,sideways"])
        #expect(unknown.status != 0 && unknown.errors.contains("unknown family 'sideways'"), "\(unknown.errors)")
        let modelWithoutCatalog = try await BlindspotBinary.run(["report", "--eval", "r.json", "--out", "r", "--model", "efficientnet_lite0"])
        #expect(modelWithoutCatalog.status != 0 && modelWithoutCatalog.errors.contains("add --catalog"), "\(modelWithoutCatalog.errors)")
        let notResults = FileManager.default.temporaryDirectory.appendingPathComponent("not-results-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: notResults) }
        try Data("{\"dataset\": 1}".utf8).write(to: notResults)
        let refused = try await BlindspotBinary.run(["report", "--eval", notResults.path, "--out", "r"])
        #expect(refused.status != 0 && refused.errors.contains("is not the JSON of `blindspot eval`"), "\(refused.errors)")
    }
}

@Suite struct EvaluationReportTests {
    static let hostileFile = "x<b>bold</b>.JPEG"
    static let quotedFile = "d,\"quoted\".JPEG"

    /// Four images of classes 0–3 and two models, clean and blurred (σ 2). model_a: clean 3 of 4 right, blurred 2;
    /// model_b: clean 2 of 4 (top-5: 3 of 4), blurred 1. Only the hostile file is right for one model and wrong for the other.
    static func sample() throws -> EvaluationResults {
        let files = ["n01440764_1.JPEG", "n01443537_2.JPEG", hostileFile, quotedFile]
        func record(_ file: Int, _ model: String, _ transform: String?, _ top5: [Int]) -> EvaluationRecord {
            EvaluationRecord(file: files[file], truth: file, model: model, transform: transform, top5: top5, probabilities: [0.9, 0.04, 0.03, 0.02, 0.01])
        }
        let records = [
            record(0, "model_a", nil, [0, 1, 2, 4, 5]), record(1, "model_a", nil, [1, 0, 2, 4, 5]),
            record(2, "model_a", nil, [2, 0, 1, 4, 5]), record(3, "model_a", nil, [1, 3, 2, 4, 5]),
            record(0, "model_a", "blur:2", [0, 1, 2, 4, 5]), record(1, "model_a", "blur:2", [1, 0, 2, 4, 5]),
            record(2, "model_a", "blur:2", [0, 1, 2, 4, 5]), record(3, "model_a", "blur:2", [1, 0, 2, 4, 5]),
            record(0, "model_b", nil, [0, 1, 2, 4, 5]), record(1, "model_b", nil, [1, 0, 2, 4, 5]),
            record(2, "model_b", nil, [5, 0, 1, 4, 6]), record(3, "model_b", nil, [1, 3, 2, 4, 5]),
            record(0, "model_b", "blur:2", [0, 1, 2, 4, 5]), record(1, "model_b", "blur:2", [0, 1, 2, 4, 5]),
            record(2, "model_b", "blur:2", [5, 0, 1, 4, 6]), record(3, "model_b", "blur:2", [1, 0, 2, 4, 5]),
        ]
        let unlabelled = UnlabelledFile(file: "notes.JPEG", reason: "no <WNID>")
        return EvaluationResults(dataset: "sample <i>set</i>", unlabelled: [unlabelled],
                                 transforms: try EvaluationTransform.parse("blur:2"), records: records,
                                 digests: ["model_a": "feedface", "model_b": "cafe"], labels: try ImageNetLabels.bundled())
    }

    @Test func htmlShowsTheNumbersAndEscapesOutsideText() throws {
        let results = try Self.sample()
        let html = EvaluationReport.fragment(results)
        #expect(html.hasPrefix("<section class=\"eval-report\">"))
        #expect(html.contains("<h2>Evaluation of sample &lt;i&gt;set&lt;/i&gt;</h2>") && !html.contains("<i>"))
        #expect(html.contains("x&lt;b&gt;bold&lt;/b&gt;.JPEG") && !html.contains("<b>"), "file names are text")
        #expect(html.contains("no &lt;WNID&gt;"))
        // The accuracy table: model_a 75.0% top-1, model_b 50.0% top-1 and 75.0% top-5.
        #expect(html.contains("<tr><th scope=\"row\">model_a</th><td class=\"number\">4</td><td class=\"number\">75.0% <span class=\"note\">95% CI"))
        #expect(html.contains("<tr><th scope=\"row\">model_b</th><td class=\"number\">4</td><td class=\"number\">50.0% <span class=\"note\">95% CI"))
        // Robustness: clean first, then the family, then σ 2 with the relative drops (0.75 → 0.5: −33.3%; 0.5 → 0.25: −50.0%).
        let robustness = try #require(html.range(of: "<table class=\"report-table robustness\">").map { String(html[$0.lowerBound...]) })
        #expect(robustness.contains("<tr><th scope=\"row\">Clean</th><td class=\"number\">75.0%</td><td class=\"number\">50.0%</td></tr>\n"
            + "<tr class=\"group\"><th scope=\"rowgroup\" colspan=\"3\">Defocus blur</th></tr>\n"
            + "<tr><th scope=\"row\">σ 2</th><td class=\"number\">50.0% <span class=\"note\">−33.3%</span></td>"
            + "<td class=\"number\">25.0% <span class=\"note\">−50.0%</span></td></tr>"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 1, "one chart: one family")
        #expect(html.contains("<th scope=\"row\">x&lt;b&gt;bold&lt;/b&gt;.JPEG</th><td>great white shark</td><td class=\"ok\">model_a</td><td class=\"flip\">model_b: "),
                "the disagreement")
        let page = EvaluationReport.document(results)
        #expect(page.hasPrefix("<!doctype html>") && page.contains("<style>") && !page.contains("<script"))
    }

    @Test func markdownHasTheSameTables() throws {
        let markdown = EvaluationReport.markdown(try Self.sample())
        #expect(markdown.hasPrefix("# Evaluation of sample &lt;i&gt;set&lt;/i&gt;\n"))
        #expect(markdown.contains("| model\\_a | 4 | 75.0% (95% CI"), "\(markdown)")
        #expect(markdown.contains("| Clean | 75.0% | 50.0% |\n| **Defocus blur** |  |  |\n| σ 2 | 50.0% (−33.3%) | 25.0% (−50.0%) |"))
        #expect(markdown.contains("| x&lt;b&gt;bold&lt;/b&gt;.JPEG | great white shark | model\\_a | model\\_b: "))
        #expect(!markdown.contains("<"), "no raw HTML")
    }

    @Test func csvHasOneQuotedRowPerRecord() throws {
        let csv = EvaluationReport.csv(try Self.sample())
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == "file,truth,true_label,model,transform,top1,top1_label,top1_probability,correct_top1,correct_top5")
        #expect(lines.count == 16 + 2 && lines.last == "", "a header, 16 records, CRLF after each")
        #expect(lines.contains("n01440764_1.JPEG,0,tench,model_a,clean,0,tench,0.900000,true,true"))
        #expect(lines.contains("\"d,\"\"quoted\"\".JPEG\",3,tiger shark,model_b,clean,1,goldfish,0.900000,false,true"))
        #expect(lines.contains("x<b>bold</b>.JPEG,2,great white shark,model_b,blur:2,5,electric ray,0.900000,false,false"))
    }
}
