// The fast backend: runs Graphs with oneDNN (Debian's libdnnl), one cached plan per batch size.
// The only code in Blindspot that calls oneDNN; everything above it sees the Backend protocol.
import CDNNL
import Engine
import Foundation

public struct DNNLBackend: Backend {
    private let engine: DNNLEngine
    private let winogradAllowance: Double
    private let timesWinograd: Bool

    /// The memory Winograd may add to a prepared graph per image of its largest batch, as a fraction of its weights'
    /// bytes. For one image, half of the 30% above the weights that the memory goal allows (1.3 × weights + 100 MB, the
    /// 100 MB being the program's and the activations'). A graph planned for N images may add N times as much: the
    /// multiply-adds Winograd saves grow N-fold, as the activations do, while its weights are made once.
    public static let defaultWinogradAllowance = 0.15

    /// - Parameter threads: OpenMP threads for every oneDNN primitive in this process (nil: all cores).
    ///   The setting is process-wide, as OpenMP's is.
    /// - Parameter winogradAllowance: the bytes Winograd's weights and scratchpads may add to a prepared graph per image
    ///   of its largest batch, as a fraction of its weights' bytes (0: never Winograd).
    /// - Parameter timesWinograd: whether a Winograd layer the rule admits must also time faster than the direct kernel
    ///   (see `WinogradAdmission`); false admits by the rule alone, so that tests run Winograd whatever the machine's load.
    public init(threads: Int? = nil, winogradAllowance: Double = defaultWinogradAllowance, timesWinograd: Bool = true) throws {
        if let threads {
            precondition(threads >= 1, "thread count must be positive")
            omp_set_num_threads(Int32(threads))
        }
        precondition(winogradAllowance >= 0, "the Winograd allowance cannot be negative")
        self.winogradAllowance = winogradAllowance
        self.timesWinograd = timesWinograd
        engine = try DNNLEngine()
    }

    public var name: String { "onednn" }

    /// The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16".
    public static var instructionSet: String {
        String(cString: dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()))
    }

    /// The channel block of the activation layouts oneDNN's convolutions choose on this CPU: 16 where it dispatches to
    /// AVX-512 kernels (nChw16c), 8 on AVX2 and below (nChw8c). Honours `ONEDNN_MAX_CPU_ISA`.
    public static var channelBlock: Int {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        // oneDNN's ISA values are bit sets: these are the bits an AVX-512 ISA (core or Xeon Phi) adds to AVX2's.
        let avx512Bits = (dnnl_cpu_isa_avx512_core.rawValue | dnnl_cpu_isa_avx512_mic.rawValue) & ~dnnl_cpu_isa_avx2.rawValue
        return isa & avx512Bits != 0 ? 16 : 8
    }

    public func prepare(_ graph: Graph) throws -> any PreparedGraph {
        DNNLGraph(graph: graph, engine: engine, winogradAllowance: winogradAllowance, timesWinograd: timesWinograd)
    }
}

/// A graph with its oneDNN plans, made on first use for each batch size and kept.
final class DNNLGraph: PreparedGraph, @unchecked Sendable {
    /// The network without its weights, which `weights` holds: plain until first planned, then in oneDNN's layouts.
    let graph: Graph
    private let engine: DNNLEngine
    private let weights: WeightCache
    private var plans: [Int: DNNLPlan] = [:]
    private let plansLock = NSLock()

    private let timesWinograd: Bool

    init(graph: Graph, engine: DNNLEngine, winogradAllowance: Double, timesWinograd: Bool) {
        let (weightless, weights) = graph.separatingWeights()
        self.graph = weightless
        self.weights = WeightCache(plain: weights, winogradFraction: winogradAllowance)
        self.engine = engine
        self.timesWinograd = timesWinograd
    }

    func run(_ input: Tensor) throws -> Tensor {
        let batch = try batchSize(of: input)
        let plan = try plan(for: batch)
        var output = Tensor(zeros: [batch] + graph.outputShape)
        try input.scalars.withUnsafeBytes { source in
            try output.scalars.withUnsafeMutableBytes { destination in
                try plan.run(input: source.baseAddress!, output: destination.baseAddress!)
            }
        }
        return output
    }

    /// The plan for `batchSize`, built once. Exposed for diagnostics through `implementations(batchSize:)`.
    func plan(for batchSize: Int) throws -> DNNLPlan {
        plansLock.lock()
        defer { plansLock.unlock() }
        if let plan = plans[batchSize] { return plan }
        let plan = try PlanBuilder.build(graph: graph, batchSize: batchSize, engine: engine, weights: weights, timesWinograd: timesWinograd)
        plans[batchSize] = plan
        return plan
    }
}

extension DNNLBackend {
    /// The oneDNN implementation chosen for each step of `prepared`'s plan at `batchSize` (diagnostics).
    public static func implementations(of prepared: any PreparedGraph, batchSize: Int) throws -> [String] {
        guard let graph = prepared as? DNNLGraph else { return [] }
        return try graph.plan(for: batchSize).implementations
    }

    /// The kind of oneDNN operation of each step of `prepared`'s plan at `batchSize`, e.g. "convolution" (diagnostics).
    public static func operationKinds(of prepared: any PreparedGraph, batchSize: Int) throws -> [String] {
        guard let graph = prepared as? DNNLGraph else { return [] }
        return try graph.plan(for: batchSize).kinds
    }

    /// The format tag of each step's output in `prepared`'s plan at `batchSize`, e.g. "aBcd8b" (diagnostics).
    public static func destinationLayouts(of prepared: any PreparedGraph, batchSize: Int) throws -> [String?] {
        guard let graph = prepared as? DNNLGraph else { return [] }
        return try graph.plan(for: batchSize).destinationLayouts
    }

    /// The implementations timed for the convolutions of `prepared`'s plan at `batchSize` and the one chosen for each
    /// (diagnostics; a convolution like one met earlier in the same build reuses that choice and is not listed).
    public static func kernelChoices(of prepared: any PreparedGraph, batchSize: Int) throws -> [KernelChoice] {
        guard let graph = prepared as? DNNLGraph else { return [] }
        return try graph.plan(for: batchSize).choices
    }
}
