// The tests' inputs and models from outside the package: the sample ImageNet photos in ../shared, and the real
// efficientnet_lite0 from the weights cache (make test fetches it).
import EngineDNNL
import Foundation
import Inference
import ModelFetch
import ModelRegistry
import Models

public enum SamplePhotos {
    /// The bytes of the first `count` photos of ../shared/imagenet-sample, by file name; nil when the folder is absent.
    public static func first(_ count: Int) -> [Data]? {
        guard SharedData.has("imagenet-sample") else { return nil }
        let folder = SharedData.url("imagenet-sample")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        return files.prefix(count).compactMap { FileManager.default.contents(atPath: folder.appendingPathComponent($0).path) }
    }
}

public enum RealModels {
    /// efficientnet_lite0 with its published weights on oneDNN; nil when they are not in the cache.
    public static func efficientnetLite0() throws -> Classifier? {
        let labels = try ImageNetLabels.bundled()
        let loader = ModelLoader(cache: ModelCache(directory: CachedWeights.directory), labels: labels)
        guard let release = try loader.descriptor(named: "efficientnet_lite0").release, CachedWeights.url(release.fileName) != nil else { return nil }
        return try loader.load("efficientnet_lite0", backend: DNNLBackend())
    }
}
