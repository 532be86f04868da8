// What `blindspot bench` measured, as one Codable document: a section per kind of measurement (absent when not
// run) and every target with its measured value and whether it was met. Rendering is the command's job.
import Foundation

/// One goal from the performance issue, checked against one measurement.
public struct BenchmarkTarget: Sendable, Codable, Equatable {
    public enum Comparison: String, Sendable, Codable {
        case atMost = "<="
        case atLeast = ">="
    }

    public let section: BenchmarkSection
    public let name: String
    public let measured: Double
    public let comparison: Comparison
    public let limit: Double
    public let unit: String
    public let met: Bool

    public init(section: BenchmarkSection, name: String, measured: Double, _ comparison: Comparison, _ limit: Double, unit: String) {
        self.section = section
        self.name = name
        self.measured = measured
        self.comparison = comparison
        self.limit = limit
        self.unit = unit
        met = switch comparison {
        case .atMost: measured <= limit
        case .atLeast: measured >= limit
        }
    }
}

public enum BenchmarkSection: String, Sendable, Codable, CaseIterable {
    /// Forward passes next to ONNX Runtime.
    case forward
    /// Effective GFLOP/s against oneDNN's sgemm on the same threads.
    case peak
    /// Peak resident memory of a fresh process that loads a model and classifies one image.
    case memory
    /// Process start to exit of `blindspot classify` on one image.
    case startup
    /// Decode, orientation and preprocessing of JPEGs of several sizes.
    case image
    /// Every transformation family's levels applied to a sample photo, as probes and `eval --transform` apply them.
    case transforms
    /// ImageNet-C's corruptions, each severity, on ImageNet-C crops of sample photos, beside EfficientNet-Lite0's batch-1 pass.
    case corruptions
    /// `blindspot serve` under concurrent clients, and its batch window.
    case server
    /// How cost grows with batch size, image size and concurrent clients.
    case scaling
}

public struct ForwardComparison: Sendable, Codable, Equatable {
    public let model: String
    public let batch: Int
    public let threads: Int
    public let blindspot: BenchmarkResult
    public let onnxruntime: BenchmarkResult?
    /// Blindspot's time per batch ÷ ONNX Runtime's (below 1 is faster).
    public let timeRatio: Double?
    /// Blindspot's images/s ÷ ONNX Runtime's (above 1 is faster).
    public let throughputRatio: Double?

    public init(blindspot: BenchmarkResult, onnxruntime: BenchmarkResult?) {
        model = blindspot.model
        batch = blindspot.batch
        threads = blindspot.threads
        self.blindspot = blindspot
        self.onnxruntime = onnxruntime
        timeRatio = onnxruntime.map { blindspot.msPerBatch / $0.msPerBatch }
        throughputRatio = onnxruntime.map { blindspot.imagesPerSecond / $0.imagesPerSecond }
    }
}

public struct PeakUtilisation: Sendable, Codable, Equatable {
    public let model: String
    public let threads: Int
    /// 2 × multiply-accumulates of the graph's convolutions and linear layers, per image.
    public let gflopPerImage: Double
    public let batch: Int
    public let imagesPerSecond: Double
    public let effectiveGflops: Double
    public let sgemmSize: Int
    public let sgemmGflops: Double
    /// effectiveGflops ÷ sgemmGflops.
    public let fractionOfPeak: Double
}

public struct MemoryMeasurement: Sendable, Codable, Equatable {
    public let model: String
    public let weightsMB: Double
    /// VmHWM of a fresh process that loaded the model and classified one image (`blindspot bench-child`).
    public let peakResidentMB: Double
    /// 1.3 × weightsMB + 100.
    public let boundMB: Double
}

public struct StartupMeasurement: Sendable, Codable, Equatable {
    public let model: String
    public let syntheticWeights: Bool
    /// Process start to exit, one per timed run (after one untimed run that fills the page cache).
    public let seconds: [Double]
    public let medianSeconds: Double
}

public struct ImagePathMeasurement: Sendable, Codable, Equatable {
    public let model: String
    public let width: Int
    public let height: Int
    public let jpegBytes: Int
    /// The JPEG scale divisor decoding used (1, 2, 4 or 8).
    public let shrinkOnLoad: Int
    /// The whole path as the server runs it: decode, orient, crop, resize, normalise.
    public let totalMs: Double
    public let decodeMs: Double
    /// Decoding at full size, for comparison: what shrink-on-load saves.
    public let decodeFullSizeMs: Double
    public let resizeMs: Double
    public let normaliseMs: Double
}

public struct ServerRun: Sendable, Codable, Equatable {
    public let batchWindowMs: Double
    public let load: LoadResult
    /// Images/s ÷ the engine's images/s at the largest batch.
    public let fractionOfEngine: Double
}

public struct ServerMeasurement: Sendable, Codable, Equatable {
    public let model: String
    public let syntheticWeights: Bool
    public let imageWidth: Int
    public let imageHeight: Int
    public let maxBatch: Int
    public let queue: Int
    public let threads: Int
    public let engineBatch: Int
    public let engineImagesPerSecond: Double
    public let runs: [ServerRun]
}

public struct ImageSizeCost: Sendable, Codable, Equatable {
    public let model: String
    public let width: Int
    public let height: Int
    public let prepareMs: Double
    /// Preparing the image plus a batch-1 forward pass: one image's latency on an idle machine.
    public let prepareAndForwardMs: Double
}

public struct ScalingTables: Sendable, Codable, Equatable {
    public let batch: [BenchmarkResult]
    public let imageSize: [ImageSizeCost]
    /// Server runs at the default batch window, one per client count.
    public let clients: [ServerRunOfModel]
}

public struct ServerRunOfModel: Sendable, Codable, Equatable {
    public let model: String
    public let run: ServerRun
}

public struct MachineDescription: Sendable, Codable, Equatable {
    public let instructionSet: String
    public let cores: Int
    public let threads: Int
    public let onnxRuntime: String?
    public let runs: Int
    public let warmup: Int
}

/// One transformation family on one photo: each level's median time, summarised.
public struct TransformTiming: Sendable, Codable, Equatable {
    public let family: String
    public let width: Int
    public let height: Int
    public let levels: Int
    /// The median over levels of each level's median time.
    public let medianMs: Double
    public let slowestMs: Double
    public let slowestLevel: String

    public init(family: String, width: Int, height: Int, levels: Int, medianMs: Double, slowestMs: Double, slowestLevel: String) {
        (self.family, self.width, self.height, self.levels, self.medianMs, self.slowestMs, self.slowestLevel)
            = (family, width, height, levels, medianMs, slowestMs, slowestLevel)
    }
}

/// One ImageNet-C corruption: each severity's median time per image, summarised.
public struct CorruptionTiming: Sendable, Codable, Equatable {
    public let corruption: String
    /// One of the 15 mCE averages over (not held out).
    public let common: Bool
    /// The median over severities of each severity's median time per image.
    public let medianMs: Double
    public let slowestMs: Double
    public let slowestSeverity: Int

    public init(corruption: String, common: Bool, medianMs: Double, slowestMs: Double, slowestSeverity: Int) {
        (self.corruption, self.common, self.medianMs, self.slowestMs, self.slowestSeverity) = (corruption, common, medianMs, slowestMs, slowestSeverity)
    }
}

/// The corruptions section: every corruption's timing on `images` crops of `width`×`height`, and the classification
/// they are compared with.
public struct CorruptionTimings: Sendable, Codable, Equatable {
    public let images: Int
    public let width: Int
    public let height: Int
    public let corruptions: [CorruptionTiming]
    /// The mean over the 15 common corruptions of their median time per image.
    public let commonMeanMs: Double
    public let classifier: String
    /// The classifier's batch-1 forward pass on one image, median.
    public let classifyMs: Double

    public init(images: Int, width: Int, height: Int, corruptions: [CorruptionTiming], commonMeanMs: Double, classifier: String, classifyMs: Double) {
        (self.images, self.width, self.height, self.corruptions, self.commonMeanMs, self.classifier, self.classifyMs)
            = (images, width, height, corruptions, commonMeanMs, classifier, classifyMs)
    }
}

public struct BenchmarkDocument: Sendable, Codable, Equatable {
    public var machine: MachineDescription
    public var forward: [ForwardComparison]?
    public var peak: [PeakUtilisation]?
    public var memory: [MemoryMeasurement]?
    public var startup: [StartupMeasurement]?
    public var image: [ImagePathMeasurement]?
    public var transforms: [TransformTiming]?
    public var corruptions: CorruptionTimings?
    public var server: [ServerMeasurement]?
    public var scaling: ScalingTables?
    public var targets: [BenchmarkTarget] = []

    public init(machine: MachineDescription) {
        self.machine = machine
    }
}
