// Chooses between oneDNN's first offer for a convolution and a kernel that reads the producer's layout without a reorder,
// and confirms a Winograd kernel (oneDNN's or WinogradKernels') admitted by WinogradAdmission, by timing on scratch memory.
import CDNNL
import Dispatch
import Engine
import WinogradKernels

/// What a plan's builder learnt about one operation: every candidate it timed and the one it chose.
public struct KernelChoice: Sendable, Equatable {
    public struct Timing: Sendable, Equatable {
        /// oneDNN's name, e.g. "brgconv:avx512_core" or "jit_wino_4x3:avx512_core".
        public let implementation: String
        /// The median of its runs, including the reorders its layouts add.
        public let milliseconds: Double
    }

    /// The node of the graph the choice was made for.
    public let node: Int
    /// oneDNN's first offer.
    public let first: String
    /// The candidates in the order they were timed (oneDNN's first offer first).
    public let timings: [Timing]
    /// The position of the chosen candidate in `timings`.
    public let chosenIndex: Int

    /// oneDNN's name for the chosen implementation.
    public var chosen: String { timings[chosenIndex].implementation }
}

/// Implementations oneDNN offers for an operation descriptor, in its order of preference, reference kernels left out.
func offeredImplementations<Descriptor>(_ operation: inout Descriptor, attributes: Attributes, engine: DNNLEngine) throws -> [Primitive] {
    var iterator: dnnl_primitive_desc_iterator_t?
    let status = withUnsafePointer(to: &operation) { pointer in
        dnnl_primitive_desc_iterator_create(&iterator, UnsafeRawPointer(pointer), attributes.handle, engine.handle, nil)
    }
    if status == dnnl_unimplemented { return [] }
    try check(status, "listing implementations")
    guard let iterator else { return [] }
    defer { dnnl_primitive_desc_iterator_destroy(iterator) }
    var primitives: [Primitive] = []
    repeat {
        guard let descriptor = dnnl_primitive_desc_iterator_fetch(iterator) else { break }
        if implementationName(descriptor).hasPrefix("ref") {
            dnnl_primitive_desc_destroy(descriptor)
        } else {
            primitives.append(try Primitive(descriptor: descriptor))
        }
    } while dnnl_primitive_desc_iterator_next(iterator) == dnnl_success
    return primitives
}

/// oneDNN's implementation name of a primitive descriptor.
func implementationName(_ descriptor: dnnl_primitive_desc_t) -> String {
    var name: UnsafePointer<CChar>?
    guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "?" }
    return String(cString: name)
}

/// Times primitives on scratch memory of their own descriptors, for one plan's builder. Choices are remembered by the
/// operation's descriptor, so a network's repeated layers (ResNet-50's 16 3×3 stride-1 convolutions are of 4 kinds) are
/// timed once.
///
/// A choice must not flip from run to run on a shared machine's noise: every time is the median of `runs` runs (after
/// one untimed), the candidates taking turns so that a burst of load from another process slows them alike, and
/// another kernel replaces oneDNN's first offer only when its median is at most `margin` times the first offer's.
final class KernelTrials {
    static let runs = 5
    static let margin = 0.85
    /// A candidate whose median after `runs` / 2 + 1 runs is this many times the leader's is not run again.
    static let giveUp = 1.5

    private let engine: DNNLEngine
    private let stream: DNNLStream
    private var scratch = AlignedBuffer(byteCount: 0)
    private var reorders: [[UInt8]: Double] = [:]
    private var remembered: [[UInt8]: String] = [:]
    private(set) var choices: [KernelChoice] = []

    /// False: `confirmWinograd` confirms every Winograd kernel the rule admits, untimed (see `DNNLBackend.init`).
    private let timesWinograd: Bool

    init(engine: DNNLEngine, timesWinograd: Bool) throws {
        self.engine = engine
        self.timesWinograd = timesWinograd
        stream = try DNNLStream(engine: engine)
    }

    /// The fastest of `candidates` for node `node` whose input is in layout `source`; `key` names the problem so that an
    /// identical one later is not timed again. Returns nil for no candidates.
    /// A candidate listed in `reorderedAfter` is charged for a reorder of its output into that layout too.
    func choose(_ candidates: [Primitive], node: Int, source: MemoryDescriptor, key: [UInt8],
                reorderedAfter: [ObjectIdentifier: MemoryDescriptor] = [:]) throws -> Primitive? {
        guard let first = candidates.first else { return nil }
        if let name = remembered[key], let known = candidates.first(where: { $0.implementation + describe($0) == name }) {
            return known
        }
        let charges = try candidates.map { primitive in
            let after = try reorderedAfter[ObjectIdentifier(primitive)].map {
                try reorderMilliseconds(from: primitive.memoryDescriptor(dnnl_query_dst_md), to: $0)
            } ?? 0
            return try reorderMilliseconds(from: source, to: primitive.memoryDescriptor(dnnl_query_src_md)) + after
        }
        let times = try medians(runners(candidates), charges: charges)
        let chosen = Self.chosenIndex(times)
        let primitive = candidates[chosen]
        remembered[key] = primitive.implementation + describe(primitive)
        choices.append(KernelChoice(node: node, first: first.implementation,
                                    timings: zip(candidates, times).map { .init(implementation: $0.0.implementation, milliseconds: $0.1) },
                                    chosenIndex: chosen))
        return primitive
    }

    /// The candidate kept from `times` (medians, oneDNN's first offer first): the fastest, if it is at most `margin` times
    /// the first offer's; else the first offer.
    static func chosenIndex(_ times: [Double]) -> Int {
        guard let fastest = times.indices.min(by: { times[$0] < times[$1] }), times[fastest] <= times[0] * margin else { return 0 }
        return fastest
    }

    /// Times Winograd kernel `winograd` against oneDNN's first direct offer `first` for node `node`, each charged for the
    /// reorders that its layouts add around it (the input from `first`'s layout into Winograd's, the output back), and
    /// records the comparison. `key` names the problem: an identical one later gets the same answer untimed.
    /// True when Winograd is at most `margin` times the first offer, or always when Winograd is not timed.
    func confirmWinograd(_ winograd: Primitive, against first: Primitive, node: Int, key: [UInt8]) throws -> Bool {
        guard timesWinograd else { return true }
        if let name = remembered[key] { return name == winograd.implementation }
        let charge = try reorderMilliseconds(from: first.memoryDescriptor(dnnl_query_src_md), to: winograd.memoryDescriptor(dnnl_query_src_md))
            + reorderMilliseconds(from: winograd.memoryDescriptor(dnnl_query_dst_md), to: first.memoryDescriptor(dnnl_query_dst_md))
        let times = try medians(runners([first, winograd]), charges: [0, charge])
        return record(first: first, challenger: winograd.implementation, times: times, node: node, key: key)
    }

    /// `confirmWinograd` for WinogradKernels' convolution of `problem`, which reads and writes nChw8c.
    func confirmWinograd(_ problem: bs_winograd_problem, against first: Primitive, node: Int, key: [UInt8]) throws -> Bool {
        guard timesWinograd else { return true }
        if let name = remembered[key] { return name == WinogradConvolution.implementation(problem) }
        let (source, destination) = (try WinogradConvolution.sourceDescriptor(problem), try WinogradConvolution.destinationDescriptor(problem))
        let charge = try reorderMilliseconds(from: first.memoryDescriptor(dnnl_query_src_md), to: source)
            + reorderMilliseconds(from: destination, to: first.memoryDescriptor(dnnl_query_dst_md))
        let threads = WinogradConvolution.currentThreads
        let sizes = [source.byteCount, WinogradConvolution.weightBytes(problem), destination.byteCount,
                     WinogradConvolution.scratchBytes(problem, threads: threads)].map(ArenaPlanner.aligned)
        // Reserved before the first offer's runner is made: its memory objects must not outlive a regrown buffer.
        reserveScratch(sizes.reduce(0, +))
        let direct = try runners([first])[0]
        let offsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        let base = scratch.pointer
        let winograd = { () -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            WinogradConvolution.run(problem, source: base + offsets[0], weights: base + offsets[1], bias: nil,
                                    destination: base + offsets[2], scratch: base + offsets[3], threads: threads)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        let times = try medians([direct, winograd], charges: [0, charge])
        return record(first: first, challenger: WinogradConvolution.implementation(problem), times: times, node: node, key: key)
    }

    /// Remembers and records the choice between oneDNN's first offer and a Winograd challenger from their `times`;
    /// true when the challenger won.
    private func record(first: Primitive, challenger: String, times: [Double], node: Int, key: [UInt8]) -> Bool {
        let chosen = Self.chosenIndex(times)
        remembered[key] = [first.implementation, challenger][chosen]
        choices.append(KernelChoice(node: node, first: first.implementation,
                                    timings: [.init(implementation: first.implementation, milliseconds: times[0]),
                                              .init(implementation: challenger, milliseconds: times[1])],
                                    chosenIndex: chosen))
        return chosen == 1
    }

    /// The median milliseconds of `runs` runs of each runner, plus its charge; the runners take turns. After
    /// `runs` / 2 + 1 rounds, a candidate slower than `giveUp` times the leader stops, and the timing ends early if the
    /// choice already stands with every other candidate's time `clearly` times slower or faster: a plan's first pass
    /// then pays for 4 runs per candidate, not 6, where the answer is not close. The scratch memory is given back
    /// afterwards (a Winograd kernel's scratchpad alone can be 100 MB at batch 8).
    private func medians(_ runs: [() throws -> Double], charges: [Double]) throws -> [Double] {
        defer { scratch = AlignedBuffer(byteCount: 0) }
        for run in runs { _ = try run() }
        var samples = [[Double]](repeating: [], count: runs.count)
        var racing = Array(runs.indices)
        for round in 0..<Self.runs {
            for index in racing { samples[index].append(try runs[index]() + charges[index]) }
            if round == Self.runs / 2 {
                let times = samples.map(Self.median)
                let leader = racing.map { times[$0] }.min() ?? .infinity
                racing = racing.filter { times[$0] <= leader * Self.giveUp }
                let chosen = Self.chosenIndex(times)
                let stands = [1 / Self.clearly, Self.clearly].allSatisfy { factor in
                    Self.chosenIndex(times.enumerated().map { $0.offset == 0 ? $0.element : $0.element * factor }) == chosen
                }
                if stands || racing.count == 1 { break }
            }
        }
        return samples.map(Self.median)
    }

    /// How far from the margin a choice must be to end its timing early (see `medians`).
    static let clearly = 1.25

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// Distinguishes candidates of one name that read different layouts.
    private func describe(_ primitive: Primitive) -> String {
        let source = primitive.memoryDescriptor(dnnl_query_src_md).raw
        return withUnsafeBytes(of: source) { "@" + $0.map(String.init).joined(separator: ",") }
    }

    /// One closure per primitive that runs it once on scratch memory and returns its milliseconds. The primitives share
    /// the scratch buffer: they run one at a time and what they compute is thrown away.
    private func runners(_ primitives: [Primitive]) throws -> [() throws -> Double] {
        let arguments: [Int32] = [DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD]
        let descriptors = primitives.map { primitive in
            arguments.compactMap { argument -> (Int32, MemoryDescriptor)? in
                guard let queried = dnnl_primitive_desc_query_md(primitive.descriptor, dnnl_query_exec_arg_md, argument),
                      queried.pointee.ndims > 0 else { return nil }
                return (argument, MemoryDescriptor(queried.pointee))
            }
        }
        reserveScratch(descriptors.map { $0.map { ArenaPlanner.aligned($0.1.byteCount) }.reduce(0, +) }.max() ?? 0)
        return try zip(primitives, descriptors).map { primitive, descriptors in
            let memories = try scratchMemories(descriptors.map(\.1))
            var executionArguments = zip(descriptors, memories).map { dnnl_exec_arg_t(arg: $0.0.0, memory: $0.1.handle) }
            let (stream, count) = (self.stream, Int32(executionArguments.count))
            return {
                let start = DispatchTime.now().uptimeNanoseconds
                try check(dnnl_primitive_execute(primitive.handle, stream.handle, count, &executionArguments), "timing \(primitive.implementation)")
                try check(dnnl_stream_wait(stream.handle), "waiting for a timed run")
                withExtendedLifetime(memories) {}
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
        }
    }

    /// The median milliseconds of a reorder between two layouts; zero where they are the same.
    private func reorderMilliseconds(from source: MemoryDescriptor, to destination: MemoryDescriptor) throws -> Double {
        if source == destination { return 0 }
        let key = withUnsafeBytes(of: source.raw, Array.init) + withUnsafeBytes(of: destination.raw, Array.init)
        if let known = reorders[key] { return known }
        var (sourceRaw, destinationRaw) = (source.raw, destination.raw)
        var descriptor: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&descriptor, &sourceRaw, engine.handle, &destinationRaw, engine.handle, nil),
                  "describing a timed reorder")
        let reorder = try Primitive(descriptor: descriptor!)
        let time = try withScratch([source, destination]) { memories in
            var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: memories[0].handle), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: memories[1].handle)]
            var samples: [Double] = []
            for attempt in 0...Self.runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try check(dnnl_primitive_execute(reorder.handle, stream.handle, 2, &arguments), "timing a reorder")
                try check(dnnl_stream_wait(stream.handle), "waiting for a timed reorder")
                if attempt > 0 { samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
            return Self.median(samples)
        }
        reorders[key] = time
        return time
    }

    /// Runs `body` with one memory object per descriptor on the scratch buffer.
    private func withScratch<Result>(_ descriptors: [MemoryDescriptor], _ body: ([Memory]) throws -> Result) throws -> Result {
        defer { scratch = AlignedBuffer(byteCount: 0) }
        reserveScratch(descriptors.map { ArenaPlanner.aligned($0.byteCount) }.reduce(0, +))
        return try body(scratchMemories(descriptors))
    }

    /// Grows the scratch buffer to `byteCount`, filled with small ordinary numbers (no denormals, no NaN: every
    /// layout's bytes read as floats near 0.01). Memory objects made before on the old buffer must not run after.
    private func reserveScratch(_ byteCount: Int) {
        guard scratch.byteCount < byteCount else { return }
        scratch = AlignedBuffer(byteCount: byteCount)
        scratch.pointer.initializeMemory(as: Float.self, repeating: 0.01, count: byteCount / MemoryLayout<Float>.stride)
    }

    /// One memory object per descriptor, each in its own part of the scratch buffer (which must be large enough).
    private func scratchMemories(_ descriptors: [MemoryDescriptor]) throws -> [Memory] {
        var offset = 0
        return try descriptors.map { descriptor in
            defer { offset += ArenaPlanner.aligned(descriptor.byteCount) }
            return try Memory(descriptor, engine: engine, pointer: scratch.pointer + offset)
        }
    }
}
