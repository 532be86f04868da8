// Turns a Graph into a DNNLPlan for one batch size: chooses layouts, creates primitives, inserts the reorders that
// layouts require, writes concat inputs in place where oneDNN accepts it, and plans the activation arena.
import CDNNL
import Engine
import WinogradKernels

/// Weights in the layouts primitives asked for, shared by every plan of one prepared graph. Each node's plain weights
/// are kept only until a plan has reordered them into a blocked layout; later layouts are reordered from that copy, so
/// the network's weights are held once, not twice. Winograd's layouts are the exception: oneDNN cannot reorder out of
/// them, so a node whose first layout is Winograd's keeps its plain weights too (or its blocked copy, if an earlier
/// plan made one) — about 5× its plain bytes in all, which is why Winograd runs within `winogradAllowance`.
final class WeightCache {
    /// Each node's weights in the graph's plain layout, until a plan first asks for them.
    private var plain: [Int: [Float]]
    private var entries: [Int: [(MemoryDescriptor, AlignedBuffer)]] = [:]
    /// Weights in WinogradKernels' layout, by node (see `winogradWeights`).
    private var winograd: [Int: AlignedBuffer] = [:]
    /// The bytes Winograd may add to this graph's memory per image of the largest batch planned with it.
    private let winogradBytesPerImage: Int
    /// The bytes Winograd has added over every plan, and the largest batch that spent any.
    private var winogradSpent = 0
    private var winogradLargestBatch = 1

    /// `winogradFraction`: the bytes Winograd may add per image of a batch, as a fraction of the plain weights' bytes.
    init(plain: [Int: [Float]], winogradFraction: Double) {
        self.plain = plain
        let plainBytes = plain.values.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
        winogradBytesPerImage = Int(winogradFraction * Double(plainBytes))
    }

    /// The bytes Winograd may still add to this graph's memory, over every plan, once a plan of `batch` images is made
    /// (see `WinogradAdmission`): the allowance grows with the largest batch, as the time Winograd saves does.
    func winogradAllowance(batch: Int) -> Int {
        max(0, winogradBytesPerImage * max(batch, winogradLargestBatch) - winogradSpent)
    }

    /// Whether node `node`'s weights are already held in layout `descriptor`.
    func holds(node: Int, _ descriptor: MemoryDescriptor) -> Bool {
        entries[node]?.contains { $0.0 == descriptor } ?? false
    }

    /// Takes `bytes` out of the Winograd allowance of a plan of `batch` images, which must hold them.
    func spendWinogradAllowance(_ bytes: Int, batch: Int) {
        precondition(bytes <= winogradAllowance(batch: batch), "Winograd admitted past its allowance")
        winogradSpent += bytes
        winogradLargestBatch = max(winogradLargestBatch, batch)
    }

    /// The buffer holding node `node`'s weights in layout `descriptor`, made once. `plainDescriptor` describes the
    /// plain weights; a node whose plain weights are gone is reordered from a layout made earlier.
    func buffer(node: Int, plainDescriptor: MemoryDescriptor, descriptor: MemoryDescriptor, engine: DNNLEngine) throws -> AlignedBuffer {
        if let found = entries[node]?.first(where: { $0.0 == descriptor }) { return found.1 }
        let buffer = AlignedBuffer(byteCount: descriptor.byteCount)
        let to = try Memory(descriptor, engine: engine, pointer: buffer.pointer)
        if let scalars = plain[node] {
            try scalars.withUnsafeBufferPointer { scalars in
                let from = try Memory(plainDescriptor, engine: engine, pointer: UnsafeMutableRawPointer(mutating: scalars.baseAddress!))
                try reorderOnce(from: from, to: to, engine: engine)
            }
            // oneDNN reorders out of blocked layouts only, not out of Winograd's: keep the plain weights beside those.
            if descriptor.isBlocked { plain[node] = nil }
        } else if let (earlierDescriptor, earlier) = entries[node]?.first(where: { $0.0.isBlocked && $0.0.dimensions == descriptor.dimensions }) {
            let from = try Memory(earlierDescriptor, engine: engine, pointer: earlier.pointer)
            if descriptor.isBlocked {
                try reorderOnce(from: from, to: to, engine: engine)
            } else {
                // oneDNN makes Winograd's layouts from plain weights only: go through a plain copy.
                let plainCopy = AlignedBuffer(byteCount: plainDescriptor.byteCount)
                let middle = try Memory(plainDescriptor, engine: engine, pointer: plainCopy.pointer)
                try reorderOnce(from: from, to: middle, engine: engine)
                try reorderOnce(from: middle, to: to, engine: engine)
            }
        } else {
            throw EngineError.backend("the weights of node \(node) are neither plain nor in a layout of \(descriptor.dimensions)")
        }
        entries[node, default: []].append((descriptor, buffer))
        return buffer
    }

    /// Node `node`'s weights in WinogradKernels' layout for `problem`, made once from the plain weights (or, where those
    /// are gone, from a blocked copy reordered back into a plain one). The plain weights stay as they are.
    func winogradWeights(node: Int, problem: bs_winograd_problem, plainDescriptor: MemoryDescriptor, engine: DNNLEngine) throws -> AlignedBuffer {
        if let made = winograd[node] { return made }
        let made: AlignedBuffer
        if let scalars = plain[node] {
            made = scalars.withUnsafeBufferPointer { WinogradConvolution.transformedWeights(problem, plain: $0.baseAddress!) }
        } else if let (descriptor, blocked) = entries[node]?.first(where: { $0.0.isBlocked && $0.0.dimensions == plainDescriptor.dimensions }) {
            let plainCopy = AlignedBuffer(byteCount: plainDescriptor.byteCount)
            try reorderOnce(from: Memory(descriptor, engine: engine, pointer: blocked.pointer),
                            to: Memory(plainDescriptor, engine: engine, pointer: plainCopy.pointer), engine: engine)
            made = WinogradConvolution.transformedWeights(problem, plain: plainCopy.pointer.assumingMemoryBound(to: Float.self))
        } else {
            throw EngineError.backend("the weights of node \(node) are neither plain nor in a blocked layout")
        }
        winograd[node] = made
        return made
    }

    /// Whether node `node`'s weights are already held in WinogradKernels' layout.
    func holdsWinogradWeights(node: Int) -> Bool { winograd[node] != nil }

    private func reorderOnce(from: Memory, to: Memory, engine: DNNLEngine) throws {
        var fromDescriptor = from.descriptor.raw
        var toDescriptor = to.descriptor.raw
        var descriptor: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&descriptor, &fromDescriptor, engine.handle, &toDescriptor, engine.handle, nil),
                  "reordering weights")
        let primitive = try Primitive(descriptor: descriptor!)
        let stream = try DNNLStream(engine: engine)
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from.handle), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to.handle)]
        try check(dnnl_primitive_execute(primitive.handle, stream.handle, 2, &arguments), "reordering weights")
        try check(dnnl_stream_wait(stream.handle), "waiting for a weight reorder")
    }
}

/// Thrown inside planning when a concat cannot be written in place; the builder retries without it.
struct InPlaceConcatRefused: Error {
    let concat: Int
}

/// What a planned step runs: a oneDNN primitive, or WinogradKernels' convolution.
enum PendingKernel {
    case primitive(Primitive)
    case winograd(WinogradConvolution)
}

struct PlanBuilder {
    /// Where a value's bytes are.
    enum Buffer: Equatable {
        case arena(Int)
        case input
        case output
        case constant(ObjectIdentifier)
    }

    struct Location {
        let descriptor: MemoryDescriptor
        let buffer: Buffer
        /// Where the value starts inside an arena buffer (a channel window of an in-place concat); zero elsewhere.
        var byteOffset = 0
    }

    struct PendingArgument {
        let argument: Int32
        let location: Location
    }

    let graph: Graph
    let batchSize: Int
    let engine: DNNLEngine
    let weights: WeightCache
    /// Times the implementations oneDNN offers for each convolution; shared by the attempts of one build.
    let trials: KernelTrials
    /// The convolutions that run Winograd in this plan and their kernels, admitted before it is built
    /// (`admittedWinogradNodes()`).
    private var winogradNodes: [Int: WinogradKernel] = [:]
    /// Residual sums computed by the convolution that makes one of their operands, which writes into the other operand
    /// (`addend`) and adds to it: convolution node → (sum node, addend node). See `fusibleSums`.
    let fusedSums: [Int: (sum: Int, addend: Int)]
    /// Concats that are not written in place: learnt by earlier attempts, or refused by their first input's kernel.
    private var copiedConcats: Set<Int>

    private var locations: [Int: Location] = [:]
    private var steps: [(PendingKernel, [PendingArgument])] = []
    private var arenaRequests: [(byteCount: Int, first: Int, last: Int)] = []
    private var constants: [ObjectIdentifier: AlignedBuffer] = [:]
    /// For a value consumed only by an in-place concat: that concat and the channel offset of the value in it.
    private var concatSlots: [Int: (concat: Int, offset: Int)] = [:]
    private var reorderCache: [Int: [Location]] = [:]
    /// The layout of each in-place concat's buffer, once reserved.
    private var concatTags: [Int: dnnl_format_tag_t] = [:]

    init(graph: Graph, batchSize: Int, engine: DNNLEngine, weights: WeightCache, trials: KernelTrials, copiedConcats: Set<Int>) {
        self.graph = graph
        self.trials = trials
        self.batchSize = batchSize
        self.engine = engine
        self.weights = weights
        self.copiedConcats = copiedConcats
        self.concatSlots = Self.inPlaceSlots(graph, excluding: copiedConcats)
        self.fusedSums = Self.fusibleSums(graph)
    }

    /// The sums of two equal-shaped values one of which is made by a convolution without an activation of its own and
    /// read by nothing but the sum (ResNet's and ConvNeXt's residual sums, ViT's after its projections): that
    /// convolution writes into the other operand's buffer, adding to what is there (oneDNN's sum post-op), which saves
    /// a pass over both. The other operand (the addend) must come first, be read by nothing after the convolution
    /// but the sum, and not be the convolution's input, the graph's input or output, or a constant.
    private static func fusibleSums(_ graph: Graph) -> [Int: (sum: Int, addend: Int)] {
        var readers = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for value in node.inputs { readers[value.index] += 1 } }
        readers[graph.output.index] += 1
        func isView(_ value: Int) -> Bool {
            if case .reshape = graph.nodes[value].operation { return true }
            return false
        }
        var fused: [Int: (sum: Int, addend: Int)] = [:]
        for (position, node) in graph.nodes.enumerated() {
            guard case .binary(.add, _) = node.operation, node.inputs.count == 2 else { continue }
            let (left, right) = (node.inputs[0].index, node.inputs[1].index)
            let (convolution, addend) = (max(left, right), min(left, right))
            guard left != right, graph.nodes[left].shape == graph.nodes[right].shape,
                  case .convolution(let operation) = graph.nodes[convolution].operation, operation.activation == .identity,
                  readers[convolution] == 1, addend != 0, addend != graph.output.index,
                  graph.nodes[convolution].inputs[0].index != addend else { continue }
            if case .constant = graph.nodes[addend].operation { continue }
            // Every other reader of the addend comes before the convolution, which overwrites it, and none is a reshape
            // (whose value shares the addend's bytes and may be read later), nor is the addend one.
            let addendReaders = graph.nodes.indices.filter { graph.nodes[$0].inputs.contains { $0.index == addend } }
            guard !isView(addend), addendReaders.allSatisfy({ $0 == position || ($0 < convolution && !isView($0)) }) else { continue }
            fused[convolution] = (position, addend)
        }
        return fused
    }

    /// Builds the plan, retrying with copying concats where in-place writing was refused.
    static func build(graph: Graph, batchSize: Int, engine: DNNLEngine, weights: WeightCache, timesWinograd: Bool) throws -> DNNLPlan {
        var copied: Set<Int> = []
        let trials = try KernelTrials(engine: engine, timesWinograd: timesWinograd)
        let winogradNodes = try PlanBuilder(graph: graph, batchSize: batchSize, engine: engine, weights: weights, trials: trials,
                                            copiedConcats: []).admittedWinogradNodes()
        while true {
            var builder = PlanBuilder(graph: graph, batchSize: batchSize, engine: engine, weights: weights, trials: trials, copiedConcats: copied)
            builder.winogradNodes = winogradNodes
            do {
                return try builder.makePlan()
            } catch let refusal as InPlaceConcatRefused {
                guard copied.insert(refusal.concat).inserted else {
                    throw EngineError.backend("concat node \(refusal.concat) could be written neither in place nor by copy")
                }
            }
        }
    }

    /// Which values can be produced straight into a concat's buffer: those read by nothing but one concat,
    /// made by a convolution, a pooling or another concat.
    private static func inPlaceSlots(_ graph: Graph, excluding copied: Set<Int>) -> [Int: (concat: Int, offset: Int)] {
        var readers = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for value in node.inputs { readers[value.index] += 1 } }
        readers[graph.output.index] += 1
        var slots: [Int: (concat: Int, offset: Int)] = [:]
        for (position, node) in graph.nodes.enumerated() {
            guard case .concat = node.operation, !copied.contains(position) else { continue }
            var offset = 0
            for value in node.inputs {
                switch graph.nodes[value.index].operation {
                case .convolution, .maxPool, .averagePool, .concat:
                    if readers[value.index] == 1 { slots[value.index] = (position, offset) }
                default: break
                }
                offset += graph.nodes[value.index].shape[0]
            }
        }
        return slots
    }

    /// A value's dimensions with the batch first; a constant is the same for every image, so its batch is 1.
    func dimensions(of value: Int) -> [Int] {
        (isConstant(value) ? [1] : [batchSize]) + graph.nodes[value].shape
    }

    // MARK: - Planning

    private mutating func makePlan() throws -> DNNLPlan {
        locations[0] = Location(descriptor: try .plain(dimensions(of: 0)), buffer: .input)
        for position in 1..<graph.nodes.count {
            try plan(node: position)
        }
        let result = try location(of: graph.output.index)
        let output = Location(descriptor: try .plain(dimensions(of: graph.output.index)), buffer: .output)
        try appendReorder(from: result, to: output)
        return try materialise()
    }

    private mutating func plan(node position: Int) throws {
        let node = graph.nodes[position]
        switch node.operation {
        case .input:
            preconditionFailure("a graph has one input, at position 0")
        case .convolution(let convolution):
            try planConvolution(position, convolution)
        case .maxPool(let pooling):
            try planPooling(position, pooling, maximum: true)
        case .averagePool(let pooling):
            try planPooling(position, pooling, maximum: false)
        case .globalAveragePool:
            let shape = graph.nodes[node.inputs[0].index].shape
            try planPooling(position, Pooling(kernel: Size2D(shape[1], shape[2]), stride: Size2D(1, 1)), maximum: false)
        case .concat:
            try planConcat(position)
        case .binary(let binary, let activation):
            // A sum fused into the convolution before it already has its location.
            if locations[position] == nil { try planBinary(position, binary, activation) }
        case .constant(let tensor):
            locations[position] = constant(copy(tensor.scalars), try .plain(dimensions(of: position)))
        case .activation(let activation):
            try planActivation(position, activation)
        case .reshape:
            try planReshape(position)
        case .pad(let padding, let value):
            try planPad(position, padding, value: value)
        case .linear(let linear):
            try planLinear(position, linear)
        case .layerNormalization(let normalization):
            try planLayerNormalization(position, normalization)
        case .attention(let attention):
            try planAttention(position, attention)
        case .softmax:
            try planSoftmax(position)
        }
    }

    /// oneDNN's descriptor of convolution node `position` run by `algorithm` from `source` into `destination` (either
    /// may be `.any`), its weights in the layout the implementation prefers.
    func convolutionDescriptor(_ position: Int, _ convolution: Convolution, algorithm: dnnl_alg_kind_t,
                               source: MemoryDescriptor, destination: MemoryDescriptor) throws -> dnnl_convolution_desc_t {
        var operation = dnnl_convolution_desc_t()
        var (sourceRaw, destinationRaw) = (source.raw, destination.raw)
        var weightsRaw = try MemoryDescriptor.any(Self.weightDimensions(of: convolution)).raw
        let biasDescriptor = try convolution.bias.map { _ in try MemoryDescriptor.plain([convolution.outputChannels]) }
        var biasRaw = biasDescriptor?.raw ?? dnnl_memory_desc_t()
        let padding = convolution.padding
        try withUnsafeMutablePointer(to: &biasRaw) { bias in
            try check(dnnl_dilated_convolution_forward_desc_init(
                &operation, dnnl_forward_inference, algorithm, &sourceRaw, &weightsRaw,
                biasDescriptor == nil ? nil : bias, &destinationRaw,
                [Int64(convolution.stride.height), Int64(convolution.stride.width)],
                [Int64(convolution.dilation.height - 1), Int64(convolution.dilation.width - 1)],
                [Int64(padding.top), Int64(padding.left)], [Int64(padding.bottom), Int64(padding.right)]),
                "describing convolution node \(position)")
        }
        return operation
    }

    /// A convolution's weight dimensions as oneDNN takes them: [groups, out / groups, in / groups, kh, kw] when grouped.
    static func weightDimensions(of convolution: Convolution) -> [Int] {
        let (groups, weightShape) = (convolution.groups, convolution.weightShape)
        return groups == 1 ? weightShape : [groups, weightShape[0] / groups] + Array(weightShape.dropFirst())
    }

    private mutating func planConvolution(_ position: Int, _ convolution: Convolution) throws {
        if case .blindspot(let problem) = winogradNodes[position] {
            return try planWinogradKernels(position, convolution, problem)
        }
        let inputValue = graph.nodes[position].inputs[0].index
        let source = try location(of: inputValue)
        let weightDimensions = Self.weightDimensions(of: convolution)
        let biasDescriptor = try convolution.bias.map { _ in try MemoryDescriptor.plain([convolution.outputChannels]) }
        let sum = fusedSums[position]
        var attributes = try Attributes(activation: convolution.activation)
        var summing = false
        let (engine, outputDimensions, trials) = (self.engine, dimensions(of: position), self.trials)
        var winograd = false
        if case .oneDNN = winogradNodes[position] { winograd = true }
        let describe = { [self] (algorithm: dnnl_alg_kind_t, source: MemoryDescriptor, destination: MemoryDescriptor) in
            try convolutionDescriptor(position, convolution, algorithm: algorithm, source: source, destination: destination)
        }
        /// Winograd where it was admitted for this node (reading the producer's layout as it is where oneDNN's Winograd
        /// kernel accepts it). Elsewhere oneDNN's first direct offer (reading the producer's layout as it is where the
        /// same kernel accepts it, else the layout it prefers, reordered once), timed against another kernel that reads
        /// the producer's layout as it is, if there is one; without it, the first offer, untimed. oneDNN's AVX2 kernels
        /// read channels-last (`acdb`) activations, as a LayerNorm leaves them, only if they write them too: where the
        /// output's layout is free, the kernel reading them is asked for that output (which leaves a residual sum
        /// after it unfused: oneDNN 2.6 has no channels-last AVX2 kernel with the sum post-op).
        func fastest(destination: MemoryDescriptor) throws -> Primitive? {
            if winograd {
                for input in [source.descriptor, try MemoryDescriptor.any(source.descriptor.dimensions)] {
                    var operation = try describe(dnnl_convolution_winograd, input, destination)
                    if let offered = try offeredImplementations(&operation, attributes: attributes, engine: engine).first { return offered }
                }
            }
            var operation = try describe(dnnl_convolution_direct, .any(source.descriptor.dimensions), destination)
            guard var direct = try makePrimitive(&operation, attributes: attributes, engine: engine) else { return nil }
            var candidates = [direct]
            var reorderedAfter: [ObjectIdentifier: MemoryDescriptor] = [:]
            if direct.memoryDescriptor(dnnl_query_src_md) != source.descriptor {
                // oneDNN's kernel reading the producer's layout as it is into `output`, other than a reference one.
                func reading(into output: MemoryDescriptor) throws -> Primitive? {
                    var operation = try describe(dnnl_convolution_direct, source.descriptor, output)
                    return try makePrimitive(&operation, attributes: attributes, engine: engine).flatMap { $0.implementation.hasPrefix("ref") ? nil : $0 }
                }
                var other = try reading(into: destination)
                var channelsLast = false
                if other == nil, destination.isFree, source.descriptor.hasTag(dnnl_acdb) {
                    other = try reading(into: MemoryDescriptor(dimensions: outputDimensions, tag: dnnl_acdb))
                    channelsLast = other != nil
                }
                if let other {
                    if other.implementation == direct.implementation {
                        direct = other
                        candidates = [other]
                    } else {
                        candidates.append(other)
                        // A kernel that writes neither the layout it reads (which continues a chain, as after a
                        // Winograd layer or a LayerNorm) nor the first offer's leaves a reorder to the next layer: it
                        // pays for it here.
                        let written = other.memoryDescriptor(dnnl_query_dst_md)
                        let natural = direct.memoryDescriptor(dnnl_query_dst_md)
                        if !channelsLast && written != source.descriptor && written != natural { reorderedAfter[ObjectIdentifier(other)] = natural }
                    }
                }
            }
            if candidates.count == 1 { return direct }
            var problem = try describe(dnnl_convolution_direct, source.descriptor, destination)
            let key = withUnsafeBytes(of: &problem, Array.init) + Array("\(convolution.activation) \(summing)".utf8)
            return try trials.choose(candidates, node: position, source: source.descriptor, key: key, reorderedAfter: reorderedAfter)
        }

        // A fused sum: the convolution writes into its addend, brought to the layout the convolution writes without the
        // sum (so that the addend's layout does not decide the kernel), and adds to it. Where that copy is not a
        // buffer of its own or no fast kernel takes the sum, the sum is left to planBinary.
        var fused: (Primitive, Location)?
        if let sum, case .binary(_, let activation) = graph.nodes[sum.sum].operation, let unfused = try fastest(destination: .any(outputDimensions)) {
            let addend = try converted(sum.addend, to: unfused.memoryDescriptor(dnnl_query_dst_md))
            if case .arena = addend.buffer, addend.byteOffset == 0 {
                (attributes, summing) = (try Attributes(sum: true, activation: activation), true)
                if let primitive = try fastest(destination: addend.descriptor), !primitive.implementation.hasPrefix("ref"),
                   primitive.memoryDescriptor(dnnl_query_dst_md) == addend.descriptor {
                    fused = (primitive, addend)
                } else {
                    (attributes, summing) = (try Attributes(activation: convolution.activation), false)
                }
            }
        }
        // The layout the fastest implementation writes decides a concat's layout when this is its first input.
        let (primitive, destination) = try fused ?? withDestination(of: position, natural: {
            try fastest(destination: .any(outputDimensions))
        }, make: fastest)
        let input = try converted(inputValue, to: primitive.memoryDescriptor(dnnl_query_src_md))
        let weightsDescriptor = primitive.memoryDescriptor(dnnl_query_weights_md)
        let weightBuffer = try weights.buffer(node: position, plainDescriptor: .plain(weightDimensions),
                                              descriptor: weightsDescriptor, engine: engine)
        var arguments = [
            PendingArgument(argument: DNNL_ARG_SRC, location: input),
            PendingArgument(argument: DNNL_ARG_WEIGHTS, location: constant(weightBuffer, weightsDescriptor)),
            PendingArgument(argument: DNNL_ARG_DST, location: destination),
        ]
        if let bias = convolution.bias, let biasDescriptor {
            arguments.append(PendingArgument(argument: DNNL_ARG_BIAS, location: constant(copy(bias.scalars), biasDescriptor)))
        }
        append(primitive, arguments)
        locations[position] = destination
        if let sum, fused != nil { locations[sum.sum] = destination }
    }

    /// A convolution run by WinogradKernels: its input brought to nChw8c, its output written in nChw8c into its concat
    /// slot where that slot is such a dense window, else into a buffer of its own (then copied into the slot, if any).
    private mutating func planWinogradKernels(_ position: Int, _ convolution: Convolution, _ problem: bs_winograd_problem) throws {
        let layout = try WinogradConvolution.destinationDescriptor(problem)
        let source = try converted(graph.nodes[position].inputs[0].index, to: WinogradConvolution.sourceDescriptor(problem))
        var slot: Location?
        if let concat = concatSlots[position]?.concat {
            if locations[concat] == nil, !(try reserveConcat(concat, layoutOf: layout)) {
                abandonInPlace(concat)
            } else {
                slot = try slotLocation(position)
            }
        }
        let destination = slot.flatMap { $0.descriptor == layout ? $0 : nil }
            ?? Location(descriptor: layout, buffer: .arena(newArenaBuffer(layout.byteCount)))
        let kernel = WinogradConvolution(
            problem: problem,
            weights: try weights.winogradWeights(node: position, problem: problem, plainDescriptor: .plain(Self.weightDimensions(of: convolution)),
                                                 engine: engine),
            bias: convolution.bias.map { copy($0.scalars) }, threads: WinogradConvolution.currentThreads)
        let scratchBytes = WinogradConvolution.scratchBytes(problem, threads: kernel.threads)
        let scratch = Location(descriptor: try .plain([scratchBytes / MemoryLayout<Float>.stride]), buffer: .arena(newArenaBuffer(scratchBytes)))
        record(.winograd(kernel), [PendingArgument(argument: DNNL_ARG_SRC, location: source),
                                   PendingArgument(argument: DNNL_ARG_DST, location: destination),
                                   PendingArgument(argument: DNNL_ARG_SCRATCHPAD, location: scratch)])
        if let slot, slot.descriptor != layout { try appendReorder(from: destination, to: slot) }
        locations[position] = slot ?? destination
    }

    private mutating func planPooling(_ position: Int, _ pooling: Pooling, maximum: Bool) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        // Pooling kernels read and write one layout: feed a concat slot from its concat's layout.
        var source = try location(of: inputValue)
        if let slot = concatSlots[position], let tag = concatTags[slot.concat], !source.descriptor.hasTag(tag) {
            source = try converted(inputValue, to: MemoryDescriptor(dimensions: dimensions(of: inputValue), tag: tag))
        }
        let inputShape = graph.nodes[inputValue].shape
        let output = Size2D(graph.nodes[position].shape[1], graph.nodes[position].shape[2])
        // ceil_mode becomes extra padding after the input, so that oneDNN's output size matches PyTorch's.
        let bottom = (output.height - 1) * pooling.stride.height + pooling.kernel.height - inputShape[1] - pooling.padding.top
        let right = (output.width - 1) * pooling.stride.width + pooling.kernel.width - inputShape[2] - pooling.padding.left
        let overhang = bottom > pooling.padding.bottom || right > pooling.padding.right
        let algorithm: dnnl_alg_kind_t
        if maximum {
            algorithm = dnnl_pooling_max
        } else if !pooling.countIncludesPadding || (pooling.padding == .zero && overhang) {
            // Without padding, PyTorch's divisor in ceil mode is the in-bounds count: oneDNN's exclude_padding.
            algorithm = dnnl_pooling_avg_exclude_padding
        } else if overhang {
            throw EngineError.backend("average pooling with count_include_pad, padding and ceil_mode overhang has no oneDNN equivalent (node \(position))")
        } else {
            algorithm = dnnl_pooling_avg_include_padding
        }
        let attributes = try Attributes()
        let (engine, outputDimensions) = (self.engine, dimensions(of: position))
        func make(destination: MemoryDescriptor) throws -> Primitive? {
            var operation = dnnl_pooling_v2_desc_t()
            var (sourceRaw, destinationRaw) = (source.descriptor.raw, destination.raw)
            try check(dnnl_pooling_v2_forward_desc_init(
                &operation, dnnl_forward_inference, algorithm, &sourceRaw, &destinationRaw,
                [Int64(pooling.stride.height), Int64(pooling.stride.width)],
                [Int64(pooling.kernel.height), Int64(pooling.kernel.width)], [0, 0],
                [Int64(pooling.padding.top), Int64(pooling.padding.left)], [Int64(max(bottom, 0)), Int64(max(right, 0))]),
                "describing pooling node \(position)")
            return try makePrimitive(&operation, attributes: attributes, engine: engine)
        }
        let (primitive, destination) = try withDestination(of: position, natural: {
            try make(destination: .any(outputDimensions))
        }, make: make)
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC, location: source),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
        locations[position] = destination
    }

    private mutating func planConcat(_ position: Int) throws {
        let inputs = graph.nodes[position].inputs.map(\.index)
        if !copiedConcats.contains(position) {
            // In place: inputs that were produced into their slot are done; the others are copied into it.
            let whole = try concatLocation(position)
            var offset = 0
            for value in inputs {
                let slot = try window(of: whole, channels: graph.nodes[value].shape[0], at: offset)
                if concatSlots[value] == nil { try appendReorder(from: location(of: value), to: slot) }
                offset += graph.nodes[value].shape[0]
            }
            locations[position] = whole
            return
        }
        // oneDNN's fast concat needs one layout: bring every input to the first one's, or to NHWC where that one's
        // channel blocks would be padded (oneDNN concatenates padded blocks with its reference kernel only).
        let common = try location(of: inputs[0]).descriptor
        var (commonTag, block) = Self.concatTags.first(where: { common.hasTag($0.0) }) ?? (dnnl_abcd, 1)
        if !inputs.allSatisfy({ graph.nodes[$0].shape[0] % block == 0 }) { commonTag = dnnl_acdb }
        let sources = try inputs.map { try converted($0, to: MemoryDescriptor(dimensions: dimensions(of: $0), tag: commonTag)) }
        let attributes = try Attributes()
        let destination = try slotDescriptor(of: position) ?? MemoryDescriptor(dimensions: dimensions(of: position), tag: commonTag)
        var descriptor: dnnl_primitive_desc_t?
        var sourceDescriptors = sources.map(\.descriptor.raw)
        var destinationRaw = destination.raw
        try withUnsafeMutablePointer(to: &destinationRaw) { pointer in
            try check(dnnl_concat_primitive_desc_create(&descriptor, pointer, Int32(sources.count), 1,
                                                        &sourceDescriptors, attributes.handle, engine.handle),
                      "describing concat node \(position)")
        }
        let primitive = try Primitive(descriptor: descriptor!)
        let output = try placeOutput(of: position, primitive.memoryDescriptor(dnnl_query_dst_md))
        var arguments = sources.enumerated().map { PendingArgument(argument: DNNL_ARG_MULTIPLE_SRC + Int32($0.offset), location: $0.element) }
        arguments.append(PendingArgument(argument: DNNL_ARG_DST, location: output))
        append(primitive, arguments)
        locations[position] = output
    }

    private static let binaryAlgorithms: [BinaryOperator: dnnl_alg_kind_t] = [
        .add: dnnl_binary_add, .subtract: dnnl_binary_sub, .multiply: dnnl_binary_mul, .divide: dnnl_binary_div,
    ]

    private mutating func planBinary(_ position: Int, _ binary: BinaryOperator, _ activation: Activation) throws {
        let inputs = graph.nodes[position].inputs.map(\.index)
        let broadcast = graph.nodes[inputs[1]].shape != graph.nodes[inputs[0]].shape || isConstant(inputs[1])
        let algorithm = Self.binaryAlgorithms[binary]!
        let attributes = try Attributes(activation: activation)
        let engine = self.engine
        func make(_ left: Location, _ right: Location, destination: MemoryDescriptor? = nil) throws -> (Primitive, MemoryDescriptor)? {
            // Unless given, the output takes the left input's layout, as a dense buffer of its own.
            let destination = try destination ?? MemoryDescriptor.any(left.descriptor.dimensions)
            var operation = dnnl_binary_desc_t()
            var (leftRaw, rightRaw, destinationRaw) = (left.descriptor.raw, right.descriptor.raw, destination.raw)
            try check(dnnl_binary_desc_init(&operation, algorithm, &leftRaw, &rightRaw, &destinationRaw), "describing binary node \(position)")
            guard let primitive = try makePrimitive(&operation, attributes: attributes, engine: engine) else { return nil }
            return (primitive, primitive.memoryDescriptor(dnnl_query_dst_md))
        }
        // An operand broadcast over the leading dimensions only (ViT's position embedding over the batch) has only oneDNN's
        // reference kernel; read as rows of the trailing dimensions, it is a row added to every row, which is vectorised.
        if broadcast, try slotDescriptor(of: position) == nil,
           let (rows, columns) = Self.rowBroadcast(dimensions(of: inputs[0]), dimensions(of: inputs[1])) {
            let rowsDescriptor = try MemoryDescriptor.plain([rows, columns])
            let leftRows = try view(inputs[0], in: .plain(dimensions(of: inputs[0])), as: rowsDescriptor)
            let rightRow = try view(inputs[1], in: .plain(dimensions(of: inputs[1])), as: .plain([1, columns]))
            if let (primitive, _) = try make(leftRows, rightRow, destination: rowsDescriptor) {
                let destination = try placeOutput(of: position, .plain(dimensions(of: position)))
                append(primitive, [PendingArgument(argument: DNNL_ARG_SRC_0, location: leftRows),
                                   PendingArgument(argument: DNNL_ARG_SRC_1, location: rightRow),
                                   PendingArgument(argument: DNNL_ARG_DST, location: Location(descriptor: rowsDescriptor, buffer: destination.buffer))])
                locations[position] = destination
                return
            }
        }
        // A broadcast operand is read in plain layout; an equal-shaped one in the left input's layout.
        var left = try location(of: inputs[0])
        var right = try broadcast ? converted(inputs[1], to: .plain(dimensions(of: inputs[1]))) : converted(inputs[1], to: left.descriptor)
        var made = try make(left, right)
        if made == nil {
            // Not every blocked layout has a broadcasting kernel: fall back to plain layouts.
            left = try converted(inputs[0], to: .plain(dimensions(of: inputs[0])))
            right = try converted(inputs[1], to: .plain(dimensions(of: inputs[1])))
            made = try make(left, right)
        }
        guard let (primitive, destinationDescriptor) = made else {
            throw EngineError.backend("oneDNN has no implementation for binary node \(position) (\(binary.rawValue))")
        }
        let destination = try placeOutput(of: position, destinationDescriptor)
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC_0, location: left),
                           PendingArgument(argument: DNNL_ARG_SRC_1, location: right),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
        locations[position] = destination
    }

    /// `(rows, columns)` when `right` equals `left` in its trailing dimensions and is 1 in the others, of which `left` has
    /// more than one row: `right` is then one row of `columns` values, added to (or combined with) each of `rows` rows.
    static func rowBroadcast(_ left: [Int], _ right: [Int]) -> (rows: Int, columns: Int)? {
        guard left.count == right.count, let first = right.firstIndex(where: { $0 != 1 }),
              right[first...].elementsEqual(left[first...]) else { return nil }
        let rows = left[..<first].reduce(1, *)
        return rows > 1 ? (rows, left[first...].reduce(1, *)) : nil
    }

    private mutating func planActivation(_ position: Int, _ activation: Activation) throws {
        let source = try location(of: graph.nodes[position].inputs[0].index)
        // The first eltwise operation is the primitive, the others its post-ops.
        let steps = activation.eltwiseSteps
        let first = steps.first ?? EltwiseStep(algorithm: dnnl_eltwise_linear, alpha: 1, beta: 0)
        var operation = dnnl_eltwise_desc_t()
        var sourceRaw = source.descriptor.raw
        try check(dnnl_eltwise_forward_desc_init(&operation, dnnl_forward_inference, first.algorithm, &sourceRaw, first.alpha, first.beta),
                  "describing activation node \(position)")
        guard let primitive = try makePrimitive(&operation, attributes: Attributes(eltwise: Array(steps.dropFirst())), engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for activation node \(position) (\(activation))")
        }
        let destination = try placeOutput(of: position, primitive.memoryDescriptor(dnnl_query_dst_md))
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC, location: source),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
        locations[position] = destination
    }

    /// A reshape reads its input in plain row-major layout and reinterprets the same bytes.
    private mutating func planReshape(_ position: Int) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        locations[position] = try view(inputValue, in: .plain(dimensions(of: inputValue)), as: .plain(dimensions(of: position)))
    }

    /// The bytes of `value` in layout `layout`, described as `view` (the same bytes under other dimensions).
    private mutating func view(_ value: Int, in layout: MemoryDescriptor, as view: MemoryDescriptor) throws -> Location {
        var source = try converted(value, to: layout)
        switch source.buffer {
        case .arena, .constant: break
        case .input, .output:
            // The input's memory object has one descriptor: copy it into the arena to view it differently.
            let copy = Location(descriptor: source.descriptor, buffer: .arena(newArenaBuffer(source.descriptor.byteCount)))
            try appendReorder(from: source, to: copy)
            source = copy
        }
        return Location(descriptor: view, buffer: source.buffer)
    }

    /// Attention as primitives in the plan, all heads at once: the queries, keys and values reordered out of the
    /// tokens' channels-last rows into [N, heads, T, d] each; a batched matmul Q·Kᵀ (K read transposed through its
    /// strides) scaled by 1/√d; a softmax over each row, in place; a batched matmul P·V; a reorder of the heads'
    /// outputs back into channels-last rows, [N, C, T, 1] in `acdb`.
    private mutating func planAttention(_ position: Int, _ attention: Attention) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        let shape = dimensions(of: inputValue)
        let (batch, channels, tokens, heads) = (shape[0], shape[1] / 3, shape[2], attention.heads)
        let size = channels / heads
        let layout = try MemoryDescriptor(dimensions: shape, tag: dnnl_acdb)
        let rows = try view(inputValue, in: layout, as: layout)
        let split = [batch, heads, tokens, size]
        let plainSplit = try MemoryDescriptor.plain(split)
        let parts = try (0..<3).map { part -> Location in
            let source = Location(descriptor: try MemoryDescriptor(dimensions: split, strides: [tokens * 3 * channels, size, 3 * channels, 1]),
                                  buffer: rows.buffer, byteOffset: rows.byteOffset + part * channels * MemoryLayout<Float>.size)
            let target = Location(descriptor: plainSplit, buffer: .arena(newArenaBuffer(plainSplit.byteCount)))
            try appendReorder(from: source, to: target)
            return target
        }
        let keysTransposed = Location(descriptor: try MemoryDescriptor(dimensions: [batch, heads, size, tokens],
                                                                        strides: [heads * tokens * size, tokens * size, 1, size]), buffer: parts[1].buffer)
        let scoresDescriptor = try MemoryDescriptor.plain([batch, heads, tokens, tokens])
        let scores = Location(descriptor: scoresDescriptor, buffer: .arena(newArenaBuffer(scoresDescriptor.byteCount)))
        try appendMatmul(parts[0], keysTransposed, scores, scale: 1 / Float(size).squareRoot(), position)

        var softmax = dnnl_softmax_desc_t()
        var scoresRaw = scoresDescriptor.raw
        try check(dnnl_softmax_forward_desc_init(&softmax, dnnl_forward_inference, &scoresRaw, 3), "describing attention node \(position)'s softmax")
        guard let normalize = try makePrimitive(&softmax, attributes: Attributes(), engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for attention node \(position)'s softmax")
        }
        append(normalize, [PendingArgument(argument: DNNL_ARG_SRC, location: scores), PendingArgument(argument: DNNL_ARG_DST, location: scores)])

        let outputs = Location(descriptor: plainSplit, buffer: .arena(newArenaBuffer(plainSplit.byteCount)))
        try appendMatmul(scores, parts[2], outputs, scale: 1, position)
        let result = try MemoryDescriptor(dimensions: [batch, channels, tokens, 1], tag: dnnl_acdb)
        let destination = Location(descriptor: result, buffer: .arena(newArenaBuffer(result.byteCount)))
        try appendReorder(from: outputs, to: Location(descriptor: try MemoryDescriptor(dimensions: split, strides: [tokens * channels, size, channels, 1]),
                                                      buffer: destination.buffer))
        locations[position] = destination
    }

    /// A batched matrix product `destination = scale · source × weights` over the leading dimensions.
    private mutating func appendMatmul(_ source: Location, _ weights: Location, _ destination: Location, scale: Float, _ position: Int) throws {
        var operation = dnnl_matmul_desc_t()
        var (sourceRaw, weightsRaw, destinationRaw) = (source.descriptor.raw, weights.descriptor.raw, destination.descriptor.raw)
        try check(dnnl_matmul_desc_init(&operation, &sourceRaw, &weightsRaw, nil, &destinationRaw), "describing attention node \(position)'s matmul")
        let attributes = scale == 1 ? try Attributes() : try Attributes(outputScale: scale)
        guard let primitive = try makePrimitive(&operation, attributes: attributes, engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for attention node \(position)'s matmul")
        }
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC, location: source), PendingArgument(argument: DNNL_ARG_WEIGHTS, location: weights),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
    }

    /// oneDNN normalises over the last dimension: the value goes channels-last (NHWC, `acdb`), is seen as a plain
    /// [N, H, W, C] tensor, normalised into a new one, which is seen as NCHW in `acdb` again.
    private mutating func planLayerNormalization(_ position: Int, _ normalization: LayerNormalization) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        let shape = dimensions(of: inputValue)
        let channelsLast = [shape[0], shape[2], shape[3], shape[1]]
        let source = try view(inputValue, in: MemoryDescriptor(dimensions: shape, tag: dnnl_acdb), as: .plain(channelsLast))
        var operation = dnnl_layer_normalization_desc_t()
        var sourceRaw = source.descriptor.raw
        try check(dnnl_layer_normalization_forward_desc_init(&operation, dnnl_forward_inference, &sourceRaw, nil, normalization.epsilon,
                                                             dnnl_use_scale.rawValue | dnnl_use_shift.rawValue),
                  "describing layer normalisation node \(position)")
        guard let primitive = try makePrimitive(&operation, attributes: Attributes(), engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for layer normalisation node \(position)")
        }
        let output = primitive.memoryDescriptor(dnnl_query_dst_md)
        let destination = Location(descriptor: output, buffer: .arena(newArenaBuffer(output.byteCount)))
        let parameters = try MemoryDescriptor.plain([normalization.channels])
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC, location: source),
                           PendingArgument(argument: DNNL_ARG_SCALE, location: constant(copy(normalization.weight.scalars), parameters)),
                           PendingArgument(argument: DNNL_ARG_SHIFT, location: constant(copy(normalization.bias.scalars), parameters)),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
        locations[position] = Location(descriptor: try MemoryDescriptor(dimensions: dimensions(of: position), tag: dnnl_acdb), buffer: destination.buffer)
    }

    /// A padded value lives in a buffer of its own whose border is filled once; every run writes the interior.
    private mutating func planPad(_ position: Int, _ padding: Padding2D, value: Float) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        let whole = try MemoryDescriptor.plain(dimensions(of: position))
        let filled = AlignedBuffer(byteCount: whole.byteCount)
        filled.pointer.initializeMemory(as: Float.self, repeating: value, count: whole.byteCount / MemoryLayout<Float>.stride)
        let destination = constant(filled, whole)
        let interior = try whole.window(dimensions(of: inputValue), at: [0, 0, padding.top, padding.left])
        try appendReorder(from: location(of: inputValue), to: Location(descriptor: interior, buffer: destination.buffer))
        locations[position] = destination
    }

    private func isConstant(_ value: Int) -> Bool {
        if case .constant = graph.nodes[value].operation { return true }
        return false
    }

    private mutating func planLinear(_ position: Int, _ linear: Linear) throws {
        let inputValue = graph.nodes[position].inputs[0].index
        let source = try location(of: inputValue)
        let (outputs, features) = (linear.outputFeatures, linear.inputFeatures)
        let weightDimensions = source.descriptor.dimensions.count == 4 ? [outputs, features, 1, 1] : [outputs, features]
        var operation = dnnl_inner_product_desc_t()
        var sourceRaw = source.descriptor.raw
        var weightsRaw = try MemoryDescriptor.any(weightDimensions).raw
        let biasDescriptor = try MemoryDescriptor.plain([outputs])
        var biasRaw = biasDescriptor.raw
        var destinationRaw = try MemoryDescriptor.any([batchSize, outputs]).raw
        try withUnsafeMutablePointer(to: &biasRaw) { bias in
            try check(dnnl_inner_product_forward_desc_init(&operation, dnnl_forward_inference, &sourceRaw, &weightsRaw,
                                                           linear.bias == nil ? nil : bias, &destinationRaw),
                      "describing linear node \(position)")
        }
        guard let primitive = try makePrimitive(&operation, attributes: Attributes(activation: linear.activation), engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for linear node \(position)")
        }
        let weightsDescriptor = primitive.memoryDescriptor(dnnl_query_weights_md)
        let weightBuffer = try weights.buffer(node: position, plainDescriptor: .plain(weightDimensions),
                                              descriptor: weightsDescriptor, engine: engine)
        let destination = try placeOutput(of: position, primitive.memoryDescriptor(dnnl_query_dst_md))
        var arguments = [
            PendingArgument(argument: DNNL_ARG_SRC, location: source),
            PendingArgument(argument: DNNL_ARG_WEIGHTS, location: constant(weightBuffer, weightsDescriptor)),
            PendingArgument(argument: DNNL_ARG_DST, location: destination),
        ]
        if let bias = linear.bias {
            arguments.append(PendingArgument(argument: DNNL_ARG_BIAS, location: constant(copy(bias.scalars), biasDescriptor)))
        }
        append(primitive, arguments)
        locations[position] = destination
    }

    private mutating func planSoftmax(_ position: Int) throws {
        let source = try location(of: graph.nodes[position].inputs[0].index)
        var operation = dnnl_softmax_desc_t()
        var sourceRaw = source.descriptor.raw
        try check(dnnl_softmax_forward_desc_init(&operation, dnnl_forward_inference, &sourceRaw, 1), "describing softmax node \(position)")
        guard let primitive = try makePrimitive(&operation, attributes: Attributes(), engine: engine) else {
            throw EngineError.backend("oneDNN has no implementation for softmax node \(position)")
        }
        let destination = try placeOutput(of: position, primitive.memoryDescriptor(dnnl_query_dst_md))
        append(primitive, [PendingArgument(argument: DNNL_ARG_SRC, location: source),
                           PendingArgument(argument: DNNL_ARG_DST, location: destination)])
        locations[position] = destination
    }

    // MARK: - Locations, in-place concat slots and reorders

    private func location(of value: Int) throws -> Location {
        guard let location = locations[value] else {
            throw EngineError.backend("node \(value) is used before it is computed")
        }
        return location
    }

    /// Creates a primitive whose output goes to its concat slot when it has one, else to a new arena buffer.
    /// `natural` makes the primitive with a free output layout, which decides the concat's layout when the slot is the first.
    private mutating func withDestination(of position: Int, natural: () throws -> Primitive?,
                                          make: (MemoryDescriptor) throws -> Primitive?) throws -> (Primitive, Location) {
        if let slot = concatSlots[position] {
            let first = locations[slot.concat] == nil
            if first, let probe = try natural(), !(try reserveConcat(slot.concat, layoutOf: probe.memoryDescriptor(dnnl_query_dst_md))) {
                abandonInPlace(slot.concat)
            } else {
                let destination = try slotLocation(position)
                if let primitive = try make(destination.descriptor), !primitive.implementation.hasPrefix("ref") {
                    return (primitive, destination)
                }
                // The first writer decides cheaply; a later one means starting over without this concat in place.
                guard first else { throw InPlaceConcatRefused(concat: slot.concat) }
                abandonInPlace(slot.concat)
            }
        }
        guard let primitive = try make(try .any(dimensions(of: position))) else {
            throw EngineError.backend("oneDNN has no implementation for node \(position) (\(graph.nodes[position].operation))")
        }
        return (primitive, try placeOutput(of: position, primitive.memoryDescriptor(dnnl_query_dst_md)))
    }

    /// The descriptor a value must be written with when it is a slot of an in-place concat, else nil.
    private mutating func slotDescriptor(of value: Int) throws -> MemoryDescriptor? {
        guard concatSlots[value] != nil else { return nil }
        return try slotLocation(value).descriptor
    }

    private mutating func slotLocation(_ value: Int) throws -> Location {
        let slot = concatSlots[value]!
        let whole = try concatLocation(slot.concat)
        guard let location = try? window(of: whole, channels: graph.nodes[value].shape[0], at: slot.offset) else {
            throw InPlaceConcatRefused(concat: slot.concat)
        }
        return location
    }

    /// Channels [offset, offset + channels) of `whole`. Where they are contiguous (one image, channel blocks outermost)
    /// the window is a dense tensor at a byte offset, which oneDNN's jit convolutions accept; else a strided sub-memory,
    /// which they refuse (so the concat ends up copying).
    private func window(of whole: Location, channels: Int, at offset: Int) throws -> Location {
        if let (descriptor, byteOffset) = try whole.descriptor.contiguousChannels(channels, at: offset) {
            return Location(descriptor: descriptor, buffer: whole.buffer, byteOffset: whole.byteOffset + byteOffset)
        }
        return Location(descriptor: try whole.descriptor.channels(channels, at: offset), buffer: whole.buffer, byteOffset: whole.byteOffset)
    }

    /// The location of an in-place concat's output, reserving it (in the first input's layout) if nothing has yet.
    private mutating func concatLocation(_ concat: Int) throws -> Location {
        if locations[concat] == nil {
            let first = graph.nodes[concat].inputs[0].index
            guard try reserveConcat(concat, layoutOf: locations[first]?.descriptor ?? .plain(dimensions(of: first))) else {
                throw InPlaceConcatRefused(concat: concat)
            }
        }
        return locations[concat]!
    }

    /// Activation layouts a concat can be built in, with their channel block.
    private static let concatTags: [(dnnl_format_tag_t, Int)] = [(dnnl_acdb, 1), (dnnl_abcd, 1), (dnnl_aBcd16b, 16), (dnnl_aBcd8b, 8)]

    /// Reserves an in-place concat's buffer in the layout `example` uses; false when that layout has no valid channel windows.
    private mutating func reserveConcat(_ concat: Int, layoutOf example: MemoryDescriptor) throws -> Bool {
        guard let (tag, block) = Self.concatTags.first(where: { example.hasTag($0.0) }),
              graph.nodes[concat].inputs.allSatisfy({ graph.nodes[$0.index].shape[0] % block == 0 }) else { return false }
        if let outer = concatSlots[concat]?.concat {
            // A concat inside another in-place concat is itself a window of the outer one.
            locations[concat] = try slotLocation(concat)
            concatTags[concat] = concatTags[outer]
        } else {
            let descriptor = try MemoryDescriptor(dimensions: dimensions(of: concat), tag: tag)
            locations[concat] = Location(descriptor: descriptor, buffer: .arena(newArenaBuffer(descriptor.byteCount)))
            concatTags[concat] = tag
        }
        return true
    }

    /// Turns `concat` into a copying concat before any of its inputs was written.
    private mutating func abandonInPlace(_ concat: Int) {
        copiedConcats.insert(concat)
        concatSlots = concatSlots.filter { $0.value.concat != concat }
        locations[concat] = nil
        concatTags[concat] = nil
    }

    /// `value` in layout `descriptor`, reordering it once per layout if it is in another.
    private mutating func converted(_ value: Int, to descriptor: MemoryDescriptor) throws -> Location {
        let current = try location(of: value)
        if current.descriptor == descriptor { return current }
        if let cached = reorderCache[value]?.first(where: { $0.descriptor == descriptor }) { return cached }
        let target = Location(descriptor: descriptor, buffer: .arena(newArenaBuffer(descriptor.byteCount)))
        try appendReorder(from: current, to: target)
        reorderCache[value, default: []].append(target)
        return target
    }

    private mutating func appendReorder(from source: Location, to destination: Location) throws {
        var (sourceRaw, destinationRaw) = (source.descriptor.raw, destination.descriptor.raw)
        let attributes = try Attributes()
        var descriptor: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&descriptor, &sourceRaw, engine.handle, &destinationRaw, engine.handle, attributes.handle),
                  "describing a reorder")
        append(try Primitive(descriptor: descriptor!), [PendingArgument(argument: DNNL_ARG_FROM, location: source),
                                                       PendingArgument(argument: DNNL_ARG_TO, location: destination)])
    }

    private mutating func placeOutput(of position: Int, _ descriptor: MemoryDescriptor) throws -> Location {
        if let slot = try slotDescriptor(of: position) {
            guard slot == descriptor || descriptor.dimensions == slot.dimensions else { throw InPlaceConcatRefused(concat: concatSlots[position]!.concat) }
            return try slotLocation(position)
        }
        return Location(descriptor: descriptor, buffer: .arena(newArenaBuffer(descriptor.byteCount)))
    }

    private mutating func newArenaBuffer(_ byteCount: Int) -> Int {
        arenaRequests.append((byteCount, Int.max, Int.min))
        return arenaRequests.count - 1
    }

    private mutating func constant(_ buffer: AlignedBuffer, _ descriptor: MemoryDescriptor) -> Location {
        let key = ObjectIdentifier(buffer)
        constants[key] = buffer
        return Location(descriptor: descriptor, buffer: .constant(key))
    }

    private func copy(_ scalars: [Float]) -> AlignedBuffer {
        let buffer = AlignedBuffer(byteCount: scalars.count * MemoryLayout<Float>.stride)
        scalars.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return buffer
    }

    /// Appends a step. Its scratchpad is an arena buffer alive for this step only, so that it shares memory with
    /// activations dead by then: a Winograd kernel's reaches tens of MB at batch 8, a direct kernel's a few KB.
    private mutating func append(_ primitive: Primitive, _ arguments: [PendingArgument]) {
        var arguments = arguments
        let scratchpad = primitive.memoryDescriptor(dnnl_query_scratchpad_md)
        if scratchpad.byteCount > 0 {
            arguments.append(PendingArgument(argument: DNNL_ARG_SCRATCHPAD,
                                             location: Location(descriptor: scratchpad, buffer: .arena(newArenaBuffer(scratchpad.byteCount)))))
        }
        record(.primitive(primitive), arguments)
    }

    /// Appends a step whose arguments are complete, extending the lifetimes of the arena buffers it uses to it.
    private mutating func record(_ kernel: PendingKernel, _ arguments: [PendingArgument]) {
        let step = steps.count
        for argument in arguments {
            if case .arena(let index) = argument.location.buffer {
                arenaRequests[index].first = min(arenaRequests[index].first, step)
                arenaRequests[index].last = max(arenaRequests[index].last, step)
            }
        }
        steps.append((kernel, arguments))
    }

    // MARK: - Materialising memory objects

    private func materialise() throws -> DNNLPlan {
        let requests = arenaRequests.map { ArenaPlanner.Request(byteCount: $0.byteCount, firstStep: $0.first, lastStep: $0.last) }
        let (offsets, arenaSize) = ArenaPlanner.place(requests)
        let arena = AlignedBuffer(byteCount: arenaSize)
        let inputMemory = try Memory(.plain(dimensions(of: 0)), engine: engine, pointer: nil)
        let outputMemory = try Memory(.plain(dimensions(of: graph.output.index)), engine: engine, pointer: nil)
        var memories: [Memory] = [inputMemory, outputMemory]
        var planSteps: [DNNLPlan.Step] = []
        func pointer(_ location: Location) throws -> UnsafeMutableRawPointer {
            switch location.buffer {
            case .arena(let index):
                return arena.pointer + offsets[index] + location.byteOffset
            case .constant(let key):
                guard let buffer = constants[key] else { throw EngineError.backend("a plan's constant is missing") }
                return buffer.pointer + location.byteOffset
            case .input, .output:
                throw EngineError.backend("the plan's input and output are known only when it runs")
            }
        }
        for (kernel, arguments) in steps {
            switch kernel {
            case .winograd(let convolution):
                func at(_ argument: Int32) throws -> UnsafeMutableRawPointer {
                    guard let found = arguments.first(where: { $0.argument == argument }) else {
                        throw EngineError.backend("a WinogradKernels step lacks argument \(argument)")
                    }
                    return try pointer(found.location)
                }
                planSteps.append(.winograd(convolution, source: UnsafeRawPointer(try at(DNNL_ARG_SRC)), destination: try at(DNNL_ARG_DST),
                                           scratch: try at(DNNL_ARG_SCRATCHPAD)))
            case .primitive(let primitive):
                var executionArguments: [dnnl_exec_arg_t] = []
                for argument in arguments {
                    let memory: Memory
                    switch argument.location.buffer {
                    case .input:
                        memory = inputMemory
                    case .output:
                        memory = outputMemory
                    case .arena, .constant:
                        memory = try Memory(argument.location.descriptor, engine: engine, pointer: pointer(argument.location))
                    }
                    if memory !== inputMemory && memory !== outputMemory { memories.append(memory) }
                    executionArguments.append(dnnl_exec_arg_t(arg: argument.argument, memory: memory.handle))
                }
                planSteps.append(.primitive(primitive, executionArguments))
            }
        }
        return DNNLPlan(batchSize: batchSize, steps: planSteps, memories: memories, inputMemory: inputMemory, outputMemory: outputMemory,
                        arena: arena, constants: Array(constants.values), stream: try DNNLStream(engine: engine),
                        choices: trials.choices)
    }
}
