// Blindspot's own Winograd convolution (the C kernels of WinogradKernels) as a step of a plan, for the stride-1 layers
// oneDNN 2.6 offers no Winograd kernel for: 3×3 ones on AVX2 CPUs (below 4 images on AVX-512 ones), 1×r and r×1 ones.
import CDNNL
import Engine
import WinogradKernels

/// One convolution run by WinogradKernels' F(4×4, 3×3) or F(m, r) along a line: nChw8c activations in and out, weights
/// transformed once.
final class WinogradConvolution {
    /// The name plans and kernel choices give the kernel of `problem`, beside oneDNN's names: `blindspot_wino_4x3:avx2`
    /// for 3×3, `blindspot_wino_line_<m>x<r>:avx2` along a line.
    static func implementation(_ problem: bs_winograd_problem) -> String {
        let taps = Int(max(problem.kernel_height, problem.kernel_width))
        guard problem.kernel_height == 1 || problem.kernel_width == 1 else { return "blindspot_wino_4x3:avx2" }
        let outputs = withUnsafePointer(to: problem) { Int(bs_winograd_points($0)) } - taps + 1
        return "blindspot_wino_line_\(outputs)x\(taps):avx2"
    }

    var implementation: String { Self.implementation(problem) }

    let problem: bs_winograd_problem
    /// The weights in the kernels' layout, made by `WeightCache.winogradWeights`.
    let weights: AlignedBuffer
    let bias: AlignedBuffer?
    /// The threads it runs on, fixed when planned: its scratch memory is sized for them (a later
    /// `omp_set_num_threads` must not outgrow it).
    let threads: Int32

    init(problem: bs_winograd_problem, weights: AlignedBuffer, bias: AlignedBuffer?, threads: Int32) {
        self.problem = problem
        self.weights = weights
        self.bias = bias
        self.threads = threads
    }

    /// The problem of `convolution` at `batch` images of `input` ([C, H, W]) into `output`, when the kernels run it: a
    /// CPU with AVX2 and FMA; an ungrouped, undilated stride-1 convolution, 3×3, 1×r or r×1 (3 ≤ r ≤ 7), with channels
    /// in multiples of 8, padding less than the kernel and no activation but ReLU. Else nil.
    static func problem(_ convolution: Convolution, batch: Int, input: [Int], output: [Int]) -> bs_winograd_problem? {
        guard bs_winograd_supported() != 0, convolution.weightShape.count == 4, convolution.stride == Size2D(1, 1),
              convolution.dilation == Size2D(1, 1), convolution.groups == 1, input.count == 3, output.count == 3 else { return nil }
        let relu: Int32
        switch convolution.activation {
        case .identity: relu = 0
        case .relu: relu = 1
        default: return nil
        }
        var problem = bs_winograd_problem(
            batch: Int32(batch), in_channels: Int32(input[0]), out_channels: Int32(output[0]),
            in_height: Int32(input[1]), in_width: Int32(input[2]), out_height: Int32(output[1]), out_width: Int32(output[2]),
            kernel_height: Int32(convolution.weightShape[2]), kernel_width: Int32(convolution.weightShape[3]),
            pad_top: Int32(convolution.padding.top), pad_left: Int32(convolution.padding.left), relu: relu)
        return bs_winograd_check(&problem) == 0 ? problem : nil
    }

    /// The layout of its input and output: oneDNN's nChw8c.
    static func activationDescriptor(batch: Int32, channels: Int32, height: Int32, width: Int32) throws -> MemoryDescriptor {
        try MemoryDescriptor(dimensions: [Int(batch), Int(channels), Int(height), Int(width)], tag: dnnl_aBcd8b)
    }

    static func sourceDescriptor(_ problem: bs_winograd_problem) throws -> MemoryDescriptor {
        try activationDescriptor(batch: problem.batch, channels: problem.in_channels, height: problem.in_height, width: problem.in_width)
    }

    static func destinationDescriptor(_ problem: bs_winograd_problem) throws -> MemoryDescriptor {
        try activationDescriptor(batch: problem.batch, channels: problem.out_channels, height: problem.out_height, width: problem.out_width)
    }

    /// Bytes of the transformed weights.
    static func weightBytes(_ problem: bs_winograd_problem) -> Int {
        withUnsafePointer(to: problem) { bs_winograd_weight_count($0) } * MemoryLayout<Float>.stride
    }

    /// OpenMP's thread count now, which oneDNN's primitives planned with it use too.
    static var currentThreads: Int32 { bs_winograd_threads() }

    /// Bytes of scratch memory one run on `threads` threads needs.
    static func scratchBytes(_ problem: bs_winograd_problem, threads: Int32) -> Int {
        withUnsafePointer(to: problem) { bs_winograd_scratch_count($0, threads) } * MemoryLayout<Float>.stride
    }

    /// The kernels' layout of plain [out, in, kernel height, kernel width] weights.
    static func transformedWeights(_ problem: bs_winograd_problem, plain: UnsafePointer<Float>) -> AlignedBuffer {
        let buffer = AlignedBuffer(byteCount: weightBytes(problem))
        withUnsafePointer(to: problem) { bs_winograd_transform_weights($0, plain, buffer.pointer.assumingMemoryBound(to: Float.self)) }
        return buffer
    }

    /// Runs once: `source` and `destination` in nChw8c, `scratch` of `scratchBytes(problem, threads:)` bytes, all
    /// 64-byte aligned.
    func run(source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer) {
        Self.run(problem, source: source, weights: weights.pointer, bias: bias?.pointer, destination: destination, scratch: scratch,
                 threads: threads)
    }

    static func run(_ problem: bs_winograd_problem, source: UnsafeRawPointer, weights: UnsafeRawPointer, bias: UnsafeRawPointer?,
                    destination: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer, threads: Int32) {
        withUnsafePointer(to: problem) { problem in
            bs_winograd_run(problem, source.assumingMemoryBound(to: Float.self), weights.assumingMemoryBound(to: Float.self),
                            bias?.assumingMemoryBound(to: Float.self), destination.assumingMemoryBound(to: Float.self),
                            scratch.assumingMemoryBound(to: Float.self), threads)
        }
    }
}
