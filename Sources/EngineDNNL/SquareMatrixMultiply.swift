// One large single-precision matrix product through oneDNN's `dnnl_sgemm`: what this machine's cores can reach
// when nothing but arithmetic is asked of them, the yardstick for a network's effective GFLOP/s. Benchmarks only.
import CDNNL

/// C = A·B on square `size × size` matrices, allocated once; `multiply()` runs one product.
public final class SquareMatrixMultiply {
    public let size: Int
    private let threads: Int
    private var left: [Float]
    private var right: [Float]
    private var product: [Float]

    public init(size: Int, threads: Int) {
        precondition(size >= 1 && threads >= 1, "size and thread count must be positive")
        self.size = size
        self.threads = threads
        let count = size * size
        left = (0..<count).map { Float($0 % 17) * 0.01 }
        right = (0..<count).map { Float($0 % 13) * 0.01 }
        product = [Float](repeating: 0, count: count)
    }

    /// Floating-point operations of one product: a multiply and an add for each of size³ terms.
    public var floatingPointOperations: Int { 2 * size * size * size }

    /// C[row, column] after the last `multiply()`.
    public func value(row: Int, column: Int) -> Float { product[row * size + column] }

    /// A[row, k] and B[k, column] as `init` fills them, for checking a product.
    public func operands(row: Int, column: Int, k: Int) -> (Float, Float) { (left[row * size + k], right[k * size + column]) }

    private static let noTranspose = CChar(bitPattern: UInt8(ascii: "N"))

    public func multiply() throws {
        // OpenMP's thread count belongs to the calling thread, so it is set where the product runs.
        omp_set_num_threads(Int32(threads))
        let dimension = Int64(size)
        try left.withUnsafeBufferPointer { left in
            try right.withUnsafeBufferPointer { right in
                try product.withUnsafeMutableBufferPointer { product in
                    try check(dnnl_sgemm(Self.noTranspose, Self.noTranspose, dimension, dimension, dimension, 1,
                                         left.baseAddress, dimension, right.baseAddress, dimension, 0, product.baseAddress, dimension),
                              "sgemm \(size)×\(size)")
                }
            }
        }
    }
}
