// Models people bring as ONNX files (`blindspot models add`): each is a copy of the file and a manifest with its
// preprocessing under `<cache>/imported/`, listed with the built-in models everywhere a model can be named.
import Engine
import Foundation
import Imaging
import ModelFetch
import Models
import Onnx

/// How an imported model's input is made from a photo.
public struct ImportedPreprocessing: Codable, Sendable, Equatable {
    /// The square input side.
    public var size: Int
    /// The shorter side is resized to size / cropFraction, then the centre size×size is kept (torchvision: 0.875).
    public var cropFraction: Double
    /// Per-channel mean and standard deviation; on the 0–1 scale unless `pixelScale`.
    public var mean: [Float]
    public var standardDeviation: [Float]
    /// Whether mean and deviation apply to 0–255 pixel values (EfficientNet-Lite's (x − 127) / 128).
    public var pixelScale: Bool

    /// Named normalisations: torchvision's ImageNet statistics, Inception's ±1 and EfficientNet-Lite's.
    public static let presets: [String: (mean: [Float], deviation: [Float], pixelScale: Bool)] = [
        "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], false),
        "inception": ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5], false),
        "lite": ([127, 127, 127], [128, 128, 128], true),
    ]

    public init(size: Int, cropFraction: Double, mean: [Float], standardDeviation: [Float], pixelScale: Bool) {
        self.size = size
        self.cropFraction = cropFraction
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.pixelScale = pixelScale
    }

    public var preprocessing: Preprocessing {
        let mean = SIMD3(mean[0], mean[1], mean[2]), deviation = SIMD3(standardDeviation[0], standardDeviation[1], standardDeviation[2])
        return Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: Int((Double(size) / cropFraction).rounded()), crop: size, filter: .bilinear),
                             normalization: pixelScale ? .standardize(mean: mean, standardDeviation: deviation)
                                 : .unitScaleThenStandardize(mean: mean, standardDeviation: deviation))
    }

    /// Refuses values no photo pipeline could use.
    public func validate() throws {
        guard (16...2048).contains(size) else { throw ImportedModelError.invalid("the input size must be 16…2048, not \(size)") }
        guard cropFraction > 0.2, cropFraction <= 1 else { throw ImportedModelError.invalid("the crop fraction must be in (0.2, 1], not \(cropFraction)") }
        guard mean.count == 3, standardDeviation.count == 3, standardDeviation.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw ImportedModelError.invalid("mean and standard deviation need 3 finite values each, deviations above 0")
        }
    }
}

public struct ImportedModelManifest: Codable, Sendable, Equatable {
    public var name: String
    public var preprocessing: ImportedPreprocessing
    /// SHA-256 of the ONNX file.
    public var sha256: String
    /// Where the file was added from, and when.
    public var source: String
    public var added: Date
    public var producer: String
}

public enum ImportedModelError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case nameTaken(String)
    case unknown(String)

    public var description: String {
        switch self {
        case .invalid(let reason): return reason
        case .nameTaken(let name): return "'\(name)' is already a model name; choose another or `blindspot models remove \(name)` first"
        case .unknown(let name): return "no imported model is called '\(name)'"
        }
    }
}

public struct ImportedModels: Sendable {
    public let directory: URL

    public init(cache: ModelCache) {
        directory = cache.directory.appendingPathComponent("imported", isDirectory: true)
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name + ".onnx") }
    func manifestFile(_ name: String) -> URL { directory.appendingPathComponent(name + ".json") }

    /// Every imported model with a readable manifest, by name; a broken manifest is skipped with its reason.
    public func manifests() -> (manifests: [ImportedModelManifest], problems: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return ([], []) }
        var manifests: [ImportedModelManifest] = [], problems: [String] = []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for name in names.sorted() where name.hasSuffix(".json") {
            do {
                let manifest = try decoder.decode(ImportedModelManifest.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
                try manifest.preprocessing.validate()
                manifests.append(manifest)
            } catch {
                problems.append("\(name): \(error)")
            }
        }
        return (manifests, problems)
    }

    public func descriptors() -> [ModelDescriptor] {
        manifests().manifests.map { ModelDescriptor(importedName: $0.name, preprocessing: $0.preprocessing.preprocessing, file: file($0.name)) }
    }

    public static func validName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) } && !name.hasPrefix(".")
    }

    /// Checks that `source` imports and fits the preprocessing that `preprocessing` makes (given the input side
    /// the file declares, if any), then stores a copy and its manifest. `zoo` holds the names already taken.
    public func add(name: String, source: URL, zoo: ModelZoo, classes: Int,
                    preprocessing makePreprocessing: (_ declaredSide: Int?) throws -> ImportedPreprocessing) throws -> (ImportedModelManifest, ImportedNetwork) {
        guard Self.validName(name) else { throw ImportedModelError.invalid("a model name is 1–64 letters, digits, '_', '-' or '.'") }
        guard zoo.model(named: name) == nil else { throw ImportedModelError.nameTaken(name) }
        let data = try Data(contentsOf: source, options: .alwaysMapped)
        let model = try OnnxModel(serialized: data)
        let preprocessing = try makePreprocessing(model.declaredInputSide)
        try preprocessing.validate()
        let network = try OnnxImporter.network(from: model, name: name, inputSize: Size2D(square: preprocessing.size))
        guard network.graph.inputShape == [3, preprocessing.size, preprocessing.size] else {
            throw ImportedModelError.invalid("the network takes \(network.graph.inputShape); the preprocessing makes [3, \(preprocessing.size), \(preprocessing.size)] (set --input-size)")
        }
        guard network.graph.outputShape == [classes] else {
            throw ImportedModelError.invalid("the network gives \(network.graph.outputShape) outputs; Blindspot's labels are the \(classes) ImageNet classes")
        }
        let manifest = ImportedModelManifest(name: name, preprocessing: preprocessing, sha256: try ModelCache.sha256(ofFileAt: source),
                                             source: source.path, added: Date(), producer: network.producer)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try data.write(to: file(name), options: .atomic)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(manifest).write(to: manifestFile(name), options: .atomic)
        return (manifest, network)
    }

    public func remove(_ name: String) throws {
        guard FileManager.default.fileExists(atPath: manifestFile(name).path) else { throw ImportedModelError.unknown(name) }
        try FileManager.default.removeItem(at: manifestFile(name))
        try? FileManager.default.removeItem(at: file(name))
    }
}
