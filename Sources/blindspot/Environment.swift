// What every command builds the same way: the model cache, the class list, the loader and the backend, and the
// parsing of a list of transformation families.
import ArgumentParser
import Curation
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
        loader = ModelLoader(zoo: ModelZoo.standard.adding(imported.descriptors()), cache: cache, labels: try ImageNetLabels.bundled())
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// "rotate, blur,imagenet-c:fog" → those probe families; an unknown name is a usage error that lists the families.
func parseProbeFamilies(_ text: String) throws -> [ProbeFamily] {
    let families: [ProbeFamily]
    do {
        families = try ProbeFamily.list(text)
    } catch {
        throw ValidationError(error.description)
    }
    guard !families.isEmpty else { throw ValidationError("name at least one family: \(ProbeFamily.all.map(\.rawValue).joined(separator: ", "))") }
    return families
}

/// The project's shared data (the post's examples, sample photos, peer models), looked for in one order by every
/// command: $BLINDSPOT_SHARED, then ../shared from the working directory, then the `shared` folder beside the
/// repository the running executable was built in (…/repo/.build/release/blindspot → …/shared).
struct SharedData {
    /// The folders that may be the shared data, in the order they are tried, each once.
    let candidates: [String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment, executable: String? = SharedData.executablePath()) {
        var candidates: [String] = []
        if let shared = environment["BLINDSPOT_SHARED"], !shared.isEmpty { candidates.append(shared) }
        candidates.append("../shared")
        if let executable, let build = executable.range(of: "/.build/", options: .backwards) {
            candidates.append(URL(fileURLWithPath: String(executable[..<build.lowerBound])).deletingLastPathComponent().appendingPathComponent("shared").path)
        }
        // Absolute, so a message saying where it looked is clear from any folder.
        var seen = Set<String>()
        self.candidates = candidates.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.filter { seen.insert($0).inserted }
    }

    /// `name` in the first candidate that holds `marker` inside it (or `name` itself when no marker is given).
    func locate(_ name: String, holding marker: String? = nil) -> String? {
        places(name).first { place in FileManager.default.fileExists(atPath: marker.map { "\(place)/\($0)" } ?? place) }
    }

    /// `locate(name)`, else `name` in the first candidate (for a message saying it is missing).
    func folder(_ name: String) -> String {
        locate(name) ?? places(name).first ?? name
    }

    /// `name` in every candidate, in order.
    func places(_ name: String) -> [String] {
        candidates.map { "\($0)/\(name)" }
    }

    /// The running executable, symbolic links resolved.
    static func executablePath() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }
}

/// Where the post's examples are: `--examples` when given, else the first shared-data folder with a seed-examples
/// folder holding examples.json. The same search for `serve` and `catalog import-examples`.
enum ExamplesFolder {
    static let name = "seed-examples"
    /// What `--help` says about the default.
    static let defaultHelp = "default: the first that holds \(ExampleGallery.descriptionFile) of $BLINDSPOT_SHARED/\(name), ../shared/\(name) and shared/\(name) beside the repository this executable was built in"

    /// The folder to read: `explicit` as given, else the search's find; nil when nothing was found.
    static func locate(_ explicit: String?, shared: SharedData = SharedData()) -> String? {
        explicit ?? shared.locate(name, holding: ExampleGallery.descriptionFile)
    }

    /// Why no examples were found, naming every place looked at and how to point at them.
    static func notFound(shared: SharedData = SharedData()) -> String {
        "no examples found: looked for \(ExampleGallery.descriptionFile) in \(shared.places(name).joined(separator: ", ")); pass --examples DIR or set BLINDSPOT_SHARED to the folder holding \(name)"
    }
}
