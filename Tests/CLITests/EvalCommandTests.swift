// `blindspot eval` on the sample photos with efficientnet_lite0: its accuracy equals the one computed from
// `classify`'s own answers, a run killed mid-way and resumed gives the same results as one left alone, three
// shards merged equal one whole run, unlabelled files are listed, and bad options are refused.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct EvalCommandTests {
    static var sample: String { SharedData.url("imagenet-sample").path }
    static var ready: Bool { SharedData.has("imagenet-sample") && CachedWeights.url("efficientnet-lite0-57934424.pth") != nil }

    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-eval-\(UUID().uuidString)-\(name)")
    }

    static func results(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func model(_ results: [String: Any]) throws -> [String: Any] {
        try #require((results["models"] as? [[String: Any]])?.first)
    }

    @Test(.enabled(if: ready)) func accuracyEqualsTheOneComputedFromClassifyAnswers() async throws {
        let out = Self.temporary("whole.json")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try await BlindspotBinary.run(["eval", Self.sample, "--model", "efficientnet_lite0", "--out", out.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("efficientnet_lite0  top-1 "), "\(run.output)")
        let results = try Self.results(out)
        #expect(results["images"] as? Int == 100)
        let model = try Self.model(results)

        let classify = try await BlindspotBinary.run(["classify", "--model", "efficientnet_lite0", "--json", Self.sample])
        #expect(classify.status == 0, "\(classify.errors)")
        let labels = try String(contentsOf: SharedData.url("imagenet-classes.tsv"), encoding: .utf8)
        var index: [String: Int] = [:]
        for line in labels.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count >= 2, let number = Int(fields[0]) { index[String(fields[1])] = number }
        }
        var top1 = 0, top5 = 0, count = 0
        for line in classify.output.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let file = try #require(object["file"] as? String)
            let truth = try #require(index[String((file as NSString).lastPathComponent.prefix(9))])
            let predicted = try #require(object["predictions"] as? [[String: Any]]).compactMap { $0["index"] as? Int }
            count += 1
            if predicted.first == truth { top1 += 1 }
            if predicted.prefix(5).contains(truth) { top5 += 1 }
        }
        #expect(count == 100)
        #expect(model["top1"] as? Double == Double(top1) / 100 && model["top5"] as? Double == Double(top5) / 100)
        let interval = try #require(model["top1CI"] as? [Double])
        #expect(interval.count == 2 && interval[0] <= Double(top1) / 100 && Double(top1) / 100 <= interval[1] && interval[0] < interval[1])
        let perClass = try #require(model["perClass"] as? [[String: Any]])
        #expect(perClass.compactMap { $0["correct"] as? Int }.reduce(0, +) == top1)
        #expect(perClass.compactMap { $0["images"] as? Int }.reduce(0, +) == 100)
        let confusions = try #require(model["confusions"] as? [[String: Any]])
        let confused = confusions.compactMap { $0["count"] as? Int }.reduce(0, +)
        #expect(confusions.count == 20 ? confused <= 100 - top1 : confused == 100 - top1, "every wrong answer is one confusion")
    }

    @Test(.enabled(if: ready)) func aKilledRunResumedEqualsAnUninterruptedOne() async throws {
        let whole = Self.temporary("whole.json"), resumed = Self.temporary("resumed.json")
        defer { for url in [whole, resumed] { try? FileManager.default.removeItem(at: url) } }
        let arguments = ["eval", Self.sample, "--model", "efficientnet_lite0", "--transform", "blur:mid", "--transform", "rotate:90", "--limit", "48"]
        let alone = try await BlindspotBinary.run(arguments + ["--out", whole.path])
        #expect(alone.status == 0, "\(alone.errors)")

        let log = resumed.path + ".progress.jsonl"
        // Kill once at least two chunks (2 × 8 images × 3 records) are on disk.
        #expect(try await BlindspotBinary.killed(arguments + ["--out", resumed.path], once: log, has: 48), "killed before it finished")
        #expect(!FileManager.default.fileExists(atPath: resumed.path))

        let again = try await BlindspotBinary.run(arguments + ["--out", resumed.path])
        #expect(again.status != 0 && again.errors.contains("--resume"), "a leftover progress file is not silently overwritten")
        let finished = try await BlindspotBinary.run(arguments + ["--out", resumed.path, "--resume"])
        #expect(finished.status == 0, "\(finished.errors)")
        #expect(!FileManager.default.fileExists(atPath: log), "the progress file goes once the results are written")
        let (first, second) = (try Self.results(whole), try Self.results(resumed))
        #expect(NSDictionary(dictionary: try Self.model(first)).isEqual(to: try Self.model(second)), "the same numbers")
        #expect((first["records"] as? NSArray)?.isEqual(to: second["records"] as? [Any] ?? []) == true, "the same answers, bit for bit")
        #expect(((first["records"] as? [Any])?.count ?? 0) == 144)
    }

    @Test(.enabled(if: ready)) func threeShardsMergedEqualTheWholeRun() async throws {
        let whole = Self.temporary("whole.json"), merged = Self.temporary("merged.json")
        let shards = (0..<3).map { Self.temporary("shard\($0).json") }
        defer { for url in [whole, merged] + shards { try? FileManager.default.removeItem(at: url) } }
        let arguments = ["eval", Self.sample, "--model", "efficientnet_lite0", "--transform", "flip:vertical", "--limit", "60"]
        #expect(try await BlindspotBinary.run(arguments + ["--out", whole.path]).status == 0)
        for (index, shard) in shards.enumerated() {
            let run = try await BlindspotBinary.run(arguments + ["--shard", "\(index)/3", "--out", shard.path])
            #expect(run.status == 0, "\(run.errors)")
            #expect(try Self.results(shard)["images"] as? Int == 20)
        }
        let merge = try await BlindspotBinary.run(["eval", "merge"] + shards.map(\.path) + ["--out", merged.path])
        #expect(merge.status == 0, "\(merge.errors)")
        let (one, joined) = (try Self.results(whole), try Self.results(merged))
        #expect(joined["images"] as? Int == 60)
        let (a, b) = (try Self.model(one), try Self.model(joined))
        for key in ["top1", "top5", "top1CI", "top5CI", "perClass", "confusions", "transforms", "images"] {
            #expect(NSDictionary(dictionary: [key: a[key] ?? NSNull()]).isEqual(to: [key: b[key] ?? NSNull()]), "\(key)")
        }
        let tops = { (results: [String: Any]) in (results["records"] as? [[String: Any]] ?? []).map { "\($0["file"]!) \($0["transform"] ?? "-") \($0["top5"]!)" } }
        #expect(tops(one) == tops(joined), "every image's answer, in the same order")

        // The merged HTML pictures each listed confusion's first example and the 8 most confident clean mistakes,
        // read back from the dataset folder the results name.
        let page = Self.temporary("merged.html")
        defer { try? FileManager.default.removeItem(at: page) }
        #expect(try await BlindspotBinary.run(["eval", "merge"] + shards.map(\.path) + ["--out", page.path]).status == 0)
        let html = try String(contentsOf: page, encoding: .utf8)
        let records = try #require(joined["records"] as? [[String: Any]])
        let wrong = records.filter { $0["transform"] == nil && ($0["top5"] as? [Int])?.first != $0["truth"] as? Int }
        let confusions = try #require(b["confusions"] as? [[String: Any]])
        #expect(!wrong.isEmpty)
        #expect(html.components(separatedBy: "<figure class=\"eval-thumbnail\"><img src=\"data:image/jpeg;base64,").count - 1
            == min(10, confusions.count) + min(8, wrong.count))
        #expect(html.contains("Most confident mistakes"))
    }

    @Test(.enabled(if: ready)) func unlabelledFilesAreListedNotGuessed() async throws {
        let folder = Self.temporary("folder")
        defer { try? FileManager.default.removeItem(at: folder) }
        let manager = FileManager.default
        try manager.createDirectory(at: folder.appendingPathComponent("n01440764"), withIntermediateDirectories: true)
        try manager.createDirectory(at: folder.appendingPathComponent("goldfish"), withIntermediateDirectories: true)
        try manager.createDirectory(at: folder.appendingPathComponent("holidays"), withIntermediateDirectories: true)
        let tench = SharedData.url("imagenet-sample/n01440764_tench.JPEG")
        try manager.copyItem(at: tench, to: folder.appendingPathComponent("n01440764/a.jpg"))
        try manager.copyItem(at: tench, to: folder.appendingPathComponent("goldfish/b.jpg"))
        try manager.copyItem(at: tench, to: folder.appendingPathComponent("holidays/c.jpg"))
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("n01440764/broken.jpg"))
        let out = folder.appendingPathComponent("results.json")
        let run = try await BlindspotBinary.run(["eval", folder.path, "--model", "efficientnet_lite0", "--out", out.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.errors.contains("skipped holidays/c.jpg: folder 'holidays' is neither a WordNet id nor a class name"), "\(run.errors)")
        let results = try Self.results(out)
        #expect(results["images"] as? Int == 2)
        let skipped = try #require(results["unlabelled"] as? [[String: Any]]).compactMap { $0["file"] as? String }
        #expect(skipped.sorted() == ["holidays/c.jpg", "n01440764/broken.jpg"])
        let model = try Self.model(results)
        #expect(model["top1"] as? Double == 0.5, "the tench is right in its own folder and wrong in goldfish/")
    }

    @Test func badOptionsAreRefused() async throws {
        let resume = try await BlindspotBinary.run(["eval", "x", "--resume"])
        #expect(resume.status != 0 && resume.errors.contains("--resume needs --out"), "\(resume.errors)")
        let transform = try await BlindspotBinary.run(["eval", "x", "--transform", "blur:7"])
        #expect(transform.status != 0 && transform.errors.contains("blur's levels are"), "\(transform.errors)")
        let shard = try await BlindspotBinary.run(["eval", "x", "--shard", "3/3"])
        #expect(shard.status != 0 && shard.errors.contains("--shard is K/N"), "\(shard.errors)")
        let format = try await BlindspotBinary.run(["eval", "x", "--out", "results.txt"])
        #expect(format.status != 0 && format.errors.contains(".json, .html, .md or .csv"), "\(format.errors)")
    }
}
