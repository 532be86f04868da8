// swift-tools-version:6.0
// Blindspot: find, show and document where image classifiers fail.
// Targets depend one way (README.md's "How it is built" draws the same graph; a test compares the two):
// Engine ← EngineDNNL, Weights, Onnx, Imaging ← Transforms, Models ← ModelFetch ← Inference (with the ModelService
// protocol) ← ModelRegistry, Analysis, Curation (with Catalog, the store), Bench ← Reports ← WebApp ← blindspot.
import PackageDescription

let package = Package(
    name: "Blindspot",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "blindspot", targets: ["blindspot"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // C libraries from Debian: oneDNN (libdnnl-dev) and libvips (libvips-dev).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CVips", path: "Sources/CVips", pkgConfig: "vips"),
        .target(name: "VipsShim", dependencies: ["CVips"], path: "Sources/VipsShim"),

        .target(name: "Engine"),
        // Running a program to its end: pip, ONNX Runtime, timed commands, the tests' children.
        .target(name: "ChildProcess"),
        // Winograd F(4×4, 3×3) convolutions in C for AVX2 CPUs, where oneDNN 2.6 has none; threads from oneDNN's OpenMP.
        .target(name: "WinogradKernels", linkerSettings: [.linkedLibrary("gomp")]),
        .target(name: "EngineDNNL", dependencies: ["Engine", "CDNNL", "WinogradKernels"]),
        .target(name: "Weights", dependencies: ["Engine"]),
        .target(name: "Onnx", dependencies: ["Engine"]),
        .target(name: "Imaging", dependencies: ["Engine", "VipsShim"]),
        .target(name: "Transforms", dependencies: ["Engine", "Imaging", "VipsShim"]),
        .target(name: "Models", dependencies: ["Engine", "Weights", "Imaging"], resources: [
            .copy("Resources/imagenet-classes.tsv"), .copy("Resources/imagenet-wordnet.tsv"),
            .copy("Resources/imagenet-a-wnids.txt"), .copy("Resources/imagenet-r-wnids.txt"),
        ]),
        .target(name: "ModelFetch", dependencies: [
            "Models", "ChildProcess",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // Running a model: a Classifier, its input pipeline, batching and the bounded analysis queue.
        .target(name: "Inference", dependencies: ["Engine", "Imaging", "Models", "Weights"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        // Which models exist and are served: loading from the cache or ONNX, imported models, the model service.
        .target(name: "ModelRegistry", dependencies: ["Inference", "Engine", "Imaging", "Models", "ModelFetch", "Onnx", "Weights"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        // Finding failures: probes, occlusion heatmaps, superpixels, evaluation of labelled folders.
        .target(name: "Analysis", dependencies: ["Inference", "Engine", "Imaging", "Models", "Transforms"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        // Measuring speed and memory against ONNX Runtime: `blindspot bench`.
        .target(name: "Bench", dependencies: ["Inference", "ModelRegistry", "ChildProcess", "Engine", "EngineDNNL", "Imaging", "Models", "Onnx", "Transforms", "Weights"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        // The blind-spot catalog's rules (reports, verdicts, re-checks), the post's examples and discovered slices.
        .target(name: "Curation", dependencies: ["Inference", "Analysis", "Catalog", "Imaging", "Models"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        .target(name: "Catalog", dependencies: [
            "Imaging",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Reports", dependencies: ["Inference", "Analysis", "Imaging", "Models", "Transforms"],
                swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        .target(name: "WebApp", dependencies: [
            "Inference", "Analysis", "Curation", "Models", "Imaging", "Catalog", "Reports", "Transforms",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Resources/static"), .copy("Resources/openapi.json")],
        // Members of modules this target does not import (GRDB's String.joined for SQL, through Catalog) stay invisible.
        swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        .executableTarget(name: "blindspot-fuzz", dependencies: ["Engine", "Imaging", "Weights", "Onnx"], path: "Tests/Fuzz/Sources"),
        .executableTarget(name: "blindspot", dependencies: [
            "Inference", "ModelRegistry", "Analysis", "Bench", "Curation", "ModelFetch", "Engine", "EngineDNNL", "Models", "Weights", "Onnx", "Imaging", "WebApp", "Catalog", "Reports", "Transforms",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "TestSupport", dependencies: ["Engine", "ChildProcess", "EngineDNNL", "Imaging", "Inference", "ModelFetch", "ModelRegistry", "Models",
                                                 .product(name: "Crypto", package: "swift-crypto")], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine"]),
        .testTarget(name: "EngineDNNLTests", dependencies: ["TestSupport", "Engine", "EngineDNNL", "WinogradKernels"]),
        .testTarget(name: "OnnxTests", dependencies: ["TestSupport", "Engine", "EngineDNNL", "Onnx"]),
        .testTarget(name: "WeightsTests", dependencies: ["TestSupport", "Weights"], exclude: ["Fixtures"]),
        .testTarget(name: "ImagingTests", dependencies: ["TestSupport", "Imaging", "VipsShim"], exclude: ["Fixtures"]),
        .testTarget(name: "TransformsTests", dependencies: ["TestSupport", "Transforms", "Imaging"]),
        .testTarget(name: "ModelsTests", dependencies: ["TestSupport", "Models", "Engine", "EngineDNNL", "Weights", "Imaging", "Onnx"]),
        .testTarget(name: "ModelFetchTests", dependencies: ["TestSupport", "ModelFetch"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "ChildProcess", "blindspot", "Inference", "ModelRegistry", "Analysis", "Bench", "Curation", "Models", "Weights", "Catalog", "Reports", "Transforms", "Imaging"]),
        .testTarget(name: "WebAppTests", dependencies: [
            "TestSupport", "WebApp", "Inference", "ModelRegistry", "Analysis", "Curation", "EngineDNNL", "Models", "Imaging", "ModelFetch", "Catalog", "Transforms",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "CatalogTests", dependencies: ["TestSupport", "Catalog", "Imaging", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "InferenceTests", dependencies: ["TestSupport", "Inference", "ModelRegistry", "Analysis", "EngineDNNL", "Imaging", "ModelFetch", "Models"]),
        .testTarget(name: "ModelRegistryTests", dependencies: ["TestSupport", "ModelRegistry", "Inference", "Analysis", "EngineDNNL", "ModelFetch", "Models"]),
        .testTarget(name: "AnalysisTests", dependencies: ["TestSupport", "Analysis", "Inference", "Engine", "Imaging", "Models", "Transforms"]),
        .testTarget(name: "BenchTests", dependencies: ["TestSupport", "Bench", "ChildProcess", "Engine", "EngineDNNL", "ModelFetch", "ModelRegistry", "Models", "Onnx"]),
    ],
    swiftLanguageModes: [.v6]
)
