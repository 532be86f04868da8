// `blindspot report`: a self-contained static report of the blind spots — the catalog's approved reports examined by
// every model now, evaluation and discovery results — as DIR/index.html (pictures inline) and DIR/report.md (with
// DIR/images/). Reads the catalog and the results, loads the models; examining and rendering are BlindSpotReport's.
import Analysis
import ArgumentParser
import Catalog
import Foundation
import Imaging
import ModelFetch
import Models
import Reports
import Transforms

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained report of the blind spots: the catalog's reports examined by every model, evaluation and discovery results.",
        discussion: """
            Writes DIR/index.html (one file: pictures inline, no script, prints well) and DIR/report.md with its pictures \
            in DIR/images/. Without --eval or --discover, the catalog is documented; with either, add --catalog for both.

            A discovery's thumbnails are read from its dataset folder: as written in the results, else relative to the \
            working directory, else to the results file's folder; when it is nowhere, the report has no thumbnails.

            Example: blindspot report --catalog --eval results.json --discover discover.json --out report
            """)

    @Flag(help: "Document the catalog's approved reports (the default without --eval and --discover).")
    var catalog = false

    @Option(name: .customLong("eval"), parsing: .upToNextOption, help: "Results of `blindspot eval` (JSON) to include; several may follow.")
    var evaluations: [String] = []

    @Option(name: .customLong("discover"), parsing: .upToNextOption,
            help: "Results of `blindspot discover` (JSON) to include, with thumbnails from their dataset folder; several may follow.")
    var discoveries: [String] = []

    @Option(help: "The folder to write index.html, report.md and images/ into (created if needed).")
    var out: String

    @OptionGroup var store: CatalogOptions

    @Option(name: .customLong("model"),
            help: "Examine the catalog with this model (repeatable; default: every model whose weights are present, best first). The first draws the heatmaps.")
    var models: [String] = []

    @Option(name: .customLong("probe-families"),
            help: "Comma-separated families each report's image goes through (default: \(BlindSpotReport.defaultProbeFamilies.map(\.rawValue).joined(separator: ","))).")
    var probeFamilies: String?

    @OptionGroup var threading: ThreadOptions

    var includesCatalog: Bool { catalog || (evaluations.isEmpty && discoveries.isEmpty) }

    func validate() throws {
        try OptionCheck.requireModels(models, "--model")
        if !includesCatalog && (!models.isEmpty || probeFamilies != nil) {
            throw ValidationError("--model and --probe-families are for the catalog's part; add --catalog")
        }
        _ = try families()
    }

    func families() throws -> [ProbeFamily] {
        try probeFamilies.map(parseProbeFamilies) ?? BlindSpotReport.defaultProbeFamilies
    }

    func run() async throws {
        let date = Date()
        try FileCheck.writable(out, directory: true)
        let environment = try CommandEnvironment()
        let evaluations = try self.evaluations.map { path in
            BlindSpotReport.Evaluation(source: URL(fileURLWithPath: path).lastPathComponent, results: try EvaluationResults.read(from: path))
        }
        let discoveries = try self.discoveries.enumerated().map { number, path in
            try Self.discovery(at: path, picturesNamed: "discovery-\(number + 1)")
        }
        let plan = ProbePlan(families: try families())
        var records: [BlindSpotReport.ModelRecord] = []
        var sections: [BlindSpotReport.Section]?
        if includesCatalog {
            let examined = try await examineCatalog(environment: environment, plan: plan)
            if examined.sections.isEmpty {
                // An empty report would look like a catalog without blind spots; with results to show, only warn.
                let nothing = "the catalog has no approved blind spots"
                guard !evaluations.isEmpty || !discoveries.isEmpty else { throw CommandFailure(description: "\(nothing); nothing to report (approve reports in the web app, or run `blindspot catalog import-examples`)") }
                printError("warning: \(nothing); the report has only the \(evaluations.isEmpty ? "discovery" : discoveries.isEmpty ? "evaluation" : "evaluation and discovery") results")
            }
            sections = examined.sections
            records = examined.models
        }
        for model in evaluations.flatMap(\.results.models) where !records.contains(where: { $0.name == model.model }) {
            records.append(BlindSpotReport.ModelRecord(name: model.model, weightsFile: nil, weightsDigest: model.weightsDigest,
                                                       preprocessing: environment.loader.zoo.model(named: model.model)?.preprocessing))
        }
        for name in discoveries.flatMap({ $0.results.models.map(\.model) }) where !records.contains(where: { $0.name == name }) {
            records.append(BlindSpotReport.ModelRecord(name: name, weightsFile: nil, weightsDigest: nil,
                                                       preprocessing: environment.loader.zoo.model(named: name)?.preprocessing))
        }
        let report = BlindSpotReport(catalog: sections, evaluations: evaluations, discoveries: discoveries, provenance: BlindSpotReport.Provenance(
            version: Blindspot.version, date: date, commandLine: Self.commandLine(CommandLine.arguments), models: records,
            probe: includesCatalog ? plan : nil))

        let folder = URL(fileURLWithPath: out, isDirectory: true)
        let images = folder.appendingPathComponent("images", isDirectory: true)
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let html = Data(report.html().utf8)
        try html.write(to: folder.appendingPathComponent("index.html"))
        try Data(report.markdown().utf8).write(to: folder.appendingPathComponent("report.md"))
        for picture in report.pictures { try picture.data.write(to: images.appendingPathComponent(picture.fileName)) }
        print("\(folder.appendingPathComponent("index.html").path): \(html.count / 1024) KB, self-contained")
        print("\(folder.appendingPathComponent("report.md").path) with \(report.pictures.count) pictures in \(images.path)")
    }

    /// The discovery results at `path` with the thumbnails of the files the report pictures (named `prefix-N.jpg`),
    /// read from their dataset folder; when that folder is not found, a warning, and no thumbnails.
    static func discovery(at path: String, picturesNamed prefix: String) throws -> BlindSpotReport.Discovery {
        let results = try DiscoveryResults.read(from: path)
        let source = URL(fileURLWithPath: path).lastPathComponent
        guard let folder = results.datasetFolder(resultsPath: path) else {
            printError("warning: " + results.datasetNotFound(resultsPath: path) + "; its slices are shown without thumbnails")
            return BlindSpotReport.Discovery(source: source, results: results, pictures: [:])
        }
        let pictures = OutputFormat.thumbnails(of: DiscoveryReport.picturedFiles(results), in: folder, named: prefix)
        return BlindSpotReport.Discovery(source: source, results: results, pictures: pictures)
    }

    /// The approved reports by category, each examined by the models, and the models' records.
    private func examineCatalog(environment: CommandEnvironment, plan: ProbePlan)
        async throws -> (sections: [BlindSpotReport.Section], models: [BlindSpotReport.ModelRecord]) {
        // The store stays open while the images are read (PostgreSQL keeps them).
        let (catalogStore, images, _) = try await store.open()
        do {
            let result = try await examine(catalogStore, images, environment: environment, plan: plan)
            try await catalogStore.close()
            return result
        } catch {
            try? await catalogStore.close()
            throw error
        }
    }

    private func examine(_ store: any CatalogStore, _ images: any ImageStore, environment: CommandEnvironment, plan: ProbePlan)
        async throws -> (sections: [BlindSpotReport.Section], models: [BlindSpotReport.ModelRecord]) {
        let categories = try await store.categories()
        let reports = try await store.allReports().filter { $0.status == .approved }.sorted { $0.id < $1.id }
        guard !reports.isEmpty else { return ([], []) }
        let loader = environment.loader
        let names = models.isEmpty ? loader.presentModels().map(\.name) : models
        guard !names.isEmpty else { throw CommandFailure(description: "no model is present; fetch one with `blindspot models fetch efficientnet_lite0`") }
        let classifiers = try names.map { try loader.load($0, backend: threading.backend()) }
        let records = try classifiers.map { classifier in
            let file = try loader.cachedWeights(of: classifier.model).map { ($0.lastPathComponent, try ModelCache.sha256(ofFileAt: $0)) }
            return BlindSpotReport.ModelRecord(name: classifier.model.name, weightsFile: file?.0, weightsDigest: file?.1,
                                               preprocessing: classifier.model.preprocessing)
        }

        let shorterSide = classifiers.compactMap(\.model.preprocessing.sourceShorterSide).max()
        let bar = ProgressBar(label: "report", format: .items("reports"))
        var entries: [Int64: BlindSpotReport.Entry] = [:]
        for (done, report) in reports.enumerated() {
            bar.update(completed: Int64(done), total: Int64(reports.count))
            guard let bytes = try await images.original(sha256: report.image.sha256) else {
                throw CatalogError.storage(.failed, detail: "the image of report \(report.id) (\(report.image.sha256)) is missing from \(images.location)")
            }
            let image = try ImageDecoder().decode(bytes, minimumShorterSide: shorterSide)
            entries[report.id] = try BlindSpotReport.examine(
                id: report.id, image: image, expected: ExampleClass(index: report.expected.index, name: report.expected.label),
                note: report.note, reporter: report.reporter, classifiers: classifiers, plan: plan)
        }
        bar.update(completed: Int64(reports.count), total: Int64(reports.count))
        bar.finish()

        let known = Set(categories.map(\.slug))
        var sections = categories.compactMap { category -> BlindSpotReport.Section? in
            let mine = reports.filter { $0.category == category.slug }.compactMap { entries[$0.id] }
            return mine.isEmpty ? nil : BlindSpotReport.Section(title: category.title, finding: category.finding, entries: mine)
        }
        let uncategorised = reports.filter { $0.category.map { !known.contains($0) } ?? true }.compactMap { entries[$0.id] }
        if !uncategorised.isEmpty {
            sections.append(BlindSpotReport.Section(title: "Without a category", finding: "", entries: uncategorised))
        }
        return (sections, records)
    }

    /// The command as typed, for the report: shell-quoted where needed, with any database password hidden.
    static func commandLine(_ arguments: [String]) -> String {
        var words = ["blindspot"]
        var previous = ""
        for argument in arguments.dropFirst() {
            var word = argument
            if previous == "--database" { word = CatalogOptions.withoutPassword(argument) }
            if argument.hasPrefix("--database=") { word = "--database=" + CatalogOptions.withoutPassword(String(argument.dropFirst(11))) }
            let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@+%".contains($0)) }
            words.append(plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'")
            previous = argument
        }
        return words.joined(separator: " ")
    }
}
