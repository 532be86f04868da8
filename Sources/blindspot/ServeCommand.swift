// `blindspot serve`: the web demo and the JSON API. Parses options, builds the parts and hands them to WebApp.
import ArgumentParser
import Core
import EngineDNNL
import Foundation
import Hummingbird
import Catalog
import Imaging
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

    @Option(help: "Folder with the post's examples: examples.json plus the images it names (default: $BLINDSPOT_SHARED/seed-examples, else ../shared/seed-examples).")
    var examples: String?

    @Option(help: "Comma-separated models to offer (default: every model whose weights are present).")
    var models: String?

    @Option(name: .customLong("weights"), help: "NAME=FILE: a local checkpoint for one model (repeatable).")
    var weights: [String] = []

    @Option(help: "CPU threads for inference (default: all cores).")
    var threads: Int?

    @Option(help: "Largest inference batch.")
    var maxBatch = 8

    @Option(help: "Milliseconds the inference thread waits for images still being decoded, to batch them.")
    var batchWindowMs = 5.0

    @Option(help: "Images admitted per model (decoding, waiting or in inference) before requests get 503.")
    var queue = 64

    @Option(help: "Largest request body in MB.")
    var maxBodyMb = 20

    @Option(help: "Largest image in megapixels (checked from the header before decoding).")
    var maxMegapixels = 50.0

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

    @Option(help: "Seconds a connection may stay silent before it is closed.")
    var idleTimeout = 60.0

    func validate() throws {
        if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1") }
        if queue < 1 { throw ValidationError("--queue must be at least 1") }
        if batchWindowMs < 0 { throw ValidationError("--batch-window-ms cannot be negative") }
        if maxBodyMb < 1 { throw ValidationError("--max-body-mb must be at least 1") }
        if rateLimit < 0 || rateBurst < 1 { throw ValidationError("--rate-limit cannot be negative and --rate-burst must be at least 1") }
        if bodyTimeout <= 0 || idleTimeout <= 0 { throw ValidationError("--body-timeout and --idle-timeout must be positive") }
        if decodeTimeout <= 0 || maxMegapixels <= 0 || maxSide < 1 {
            throw ValidationError("--decode-timeout, --max-megapixels and --max-side must be positive")
        }
        if maxFormFields < 1 || maxFieldKb < 1 || maxJsonDepth < 1 {
            throw ValidationError("--max-form-fields, --max-field-kb and --max-json-depth must be at least 1")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        for pair in weights where pair.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--weights takes NAME=FILE, got '\(pair)'")
        }
    }

    func run() async throws {
        let environment = try CommandEnvironment()
        let processEnvironment = ProcessInfo.processInfo.environment
        let metrics = ServerMetrics()
        let scheduling = BatchScheduler.Configuration(maximumBatchSize: maxBatch, batchWindow: .microseconds(Int64(batchWindowMs * 1000)),
                                                      queueCapacity: queue)
        var files: [String: URL] = [:]
        for pair in weights {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            files[parts[0]] = URL(fileURLWithPath: parts[1])
        }
        let service = try ModelService(loader: environment.loader, names: models?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                       weights: files, backend: DNNLBackend(threads: threads), scheduling: scheduling, observer: metrics)
        var configuration = WebConfiguration(host: host, port: port, maximumBodyBytes: maxBodyMb * 1_048_576,
                                             rateLimit: rateLimit > 0 ? RateLimit(perSecond: rateLimit, burst: rateBurst) : nil,
                                             bodyTimeout: .milliseconds(Int64(bodyTimeout * 1000)), idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        configuration.decodeLimits.maximumMegapixels = maxMegapixels
        configuration.decodeLimits.maximumDecodeSeconds = decodeTimeout
        configuration.decodeLimits.maximumWidth = maxSide
        configuration.decodeLimits.maximumHeight = maxSide
        configuration.maximumFormParts = maxFormFields
        configuration.maximumFieldBytes = maxFieldKb * 1024
        configuration.maximumJSONDepth = maxJsonDepth
        let examplesDirectory = URL(fileURLWithPath: examples ?? Self.defaultExamplesDirectory(processEnvironment))
        let gallery = try ExampleGallery(directory: examplesDirectory, labels: environment.loader.labels)
        let (store, vault, storeDescription, catalogFailure) = try await catalog.openForServing()
        if let catalogFailure {
            printError("warning: \(catalogFailure); the catalog answers 503 until the server is restarted with usable storage")
        }
        let token = try adminTokenFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? processEnvironment["BLINDSPOT_ADMIN_TOKEN"]
        let admin = AdminAccess(token: token)
        let decoder = ImageDecoder(limits: configuration.decodeLimits)
        let dependencies = WebDependencies(
            models: service, catalog: CatalogService(store: store, vault: vault, models: service, labels: environment.loader.labels, decoder: decoder),
            admin: admin, gallery: gallery, labels: environment.loader.labels, metrics: metrics)

        let offered = service.statuses().filter { if case .notPresent = $0.state { return false } else { return true } }
        if offered.isEmpty { printError("warning: \(ModelServiceError.noModel.description)") }
        say("examples: \(gallery.examples.count) from \(examplesDirectory.path)\(gallery.examples.isEmpty ? " (none: put examples.json and its images there, or pass --examples DIR)" : "")")
        say("catalog: \(storeDescription), images in \(vault.directory.path); moderation \(admin.isConfigured ? "on" : "off (set BLINDSPOT_ADMIN_TOKEN or --admin-token-file)")")
        service.startLoading { name, state in
            switch state {
            case .ready: say("model \(name) ready")
            case .failed(let reason): printError("model \(name) failed to load: \(reason)")
            case .loading, .notPresent: break
            }
        }
        let app = try buildApplication(configuration: configuration, dependencies: dependencies) { port in
            say("Blindspot is serving on http://\(host):\(port) (models loading: \(offered.map(\.model.name).joined(separator: ", ")))")
        }
        try await app.runService()
        service.shutDown()
        try await store.close()
    }

    static func defaultExamplesDirectory(_ environment: [String: String]) -> String {
        let shared = environment["BLINDSPOT_SHARED"].flatMap { $0.isEmpty ? nil : $0 } ?? "../shared"
        return shared + "/seed-examples"
    }
}

/// Writes a line to standard output at once (print is buffered when output goes to a pipe or a log file).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
