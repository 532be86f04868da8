// `blindspot eval --robustness-card`, `--subset` and ImageNet-C transforms through the binary: bad options refused with
// what to write, outputs masked to ImageNet-R's classes, and a card end to end with efficientnet_lite0 on sample photos
// (that one needs ImageNet-C's corruptions built: until then it is skipped, saying so).
import Foundation
import Imaging
import TestSupport
import Testing
import Transforms

@Suite(.serialized) struct RobustnessCardCommandTests {
    /// Whether `Corruption.apply` makes pictures yet (the pixel code comes separately); prints why not.
    static var corruptionsWork: Bool {
        let grey = RGBImage(width: 48, height: 48, pixels: Array(repeating: 128, count: 48 * 48 * 3))
        for corruption in Corruption.allCases {
            do {
                _ = try corruption.apply(to: grey, severity: 1, seed: 1)
            } catch {
                print("SKIP: ImageNet-C's corruptions are not built yet (\(error))")
                return false
            }
        }
        return true
    }

    @Test func badOptionsAreRefusedSayingWhatToWrite() async throws {
        let cases: [([String], String)] = [
            (["--transform", "imagenet-c:fog:7"], "severities are 1 to 5"),
            (["--transform", "imagenet-c:rain"], "'rain' is not one of ImageNet-C's corruptions"),
            (["--reference-model", "efficientnet_lite0"], "add --robustness-card"),
            (["--robustness-card", "--reference-model", "alexnet"], "unknown model 'alexnet'"),
            (["--subset", "imagenet-z"], "--subset is one of imagenet-a, imagenet-r"),
            (["--frost-textures", "/tmp"], "--frost-textures serves ImageNet-C's frost"),
            (["--transform", "imagenet-c:fog:3", "--transform", "imagenet-c:fog"], "gives imagenet-c:fog:3 twice"),
        ]
        for (options, message) in cases {
            let run = try await BlindspotBinary.run(["eval", "/nonexistent-folder"] + options)
            #expect(run.status != 0 && run.errors.contains(message), "\(options): \(run.errors)")
        }
    }

    @Test(.enabled(if: EvalCommandTests.ready)) func aSubsetMasksEveryAnswerToItsClasses() async throws {
        let out = EvalCommandTests.temporary("subset.json")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try await BlindspotBinary.run(["eval", EvalCommandTests.sample, "--model", "efficientnet_lite0", "--subset", "imagenet-r",
                                                 "--limit", "8", "--out", out.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("outputs masked to ImageNet-R's 200 classes"), "\(run.output)")
        let results = try EvalCommandTests.results(out)
        #expect(results["subset"] as? String == "imagenet-r")
        let wordNetIDs = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Models/Resources/imagenet-r-wnids.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        let labels = try String(contentsOf: SharedData.url("imagenet-classes.tsv"), encoding: .utf8)
        var index: [String: Int] = [:]
        for line in labels.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count >= 2, let number = Int(fields[0]) { index[String(fields[1])] = number }
        }
        let allowed = Set(wordNetIDs.compactMap { index[$0] })
        #expect(allowed.count == 200)
        let records = try #require(results["records"] as? [[String: Any]])
        #expect(records.count == 8)
        for record in records {
            let top5 = try #require(record["top5"] as? [Int])
            let probabilities = try #require(record["probabilities"] as? [Double])
            #expect(top5.count == 5 && top5.allSatisfy(allowed.contains), "\(top5)")
            #expect(probabilities.reduce(0, +) <= 1 + 1e-9 && probabilities == probabilities.sorted(by: >))
        }
    }

    /// Needs the merged corruptions. efficientnet_lite0 is its own reference here, so every defined CE is exactly 1 and
    /// a CE whose reference error is 0 at every severity (likely on 4 images) is null with its reason.
    @Test(.enabled(if: EvalCommandTests.ready && corruptionsWork)) func aCardEndToEnd() async throws {
        let out = EvalCommandTests.temporary("card.json"), page = EvalCommandTests.temporary("card.html")
        defer { for url in [out, page] { try? FileManager.default.removeItem(at: url) } }
        let run = try await BlindspotBinary.run(["eval", EvalCommandTests.sample, "--model", "efficientnet_lite0", "--robustness-card",
                                                 "--reference-model", "efficientnet_lite0", "--limit", "4", "--out", out.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("ImageNet-C: reference-normalised mean CE"), "\(run.output)")
        let results = try EvalCommandTests.results(out)
        #expect((results["transforms"] as? [Any])?.count == 96)
        #expect((results["records"] as? [Any])?.count == 4 * 97, "clean, the clean crop and 19 × 5 corruptions per image")
        let card = try #require(try EvalCommandTests.model(results)["robustness"] as? [String: Any])
        #expect((card["corruptions"] as? [Any])?.count == 95)
        let ce = try #require(card["ce"] as? [String: Any])
        let undefined = try #require(card["undefined"] as? [String: String])
        let anyDefined = Corruption.common.contains { ce[$0.rawValue] is Double }
        #expect(card["mCE"] == nil && (anyDefined ? card["referenceMCE"] as? Double == 1.0 : card["referenceMCE"] is NSNull))
        #expect(ce.count == 19)
        for (name, value) in ce {
            #expect(value as? Double == 1.0 || (value is NSNull && undefined[name] != nil), "\(name): \(value)")
        }
        let bins = try #require(card["reliability"] as? [[String: Any]])
        #expect(bins.count == 15 && bins.compactMap { $0["count"] as? Int }.reduce(0, +) == 4)

        let merge = try await BlindspotBinary.run(["eval", "merge", out.path, "--out", page.path])
        #expect(merge.status == 0, "\(merge.errors)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.contains("Robustness card (ImageNet-C)") && html.contains("reference-normalised") && html.contains("robustness-heatmap"))
        #expect(html.contains("reliability on the clean images, ECE") && html.contains("Frost: procedural"))
    }
}
