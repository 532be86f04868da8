// `blindspot catalog`: the catalog as a regression suite (recheck), its export, import and seeding with the post's
// examples, and filing a slice that discovery found. Parses options and calls CatalogService / CatalogArchive.
import Analysis
import ArgumentParser
import Catalog
import Curation
import Foundation
import Imaging
import Inference
import ModelRegistry
import Reports

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Re-check, export and import the catalog of reported blind spots.",
        subcommands: [Recheck.self, Export.self, Import.self, ImportExamples.self, ImportSlice.self, MoveImages.self])

    /// The models present (or `names`), loaded and warmed up, for commands that classify.
    static func loadModels(_ names: [String]?, threading: ThreadOptions, environment: CommandEnvironment) async throws -> ServedModels {
        let service = try ServedModels(loader: environment.loader, names: names, backend: threading.backend())
        service.startLoading { name, state in
            if case .failed(let reason) = state { printError("model \(name) failed to load: \(reason)") }
        }
        await service.waitUntilSettled()
        guard service.isReady else { throw ModelServiceError.noModel }
        return service
    }

    struct Recheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-run every approved report on the present models and record whether each blind spot still holds.")

        @OptionGroup var catalog: CatalogOptions

        @Option(name: .customLong("model"), help: "Only this model (repeatable; default: every model whose weights are present).")
        var models: [String] = []

        @OptionGroup var threading: ThreadOptions

        func validate() throws {
            try OptionCheck.requireModels(models, "--model")
        }

        func run() async throws {
            let environment = try CommandEnvironment()
            let service = try await CatalogCommand.loadModels(models.isEmpty ? nil : models, threading: threading, environment: environment)
            defer { service.shutDown() }
            let bar = ProgressBar(label: "recheck", format: .items("reports"))
            let (summary, description) = try await catalog.withCatalog { store, images, description in
                let catalogService = CatalogService(store: store, images: images, models: service, labels: environment.loader.labels, decoder: ImageDecoder())
                defer { bar.finish() }
                return (try await catalogService.recheck(modelNames: models.isEmpty ? nil : models) { done, total in
                    bar.update(completed: Int64(done), total: Int64(total))
                }, description)
            }
            print("\(description): \(summary.reports) approved reports re-checked on \(service.readySchedulers().map(\.classifier.model.name).joined(separator: ", "))")
            print("  blind spot still holds: \(summary.stillHolding) verdicts; fixed (expected class now first): \(summary.fixed)")
            for change in summary.changed {
                print("  report \(change.id) on \(change.model): expected class rank \(change.before) → \(change.after)\(change.after == 1 ? " (fixed)" : " (new failure)")")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the whole catalog (reports, categories, original images) to a zip file.")

        @OptionGroup var catalog: CatalogOptions

        @Argument(help: "The .zip file to write.")
        var file: String

        func run() async throws {
            try FileCheck.writable(file)
            let contents = try await catalog.withCatalog { store, images, _ in
                try await CatalogArchive.export(store: store, images: images, to: URL(fileURLWithPath: file))
            }
            print("\(file): \(contents.reports.count) reports, \(contents.categories.count) categories, \(Set(contents.reports.map(\.image.sha256)).count) images")
        }
    }

    struct MoveImages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-images",
            abstract: "Copy the images of a file catalog (DIR/images) into the PostgreSQL catalog of --database, checked by SHA-256.",
            discussion: """
            Each image is checked against the SHA-256 it is named after, copied in its own transaction and read back; an \
            image already there is skipped, so a run that stopped is simply run again. The files are left as they are. \
            Exits 1 when an image was refused (its files do not hold what their name says).
            Example: blindspot catalog move-images --from-data ~/.local/share/blindspot --database postgres://blindspot@db/blindspot
            """)

        @Option(name: .customLong("from-data"), help: "The data directory whose images/ folder holds the file catalog's images.")
        var fromData: String

        @OptionGroup var catalog: CatalogOptions

        func validate() throws {
            guard catalog.database != nil else { throw ValidationError("move-images copies into PostgreSQL: give --database postgres://…") }
        }

        func run() async throws {
            let folder = URL(fileURLWithPath: fromData).appendingPathComponent("images")
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandFailure(description: "\(folder.path) is not a folder of catalog images (--from-data takes the data directory that holds images/)")
            }
            let vault = try ImageVault(directory: folder)
            let bar = ProgressBar(label: "move-images", format: .items("images"))
            let (summary, missing, description) = try await catalog.withCatalog { store, images, description in
                let summary = try await ImageMove.move(from: vault, to: images) { done, total in bar.update(completed: Int64(done), total: Int64(total)) }
                var missing = 0
                for sha256 in Set(try await store.allReports().map(\.image.sha256)) where try await !images.contains(sha256: sha256) { missing += 1 }
                return (summary, missing, description)
            }
            bar.finish()
            print("\(description): copied \(summary.copied) images, \(summary.alreadyThere) already there, \(summary.refused.count) refused")
            for (sha256, reason) in summary.refused { printError("refused \(sha256): \(reason)") }
            if missing > 0 { printError("warning: \(missing) image(s) that reports point to are still missing from PostgreSQL") }
            if !summary.refused.isEmpty { throw ExitCode(1) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a zip written by `catalog export` into this catalog (reports keep their ids; images are checked against their SHA-256).")

        @OptionGroup var catalog: CatalogOptions

        @Argument(help: "The .zip file to read.")
        var file: String

        func run() async throws {
            try FileCheck.readable(file, expected: "a zip file")
            let (contents, description) = try await catalog.withCatalog { store, images, description in
                (try await CatalogArchive.importArchive(from: URL(fileURLWithPath: file), into: store, images: images, decoder: ImageDecoder()), description)
            }
            print("\(description): imported \(contents.reports.count) reports and \(contents.categories.count) categories from \(file)")
        }
    }

    struct ImportExamples: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-examples",
            abstract: "File the post's examples (examples.json and its images) as approved reports in their categories, with what each present model says.")

        @OptionGroup var catalog: CatalogOptions

        @Option(help: "The examples folder: examples.json plus the images it names (\(ExamplesFolder.defaultHelp)).")
        var examples: String?

        @Argument(help: "The examples folder, as --examples.")
        var directory: String?

        @OptionGroup var threading: ThreadOptions

        func validate() throws {
            if examples != nil && directory != nil { throw ValidationError("give the examples folder once: --examples DIR or DIR") }
        }

        func run() async throws {
            guard let path = ExamplesFolder.locate(examples ?? directory) else { throw CommandFailure(description: ExamplesFolder.notFound()) }
            try FileCheck.listableDirectory(path)
            let environment = try CommandEnvironment()
            let gallery = try ServeCommand.gallery(at: path, labels: environment.loader.labels)
            guard !gallery.examples.isEmpty else { throw FileProblem(path: path, problem: "has no \(ExampleGallery.descriptionFile)") }
            let service = try await CatalogCommand.loadModels(nil, threading: threading, environment: environment)
            defer { service.shutDown() }
            let (added, description) = try await catalog.withCatalog { store, images, description in
                (try await CatalogService(store: store, images: images, models: service, labels: environment.loader.labels, decoder: ImageDecoder())
                    .importExamples(gallery), description)
            }
            print("\(description): \(added) of \(gallery.examples.count) examples added as approved reports (\(gallery.categories.count) categories)")
        }
    }

    struct ImportSlice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-slice",
            abstract: "File the first images of a slice that `blindspot discover` found as pending reports, in a category titled after the slice.",
            discussion: """
                Each image is expected to be its label (its folder's class, or its WNID_ prefix's) and is judged by every \
                present model, as any report is. The category's finding is the slice's held-out numbers, its intervention \
                and most frequent confusion; importing the slice again reuses the category of the same title, and an image \
                already reported with its class gets a confirmation. The images are read from the results' dataset folder \
                (as written, else relative to the working directory, else to the results file's folder) or from --dataset.

                Example: blindspot catalog import-slice discover.json --slice a1 --limit 8
                """)

        @OptionGroup var catalog: CatalogOptions

        @Argument(help: "Results of `blindspot discover --out FILE.json`.")
        var results: String

        @Option(name: .customLong("slice"), help: ArgumentHelp("The slice's id, as the results and the report name it (a1, e2, …).", valueName: "id"))
        var sliceID: String

        @Option(help: "Take the slice from this model's slices (default: the results' first model).")
        var model: String?

        @Option(help: "The most images to file, taken in the slice's order.")
        var limit = 8

        @Option(help: "The labelled folder the results were made from (default: found from the results' dataset).")
        var dataset: String?

        @OptionGroup var threading: ThreadOptions

        static let limits = 1...1000

        func validate() throws {
            try OptionCheck.require(limit, within: Self.limits, "--limit")
        }

        func run() async throws {
            let results = try DiscoveryResults.read(from: self.results)
            let chosen = try DiscoveredSlice(results, model: model, slice: sliceID, source: URL(fileURLWithPath: self.results).lastPathComponent)
            let folder = try datasetFolder(results)
            let environment = try CommandEnvironment()
            let service = try await CatalogCommand.loadModels(nil, threading: threading, environment: environment)
            defer { service.shutDown() }
            let finding = DiscoveryReport.finding(chosen.slice, model: chosen.model.model, results: results, source: chosen.source)
            let (filing, description) = try await catalog.withCatalog { store, images, description in
                (try await CatalogService(store: store, images: images, models: service, labels: environment.loader.labels, decoder: ImageDecoder())
                    .importSlice(chosen, from: folder, limit: limit, finding: finding, reporter: "blindspot discover"), description)
            }
            for skipped in filing.skipped { printError("warning: skipped \(skipped.file): \(skipped.reason)") }
            guard let category = filing.category, !filing.filed.isEmpty else {
                throw CommandFailure(description: "no image of slice \(chosen.slice.id) could be filed from \(folder.path)")
            }
            print("\(description): category \"\(category.title)\" (\(category.slug), \(filing.madeCategory ? "new" : "already there"))")
            for filed in filing.filed {
                print("  report \(filed.report.id): \(filed.file), expected \(filed.report.expected.label)"
                    + (filed.merged ? " (already reported: a confirmation added)" : ""))
            }
            let new = filing.filed.count { !$0.merged }
            print("\(filing.filed.count) of the \(chosen.slice.members.count) images of slice \(chosen.slice.id) (\(chosen.model.model)) filed as pending reports, "
                + "\(new) new; judged by \(service.readySchedulers().map(\.classifier.model.name).joined(separator: ", "))")
        }

        /// --dataset, else the results' dataset folder where it is found.
        func datasetFolder(_ results: DiscoveryResults) throws -> URL {
            if let dataset {
                try FileCheck.listableDirectory(dataset)
                return URL(fileURLWithPath: dataset, isDirectory: true)
            }
            guard let folder = results.datasetFolder(resultsPath: self.results) else {
                throw CommandFailure(description: results.datasetNotFound(resultsPath: self.results) + "; pass --dataset DIR")
            }
            return folder
        }
    }
}
