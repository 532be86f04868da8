// Chooses between oneDNN's first offer for a convolution, a kernel that reads the producer's layout without a reorder,
// and the Winograd implementations oneDNN offers (never first) by timing each on scratch memory when a plan is built.
import CDNNL
import Dispatch
import Engine

/// One way to run an operation: a primitive and whether it reads its input as the producer wrote it.
struct Candidate {
    let primitive: Primitive
    /// The milliseconds of one run, including the reorder of the input into the layout the primitive reads.
    var milliseconds: Double
}

/// What a plan's builder learnt about one operation: every candidate it timed, the chosen one first.
public struct KernelChoice: Sendable, Equatable {
    public struct Timing: Sendable, Equatable {
        /// oneDNN's name, e.g. "brgconv:avx512_core" or "jit_wino_4x3:avx512_core".
        public let implementation: String
        /// One run, including the reorder of the input into the layout the implementation reads.
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
final class KernelTrials {
    /// Timed runs of each candidate after one untimed; the fastest counts. A candidate slower than 1.5× the leader
    /// after a round is not run again.
    static let runs = 3
    static let giveUp = 1.5
    /// oneDNN's first offer is kept unless another is this much faster: closer times are noise on a shared machine.
    static let margin = 0.9

    private let engine: DNNLEngine
    private let stream: DNNLStream
    private var scratch = AlignedBuffer(byteCount: 0)
    private var reorders: [[UInt8]: Double] = [:]
    private var remembered: [[UInt8]: String] = [:]
    private(set) var choices: [KernelChoice] = []

    init(engine: DNNLEngine) throws {
        self.engine = engine
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
        let reorders = try candidates.map { primitive in
            let input = primitive.memoryDescriptor(dnnl_query_src_md)
            let after = try reorderedAfter[ObjectIdentifier(primitive)].map {
                try reorderMilliseconds(from: primitive.memoryDescriptor(dnnl_query_dst_md), to: $0)
            } ?? 0
            return try (input == source ? 0 : reorderMilliseconds(from: source, to: input)) + after
        }
        // The candidates take turns, so that a burst of load from another process slows them alike.
        let runs = try runners(candidates)
        for run in runs { _ = try run() }
        var times = [Double](repeating: .infinity, count: candidates.count)
        var racing = Array(candidates.indices)
        for _ in 0..<Self.runs {
            for index in racing { times[index] = min(times[index], try runs[index]() + reorders[index]) }
            let leader = racing.map { times[$0] }.min() ?? .infinity
            racing = racing.filter { times[$0] <= leader * Self.giveUp }
        }
        let timed = zip(candidates, times).map { Candidate(primitive: $0.0, milliseconds: $0.1) }
        var chosen = 0
        for (index, candidate) in timed.enumerated().dropFirst() where candidate.milliseconds < timed[chosen].milliseconds
            && candidate.milliseconds < timed[0].milliseconds * Self.margin {
            chosen = index
        }
        let primitive = timed[chosen].primitive
        remembered[key] = primitive.implementation + describe(primitive)
        choices.append(KernelChoice(node: node, first: first.implementation,
                                    timings: timed.map { .init(implementation: $0.primitive.implementation, milliseconds: $0.milliseconds) },
                                    chosenIndex: chosen))
        return primitive
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

    private func reorderMilliseconds(from source: MemoryDescriptor, to destination: MemoryDescriptor) throws -> Double {
        let key = withUnsafeBytes(of: source.raw, Array.init) + withUnsafeBytes(of: destination.raw, Array.init)
        if let known = reorders[key] { return known }
        var (sourceRaw, destinationRaw) = (source.raw, destination.raw)
        var descriptor: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&descriptor, &sourceRaw, engine.handle, &destinationRaw, engine.handle, nil),
                  "describing a timed reorder")
        let reorder = try Primitive(descriptor: descriptor!)
        let time = try withScratch([source, destination]) { memories in
            var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: memories[0].handle), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: memories[1].handle)]
            var best = Double.infinity
            for attempt in 0...Self.runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try check(dnnl_primitive_execute(reorder.handle, stream.handle, 2, &arguments), "timing a reorder")
                try check(dnnl_stream_wait(stream.handle), "waiting for a timed reorder")
                if attempt > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
            return best
        }
        reorders[key] = time
        return time
    }

    /// Runs `body` with one memory object per descriptor on the scratch buffer.
    private func withScratch<Result>(_ descriptors: [MemoryDescriptor], _ body: ([Memory]) throws -> Result) throws -> Result {
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
