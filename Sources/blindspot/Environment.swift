// What every command builds the same way: the model cache, the class list, the loader and the backend, and the
// parsing of a list of transformation families.
import ArgumentParser
import Foundation
import Inference
import ModelFetch
import ModelRegistry
import Models
import Transforms

/// Options naming a model and how to run it.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model name (see `blindspot models list`); default: inception_v3 if present, else the best present model.")
    var model: String?

    @Option(name: .long, help: "A local checkpoint (.pth or .safetensors), or an ONNX file of the same network, to use instead of the cached weights.")
    var weights: String?

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        if weights != nil && model == nil { throw ValidationError("--weights needs --model to say which network the file holds") }
        if let model { try OptionCheck.requireModels([model], "--model") }
    }

    /// The model, loaded; a --weights file that cannot be read is refused before anything is loaded.
    func loadClassifier(_ environment: CommandEnvironment) throws -> Classifier {
        if let weights { try FileCheck.readable(weights, expected: "a weights file") }
        return try environment.loader.load(model, weights: weights.map { URL(fileURLWithPath: $0) }, backend: threading.backend())
    }
}

struct CommandEnvironment {
    let cache: ModelCache
    let imported: ImportedModels
    let loader: ModelLoader

    /// The built-in models and those added from ONNX files.
    init() throws {
        cache = ModelCache(environment: ProcessInfo.processInfo.environment)
        imported = ImportedModels(cache: cache)
        loader = ModelLoader(catalog: ModelCatalog.standard.adding(imported.descriptors()), cache: cache, labels: try ImageNetLabels.bundled())
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// "rotate, blur,noise" → those families; an unknown name is a usage error that lists the families.
func transformFamilies(_ text: String) throws -> [TransformFamily] {
    let families: [TransformFamily]
    do {
        families = try TransformFamily.list(text)
    } catch {
        throw ValidationError(error.description)
    }
    guard !families.isEmpty else { throw ValidationError("name at least one family: \(TransformFamily.allCases.map(\.rawValue).joined(separator: ", "))") }
    return families
}
