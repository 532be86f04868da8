// One executable schedule of a Graph for one batch size: oneDNN primitives and WinogradKernels' steps in order, activations
// kept in the layouts oneDNN picks, concat branches written in place, every activation in one arena planned from lifetimes.
// Built by PlanBuilder (DNNLPlanBuilder.swift); run under a lock, so one plan serves one batch at a time.
import CDNNL
import Engine
import Foundation

final class DNNLPlan: @unchecked Sendable {
    enum Step {
        case primitive(Primitive, [dnnl_exec_arg_t])
        /// WinogradKernels' convolution, its input, output and scratch memory in the arena.
        case winograd(WinogradConvolution, source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer)

        var implementation: String {
            switch self {
            case .primitive(let primitive, _): primitive.implementation
            case .winograd(let kernel, _, _, _): kernel.implementation
            }
        }

        var kind: String {
            switch self {
            case .primitive(let primitive, _): primitive.kind
            case .winograd: "convolution"
            }
        }

        var destinationLayout: String? {
            switch self {
            case .primitive(let primitive, _): primitive.destinationLayout
            case .winograd: String(cString: dnnl_fmt_tag2str(dnnl_aBcd8b))
            }
        }
    }

    let batchSize: Int
    let steps: [Step]
    /// oneDNN memory objects that `steps` refer to; kept alive with the plan.
    let memories: [Memory]
    let inputMemory: Memory
    let outputMemory: Memory
    /// Activations and the steps' scratchpads, each placed by its lifetime.
    let arena: AlignedBuffer
    /// Weights and biases the steps read, in the layouts their primitives chose.
    let constants: [AlignedBuffer]
    let stream: DNNLStream
    /// The implementations timed for each convolution whose kind the build had not met before, and the one chosen.
    let choices: [KernelChoice]
    private let lock = NSLock()

    init(batchSize: Int, steps: [Step], memories: [Memory], inputMemory: Memory, outputMemory: Memory,
         arena: AlignedBuffer, constants: [AlignedBuffer], stream: DNNLStream, choices: [KernelChoice]) {
        self.batchSize = batchSize
        self.steps = steps
        self.memories = memories
        self.inputMemory = inputMemory
        self.outputMemory = outputMemory
        self.arena = arena
        self.constants = constants
        self.stream = stream
        self.choices = choices
    }

    /// Runs every step from `input` (plain NCHW) into `output` (plain row-major).
    func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer) throws {
        lock.lock()
        defer { lock.unlock() }
        // oneDNN only reads from the input memory; its API takes a mutable pointer.
        try inputMemory.point(at: UnsafeMutableRawPointer(mutating: input))
        try outputMemory.point(at: output)
        for step in steps {
            switch step {
            case .primitive(let primitive, let arguments):
                try arguments.withUnsafeBufferPointer { arguments in
                    try check(dnnl_primitive_execute(primitive.handle, stream.handle, Int32(arguments.count), arguments.baseAddress),
                              "executing \(primitive.implementation)")
                }
            case .winograd(let convolution, let source, let destination, let scratch):
                // The kernels run on the calling thread's OpenMP team: the steps before must have finished.
                try check(dnnl_stream_wait(stream.handle), "waiting for the stream")
                convolution.run(source: source, destination: destination, scratch: scratch)
            }
        }
        try check(dnnl_stream_wait(stream.handle), "waiting for the stream")
    }

    /// The implementation oneDNN chose for each step, in order (for benchmarks and diagnostics).
    var implementations: [String] { steps.map(\.implementation) }

    /// The kind of operation of each step, in order (diagnostics).
    var kinds: [String] { steps.map(\.kind) }
    var destinationLayouts: [String?] { steps.map(\.destinationLayout) }
}
