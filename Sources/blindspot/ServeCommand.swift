// `blindspot serve`: the web demo and the JSON API. Parses options, builds the parts and hands them to WebApp.
import ArgumentParser
import Catalog
import Curation
import Foundation
import Hummingbird
import Imaging
import Logging
import Inference
import ModelRegistry
import Models
import ServiceLifecycle
import UnixSignals
import WebApp

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web demo and the JSON API.",
        discussion: """
        Open http://127.0.0.1:8080 to try images. Models load in the background; /readyz turns 200 once one is warmed up.
        Examples: blindspot serve --examples ../shared/seed-examples
                  blindspot serve --models efficientnet_lite0,efficientnet_lite2 --port 9000
        """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @OptionGroup var catalog: CatalogOptions

    @Option(help: "A file holding the admin token that moderates the catalog (default: $BLINDSPOT_ADMIN_TOKEN; without either, moderation is off).")
    var adminTokenFile: String?

    @Option(help: "Folder with the post's examples: examples.json plus the images it names (\(ExamplesFolder.defaultHelp)).")
    var examples: String?

    @Flag(name: .customLong("no-catalog-examples"),
          help: "Leave an empty catalog empty; by default the examples are filed in it as approved reports once the models have loaded.")
    var noCatalogExamples = false

    @Option(help: "Comma-separated models to offer (default: every model whose weights are present).")
    var models: String?

    @Option(name: .customLong("weights"), help: "NAME=FILE: a local checkpoint for one model (repeatable).")
    var weights: [String] = []

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Largest inference batch.")
    var maxBatch = 8

    @Option(help: "Milliseconds the inference thread waits for images still being decoded, to batch them.")
    var batchWindowMs = 5.0

    @Option(help: "Images admitted per model (decoding, waiting or in inference) before requests get 503.")
    var queue = 64

    @Option(help: "Largest request body in MB.")
    var maxBodyMb = 20

    @OptionGroup var pixelLimit: PixelLimitOptions

    @Option(help: "Longest image side in pixels (checked from the header before decoding).")
    var maxSide = 20_000

    @Option(help: "Seconds decoding one image may take before it is stopped (422 decode_too_slow).")
    var decodeTimeout = 10.0

    @Option(help: "Most fields a multipart form may have.")
    var maxFormFields = 16

    @Option(help: "Largest form field other than the image, in KB.")
    var maxFieldKb = 64

    @Option(help: "Deepest nesting of arrays and objects a JSON body may have.")
    var maxJsonDepth = 16

    @Option(help: "Requests per second allowed from one client address, on average (0: no limit); beyond it 429 with Retry-After.")
    var rateLimit = 20.0

    @Option(help: "Requests one client address may make at once before the rate applies.")
    var rateBurst = 60.0

    @Option(help: "Seconds a client may take to send a request body (408 beyond it).")
    var bodyTimeout = 30.0

    @Option(help: "Seconds a stopping server (SIGTERM) waits for the requests it admitted: /readyz answers 503 and new requests 503 shutting_down meanwhile; then it exits 0.")
    var shutdownGrace = 20.0

    @Option(help: "This server's name in /metrics (the replica label of every series); default: the host name.")
    var replica: String?

    @Option(help: "Seconds a connection may stay silent before it is closed.")
    var idleTimeout = 60.0

    func validate() throws {
        if host.isEmpty || host.contains(where: \.isWhitespace) { throw ValidationError("--host must be an address or a host name, not '\(host)'") }
        try OptionCheck.require(port, within: 0...65535, "--port")
        try OptionCheck.require(maxBatch, within: OptionCheck.batchSizes, "--max-batch")
        try OptionCheck.require(batchWindowMs, within: 0...10_000, "--batch-window-ms")
        try OptionCheck.require(queue, within: 1...100_000, "--queue")
        try OptionCheck.require(maxBodyMb, within: 1...4096, "--max-body-mb")
        try OptionCheck.require(maxSide, within: 1...100_000, "--max-side")
        try OptionCheck.require(decodeTimeout, within: 0.001...3600, "--decode-timeout")
        try OptionCheck.require(maxFormFields, within: 1...10_000, "--max-form-fields")
        try OptionCheck.require(maxFieldKb, within: 1...4096 * 1024, "--max-field-kb")
        try OptionCheck.require(maxJsonDepth, within: 1...256, "--max-json-depth")
        // Slower than one request in 1000 s would make Retry-After longer than any client waits; 0 turns limiting off.
        if rateLimit != 0 { try OptionCheck.require(rateLimit, within: 0.001...1_000_000, "--rate-limit (0: no limit)") }
        try OptionCheck.require(rateBurst, within: 1...1_000_000, "--rate-burst")
        try OptionCheck.require(bodyTimeout, within: 0.001...86_400, "--body-timeout")
        try OptionCheck.require(idleTimeout, within: 0.001...86_400, "--idle-timeout")
        try OptionCheck.require(shutdownGrace, within: 0...3600, "--shutdown-grace")
        if let replica, replica.isEmpty || replica.count > 200 { throw ValidationError("--replica takes a name of 1 to 200 characters") }
        if let models { try OptionCheck.requireModels(Self.names(models), "--models") }
        try OptionCheck.requireModels(try weightFiles().map(\.name), "--weights")
    }

    /// "a, b" → ["a", "b"].
    static func names(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Each --weights NAME=FILE.
    func weightFiles() throws -> [(name: String, file: String)] {
        try weights.map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--weights takes NAME=FILE, got '\(pair)'") }
            return (parts[0], parts[1])
        }
    }

    func run() async throws {
        let weightFiles = try weightFiles()
        for (_, file) in weightFiles { try FileCheck.readable(file, expected: "a weights file") }
        if let adminTokenFile { try FileCheck.readable(adminTokenFile, expected: "a token file") }
        let environment = try CommandEnvironment()
        let processEnvironment = ProcessInfo.processInfo.environment
        let metrics = ServerMetrics(replica: replica ?? ProcessInfo.processInfo.hostName)
        let scheduling = BatchScheduler.Configuration(maximumBatchSize: maxBatch, batchWindow: .microseconds(Int64(batchWindowMs * 1000)),
                                                      queueCapacity: queue)
        // validate() refuses a model named twice.
        let files = Dictionary(uniqueKeysWithValues: weightFiles.map { ($0.name, URL(fileURLWithPath: $0.file)) })
        let service = try ServedModels(loader: environment.loader, names: models.map(Self.names), weights: files, backend: threading.backend(),
                                       scheduling: scheduling, observer: metrics)
        var configuration = WebConfiguration(host: host, port: port, maximumBodyBytes: maxBodyMb * 1_048_576,
                                             rateLimit: rateLimit > 0 ? RateLimit(perSecond: rateLimit, burst: rateBurst) : nil,
                                             bodyTimeout: .milliseconds(Int64(bodyTimeout * 1000)), idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        configuration.decodeLimits = pixelLimit.applied(to: configuration.decodeLimits)
        configuration.decodeLimits.maximumDecodeSeconds = decodeTimeout
        configuration.decodeLimits.maximumWidth = maxSide
        configuration.decodeLimits.maximumHeight = maxSide
        configuration.maximumFormParts = maxFormFields
        configuration.maximumFieldBytes = maxFieldKb * 1024
        configuration.maximumJSONDepth = maxJsonDepth
        let examplesDirectory = ExamplesFolder.locate(examples)
        let gallery = try examplesDirectory.map { try Self.gallery(at: $0, labels: environment.loader.labels) }
            ?? ExampleGallery(emptyAt: URL(fileURLWithPath: SharedData().folder(ExamplesFolder.name)))
        let (store, images, storeDescription, catalogFailure) = try await catalog.openForServing()
        if let catalogFailure {
            printError("warning: \(catalogFailure); the catalog answers 503 until the server is restarted with usable storage")
        }
        let token = try adminTokenFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? processEnvironment["BLINDSPOT_ADMIN_TOKEN"]
        let admin = AdminAccess(token: token)
        let decoder = ImageDecoder(limits: configuration.decodeLimits)
        let catalogService = CatalogService(store: store, images: images, models: service, labels: environment.loader.labels, decoder: decoder)
        let drain = ServerDrain()
        let dependencies = WebDependencies(models: service, catalog: catalogService, admin: admin, gallery: gallery, labels: environment.loader.labels,
                                           metrics: metrics, drain: drain)

        let offered = service.statuses().filter { if case .notPresent = $0.state { return false } else { return true } }
        if offered.isEmpty { printError("warning: \(ModelServiceError.noModel.description)") }
        if let examplesDirectory {
            say("examples: \(gallery.examples.count) from \(examplesDirectory)\(gallery.examples.isEmpty ? " (none: put examples.json and its images there, or pass --examples DIR)" : "")")
        } else {
            say("examples: none (\(ExamplesFolder.notFound()))")
        }
        say("catalog: \(storeDescription), images in \(images.location); moderation \(admin.isConfigured ? "on" : "off (set BLINDSPOT_ADMIN_TOKEN or --admin-token-file)")")
        service.startLoading { name, state in
            switch state {
            case .ready: say("model \(name) ready")
            case .failed(let reason): printError("model \(name) failed to load: \(reason)")
            case .loading, .notPresent: break
            }
        }
        if !noCatalogExamples && catalogFailure == nil && !gallery.examples.isEmpty {
            Task { await Self.fileExamples(gallery, in: catalogService, models: service) }
        }
        let app = try buildApplication(configuration: configuration, dependencies: dependencies) { port in
            say("Blindspot is serving on http://\(host):\(port) (models loading: \(offered.map(\.model.name).joined(separator: ", ")))")
        }
        try await Self.run(app, drainingOnSIGTERM: drain, grace: .milliseconds(Int64(shutdownGrace * 1000)))
        service.shutDown()
        try await store.close()
    }

    /// Runs `app` until SIGINT, or SIGTERM: then /readyz turns 503 and nothing new is admitted, the requests in
    /// flight get up to `grace` to finish, and the server closes its connections and returns.
    static func run(_ app: some Service, drainingOnSIGTERM drain: ServerDrain, grace: Duration) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigint], logger: Logger(label: "blindspot"))
        // The grace was spent waiting for admitted requests: what still runs after it is cut off, not waited for again.
        configuration.maximumGracefulShutdownDuration = .seconds(2)
        let group = ServiceGroup(configuration: configuration)
        // Each task says whether it was the server's: the server ends the run; the signal's task ending only started that.
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm) {
                    drain.begin()
                    say("SIGTERM: /readyz now answers 503 and new requests 503 shutting_down; finishing \(drain.inFlight) admitted request(s), for at most \(grace)")
                    let left = await drain.waitUntilIdle(within: grace)
                    await group.triggerGracefulShutdown()
                    guard left > 0 else { break }
                    // Work that ignores cancellation (an inference, a probe) would hold the server past its grace: the
                    // process ends here instead. What it acknowledged is already stored; its unanswered requests fail.
                    printError("warning: \(left) request(s) still in flight after \(grace); closing anyway")
                    guard (try? await Task.sleep(for: .seconds(2))) != nil else { break }
                    Foundation.exit(0)
                }
                return false
            }
            for try await serverEnded in tasks where serverEnded {
                tasks.cancelAll()
            }
        }
    }

    /// The examples in the folder `path`; an examples.json there that is not a regular file this process may read
    /// (a FIFO would wait for a writer) is refused before it is opened.
    static func gallery(at path: String, labels: ImageNetLabels) throws -> ExampleGallery {
        let description = (path as NSString).appendingPathComponent(ExampleGallery.descriptionFile)
        if FileManager.default.fileExists(atPath: description) { try FileCheck.readable(description, expected: "a JSON file") }
        return try ExampleGallery(directory: URL(fileURLWithPath: path), labels: labels)
    }

    /// Files the gallery's examples in an empty catalog once the models have loaded (each report records what every
    /// present model says), so `/blindspots` and the categories agree with the home page from the first start.
    private static func fileExamples(_ gallery: ExampleGallery, in catalog: CatalogService, models: ServedModels) async {
        await models.waitUntilSettled()
        guard models.isReady else { return printError("warning: no model loaded; the examples were not filed in the catalog") }
        do {
            guard let added = try await catalog.importExamplesIntoEmptyCatalog(gallery) else { return }
            say("catalog: filed \(added) examples as approved reports in \(gallery.categories.count) categories (--no-catalog-examples leaves it empty)")
        } catch {
            printError("warning: the examples were not filed in the catalog: \(error)")
        }
    }
}

/// Writes a line to standard output at once (print is buffered when output goes to a pipe or a log file).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
