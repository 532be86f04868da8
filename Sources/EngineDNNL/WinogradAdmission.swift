// Decides, before a plan is built, which convolutions run a Winograd kernel (oneDNN's or WinogradKernels'): a rule on
// the problem and the kernels ranks them and charges the memory each adds to the graph's allowance, and one timing confirms
// each. Not the timing of direct kernels against each other, which KernelTrials does while the plan is built.
import CDNNL
import Engine
import WinogradKernels

extension PlanBuilder {
    /// oneDNN's own rule in both of its AVX-512 Winograd kernels (`is_winograd_faster_than_direct`): for inference,
    /// its Winograd pays from 4 images on. Below that no plan holds oneDNN's Winograd weights or scratchpads.
    static let winogradMinimumBatch = 4

    /// The convolutions that run Winograd in this plan, with the kernel each runs. The rule, applied in full at every
    /// build, so that a plan is the same from run to run unless a layer's timing sits near the margin:
    /// 1. Candidates: the 3×3, 1×r and r×1 (3 ≤ r ≤ 7) stride-1 convolutions (ungrouped, undilated, no residual sum
    ///    fused into them). For 3×3 at `winogradMinimumBatch` images or more, oneDNN's first Winograd offer where it has
    ///    one (oneDNN 2.6 does on AVX-512 only). Else, or where oneDNN's does not fit the allowance (step 4), at any
    ///    batch, WinogradKernels' F(4×4, 3×3) or F(m, r) along the line where it takes the problem (AVX2 and FMA,
    ///    channels in multiples of 8, ReLU or no activation): its transforms cost little beside the products it saves,
    ///    even for one image.
    /// 2. Cost: the bytes it adds to the process, for as long as the graph is prepared. Its Winograd weights, whole
    ///    (about 4× the plain ones for either F(4×4, 3×3); 2× for F(4, 3) along a line, 8/7 for F(2, 7)), unless an
    ///    earlier plan made them: the plain weights (or the blocked copy an earlier plan made) stay beside them for
    ///    other batch sizes — oneDNN cannot reorder out of its Winograd layouts — in place of the copy a direct kernel
    ///    would hold. Plus the growth of the largest Winograd scratchpad of the plan (tens of MB at batch 8 for
    ///    oneDNN's; 105 MB for Inception v3's 80→192 71×71 layer; WinogradKernels' a block of tiles per thread, about
    ///    1 MB). Scratchpads are arena buffers alive for their step only and often fit among activations dead by then,
    ///    but not always (that layer's raised the peak of a batch-8 process by 96 MB), and how much fits is known only
    ///    once the plan is built: the largest is charged whole, the others overlap it in time.
    /// 3. Order: most output pixels first. Winograd saves a fixed share of a convolution's multiply-adds, which are its
    ///    weights times its output pixels and images, while its cost grows with its weights: the time saved per extra
    ///    byte grows with the output pixels (ResNet-50's 56×56 layers first, its 512-channel 7×7 layers last). Ties keep
    ///    the graph's order.
    /// 4. In that order, a candidate whose cost fits in what is left of the allowance (its first kernel that fits: on
    ///    AVX-512, once a plan for fewer images has made WinogradKernels' weights for a layer, they cost nothing more and
    ///    may fit where oneDNN's do not) is timed against oneDNN's first direct offer (medians of `KernelTrials.runs`,
    ///    the reorders between their layouts charged to Winograd, an identical problem timed once) and admitted when it
    ///    takes at most `KernelTrials.margin` times as long; the allowance pays for admitted candidates only.
    /// The allowance (`WeightCache.winogradAllowance`) is `DNNLBackend.defaultWinogradAllowance` × the plain weights'
    /// bytes per image of the largest batch planned, less what the graph's plans have spent: ResNet-50's 256-channel
    /// layers fit at 8 images, not at one.
    func admittedWinogradNodes() throws -> [Int: WinogradKernel] {
        struct Candidate {
            let node: Int
            let outputPixels: Int
            let first: Primitive
            /// In order of preference, with the key naming each one's problem.
            let kernels: [(kernel: WinogradKernel, key: [UInt8])]
        }
        var candidates: [Candidate] = []
        for (position, node) in graph.nodes.enumerated() {
            guard case .convolution(let convolution) = node.operation, convolution.stride == Size2D(1, 1),
                  convolution.dilation == Size2D(1, 1), convolution.groups == 1, fusedSums[position] == nil else { continue }
            // oneDNN's Winograd takes 3×3 only; which kernels WinogradKernels takes, its own check says.
            let square = convolution.weightShape[2] == 3 && convolution.weightShape[3] == 3
            let blindspot = WinogradConvolution.problem(convolution, batch: batchSize, input: graph.nodes[node.inputs[0].index].shape,
                                                        output: node.shape)
            guard square || blindspot != nil else { continue }
            let attributes = try Attributes(activation: convolution.activation)
            let (input, output) = (try MemoryDescriptor.any(dimensions(of: node.inputs[0].index)), try MemoryDescriptor.any(dimensions(of: position)))
            var directOperation = try convolutionDescriptor(position, convolution, algorithm: dnnl_convolution_direct, source: input, destination: output)
            guard let first = try makePrimitive(&directOperation, attributes: attributes, engine: engine) else { continue }
            let problemKey = withUnsafeBytes(of: &directOperation, Array.init) + Array("\(convolution.activation)".utf8)
            var winogradOperation = try convolutionDescriptor(position, convolution, algorithm: dnnl_convolution_winograd, source: input, destination: output)
            var kernels: [(kernel: WinogradKernel, key: [UInt8])] = []
            if square, batchSize >= Self.winogradMinimumBatch,
               let winograd = try offeredImplementations(&winogradOperation, attributes: attributes, engine: engine).first {
                kernels.append((.oneDNN(winograd), Array("winograd".utf8) + problemKey))
            }
            if let problem = blindspot {
                kernels.append((.blindspot(problem), Array("blindspot winograd".utf8) + problemKey))
            }
            if !kernels.isEmpty {
                candidates.append(Candidate(node: position, outputPixels: node.shape[1] * node.shape[2], first: first, kernels: kernels))
            }
        }
        candidates.sort { ($0.outputPixels, -$0.node) > ($1.outputPixels, -$1.node) }
        var admitted: [Int: WinogradKernel] = [:]
        var scratchpadBytes = 0
        for candidate in candidates {
            // The first kernel whose cost fits; oneDNN's, where a plan of another batch size has not already made
            // WinogradKernels' weights for the layer and left too little for oneDNN's own.
            let costs = candidate.kernels.map { option -> (scratchpad: Int, cost: Int) in
                let weightBytes, scratchpad: Int
                switch option.kernel {
                case .oneDNN(let winograd):
                    let weightsDescriptor = winograd.memoryDescriptor(dnnl_query_weights_md)
                    weightBytes = weights.holds(node: candidate.node, weightsDescriptor) ? 0 : weightsDescriptor.byteCount
                    scratchpad = winograd.memoryDescriptor(dnnl_query_scratchpad_md).byteCount
                case .blindspot(let problem):
                    weightBytes = weights.holdsWinogradWeights(node: candidate.node) ? 0 : WinogradConvolution.weightBytes(problem)
                    scratchpad = WinogradConvolution.scratchBytes(problem, threads: WinogradConvolution.currentThreads)
                }
                return (scratchpad, weightBytes + max(0, scratchpad - scratchpadBytes))
            }
            guard let chosen = costs.indices.first(where: { costs[$0].cost <= weights.winogradAllowance(batch: batchSize) }) else { continue }
            let (kernel, key) = candidate.kernels[chosen]
            let faster: Bool
            switch kernel {
            case .oneDNN(let winograd): faster = try trials.confirmWinograd(winograd, against: candidate.first, node: candidate.node, key: key)
            case .blindspot(let problem): faster = try trials.confirmWinograd(problem, against: candidate.first, node: candidate.node, key: key)
            }
            guard faster else { continue }
            weights.spendWinogradAllowance(costs[chosen].cost, batch: batchSize)
            scratchpadBytes = max(scratchpadBytes, costs[chosen].scratchpad)
            admitted[candidate.node] = kernel
        }
        return admitted
    }
}

/// The Winograd kernel a convolution runs.
enum WinogradKernel {
    /// oneDNN's first Winograd offer for the problem with free layouts (made again for the plan's layouts).
    case oneDNN(Primitive)
    /// WinogradKernels' F(4×4, 3×3) or F(m, r) along a line for this problem.
    case blindspot(bs_winograd_problem)
}
