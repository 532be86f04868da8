// Tensors known at load time — weights, Constant nodes, and the shape arithmetic exporters leave in graphs
// (Shape → Gather → Concat → Reshape, pads computed with Slice and Transpose) — and the operations that fold them.
// The batch size N is not known at load time: Shape writes it symbolically, and integers computed from it stay a + b·N.
import Foundation

/// An integer of a shape computation: `constant + batch · N`, N the batch size left open until a batch runs.
struct Dimension: Hashable, Sendable {
    var constant: Int64
    var batch: Int64

    static let batchSize = Dimension(constant: 0, batch: 1)

    init(constant: Int64, batch: Int64 = 0) {
        self.constant = constant
        self.batch = batch
    }
}

struct Folded {
    enum Scalars {
        case floats([Float])
        case integers([Int64])
        /// Integers some of which depend on the batch size.
        case dimensions([Dimension])
    }

    var shape: [Int]
    var scalars: Scalars
    /// The axis along which this constant is repeated for every image of the batch (an Expand to a shape with N in it):
    /// the tensor holds one image's copy, of size 1 along that axis.
    var repeatedOverBatch: Int?

    init(shape: [Int], scalars: Scalars) {
        self.shape = shape
        if case .dimensions(let values) = scalars, values.allSatisfy({ $0.batch == 0 }) {
            self.scalars = .integers(values.map(\.constant))
        } else {
            self.scalars = scalars
        }
    }

    init(shape: [Int], floats: [Float]) { self.init(shape: shape, scalars: .floats(floats)) }
    init(shape: [Int], integers: [Int64]) { self.init(shape: shape, scalars: .integers(integers)) }
    init(shape: [Int], dimensions: [Dimension]) { self.init(shape: shape, scalars: .dimensions(dimensions)) }

    /// Every shape a Folded gets passes `checkedShape`, so this product and every stride fit in an Int.
    var count: Int { shape.reduce(1, *) }

    /// The most values a tensor computed at load time may have (a file's own tensors are bounded by its size).
    static let maximumComputedCount = 1 << 24

    /// `shape` when no product of its dimensions can overflow: none negative, and the non-zero ones multiplying to at
    /// most 2³⁴ (a zero dimension empties a tensor but not its strides); else `invalid`, naming `what`.
    static func checkedShape(_ shape: [Int], _ what: @autoclosure () -> String) throws(OnnxError) -> [Int] {
        guard shape.allSatisfy({ $0 >= 0 }), let product = checkedProduct(shape.map { max($0, 1) }), product <= 1 << 34 else {
            throw OnnxError.invalid("\(what()) has the shape \(shape), which is too large")
        }
        return shape
    }

    /// The product of `values`, nil when it overflows.
    static func checkedProduct<Integer: FixedWidthInteger>(_ values: some Sequence<Integer>) -> Integer? {
        var product: Integer = 1
        for value in values {
            let (next, overflow) = product.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            product = next
        }
        return product
    }

    /// The scalars as floats (integers converted; only the constant part of a dimension, which callers refuse first).
    var floats: [Float] {
        switch scalars {
        case .floats(let values): return values
        case .integers(let values): return values.map(Float.init)
        case .dimensions(let values): return values.map { Float($0.constant) }
        }
    }

    /// The scalars as integers, or nil for a float tensor or one that depends on the batch size.
    var integers: [Int64]? {
        if case .integers(let values) = scalars { return values }
        return nil
    }

    /// The scalars as dimensions, or nil for a float tensor.
    var dimensions: [Dimension]? {
        switch scalars {
        case .floats: return nil
        case .integers(let values): return values.map { Dimension(constant: $0) }
        case .dimensions(let values): return values
        }
    }

    var dependsOnBatch: Bool {
        if case .dimensions = scalars { return true }
        return false
    }
}

extension Folded {
    /// Reads an initializer or a Constant's tensor; the only copy of its bytes.
    init(_ tensor: OnnxTensor) throws(OnnxError) {
        guard !tensor.isExternal else {
            throw OnnxError.invalid("tensor '\(tensor.name)' keeps its data in an external file; save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))")
        }
        let shape = tensor.dimensions.map { Int($0) }
        let count = tensor.count
        guard let type = OnnxDataType(rawValue: tensor.dataType) else {
            throw OnnxError.invalid("tensor '\(tensor.name)' has data type \(tensor.dataType); Blindspot reads float, double and integer tensors")
        }
        if let data = tensor.raw {
            guard data.count == count * type.byteWidth else {
                throw OnnxError.invalid("tensor '\(tensor.name)' of shape \(shape) has \(data.count) bytes, expected \(count * type.byteWidth)")
            }
            self = data.withUnsafeBytes { bytes in
                switch type {
                case .float: return Folded(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
                case .double: return Folded(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) })
                case .int64: return Folded(shape: shape, integers: (0..<count).map { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
                case .int32: return Folded(shape: shape, integers: (0..<count).map { Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) })
                case .int8: return Folded(shape: shape, integers: (0..<count).map { Int64(bytes.load(fromByteOffset: $0, as: Int8.self)) })
                case .uint8, .bool: return Folded(shape: shape, integers: (0..<count).map { Int64(bytes.load(fromByteOffset: $0, as: UInt8.self)) })
                }
            }
            return
        }
        let stored: Folded
        switch type {
        case .float: stored = Folded(shape: shape, floats: tensor.floatData)
        case .double: stored = Folded(shape: shape, floats: tensor.doubleData.map(Float.init))
        case .int64: stored = Folded(shape: shape, integers: tensor.int64Data)
        case .int32, .int8, .uint8, .bool: stored = Folded(shape: shape, integers: tensor.int32Data)
        }
        let storedCount: Int
        switch stored.scalars {
        case .floats(let values): storedCount = values.count
        case .integers(let values): storedCount = values.count
        case .dimensions(let values): storedCount = values.count
        }
        guard storedCount == count else {
            throw OnnxError.invalid("tensor '\(tensor.name)' of shape \(shape) holds \(storedCount) values")
        }
        self = stored
    }
}

// MARK: - Folding operations

extension Folded {
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// Applies `transform` to the scalars whatever their type.
    func mapScalars(shape newShape: [Int], _ transform: (_ count: Int, _ pick: (Int) -> Int) -> [Int]) -> Folded {
        let picks = transform(count) { $0 }
        switch scalars {
        case .floats(let values): return Folded(shape: newShape, floats: picks.map { values[$0] })
        case .integers(let values): return Folded(shape: newShape, integers: picks.map { values[$0] })
        case .dimensions(let values): return Folded(shape: newShape, dimensions: picks.map { values[$0] })
        }
    }

    /// The scalars at the cartesian product of `indices` (one list per axis).
    func select(_ indices: [[Int]]) -> Folded {
        let strides = Self.strides(shape)
        var offsets = [0]
        for (axis, list) in indices.enumerated() {
            offsets = offsets.flatMap { base in list.map { base + $0 * strides[axis] } }
        }
        return mapScalars(shape: indices.map(\.count)) { _, _ in offsets }
    }

    func transposed(_ permutation: [Int]) throws(OnnxError) -> Folded {
        guard permutation.sorted() == Array(0..<shape.count) else { throw OnnxError.invalid("Transpose permutation \(permutation) for shape \(shape)") }
        let strides = Self.strides(shape)
        let newShape = permutation.map { shape[$0] }
        var offsets = [0]
        for axis in permutation {
            offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + $0 * strides[axis] } }
        }
        return mapScalars(shape: newShape) { _, _ in offsets }
    }

    static func concatenated(_ parts: [Folded], axis: Int) throws(OnnxError) -> Folded {
        guard let first = parts.first else { throw OnnxError.invalid("Concat of nothing") }
        let rank = first.shape.count
        let axis = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(axis), parts.allSatisfy({ $0.shape.count == rank }) else { throw OnnxError.invalid("Concat axis \(axis) of shapes \(parts.map(\.shape))") }
        for part in parts where zip(part.shape, first.shape).enumerated().contains(where: { $0.offset != axis && $0.element.0 != $0.element.1 }) {
            throw OnnxError.invalid("Concat of shapes \(parts.map(\.shape)) along axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        _ = try checkedShape(shape, "a Concat")
        guard checkedProduct(shape) ?? .max <= maximumComputedCount else { throw OnnxError.invalid("a Concat to \(shape) is too large") }
        let isFloat = parts.contains { if case .floats = $0.scalars { true } else { false } }
        if isFloat {
            var values: [Float] = []
            for block in 0..<outer {
                for part in parts {
                    let size = part.count / max(outer, 1)
                    values += part.floats[(block * size)..<((block + 1) * size)]
                }
            }
            return Folded(shape: shape, floats: values)
        }
        var values: [Dimension] = []
        for block in 0..<outer {
            for part in parts {
                let size = part.count / max(outer, 1)
                values += part.dimensions![(block * size)..<((block + 1) * size)]
            }
        }
        return Folded(shape: shape, dimensions: values)
    }

    /// The NumPy broadcast of `tensors`' shapes, with each tensor's scalar offset for every element of the result.
    static func broadcast(_ operation: String, _ shapes: [[Int]]) throws(OnnxError) -> (shape: [Int], offsets: [[Int]]) {
        let rank = shapes.map(\.count).max() ?? 0
        let shapes = shapes.map { [Int](repeating: 1, count: rank - $0.count) + $0 }
        var shape: [Int] = []
        for axis in 0..<rank {
            let sizes = Set(shapes.map { $0[axis] }).subtracting([1])
            guard sizes.count <= 1 else { throw OnnxError.invalid("\(operation) of shapes \(shapes)") }
            shape.append(sizes.first ?? 1)
        }
        guard checkedProduct(try checkedShape(shape, operation)) ?? .max <= maximumComputedCount else {
            throw OnnxError.invalid("\(operation) of shapes \(shapes) is too large")
        }
        let offsets = shapes.map { own in
            let strides = Self.strides(own)
            var offsets = [0]
            for axis in 0..<rank {
                offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + (own[axis] == 1 ? 0 : $0 * strides[axis]) } }
            }
            return offsets
        }
        return (shape, offsets)
    }

    /// NumPy-broadcast element-wise arithmetic; integers stay integers (ONNX divides them toward zero).
    static func arithmetic(_ operation: String, _ left: Folded, _ right: Folded) throws(OnnxError) -> Folded {
        let (shape, offsets) = try broadcast(operation, [left.shape, right.shape])
        let (leftOffsets, rightOffsets) = (offsets[0], offsets[1])
        if let a = left.dimensions, let b = right.dimensions {
            let values = try zip(leftOffsets, rightOffsets).map { i, j throws(OnnxError) in try Dimension.apply(operation, a[i], b[j]) }
            return Folded(shape: shape, dimensions: values)
        }
        guard !left.dependsOnBatch, !right.dependsOnBatch else {
            throw OnnxError.invalid("\(operation) mixes the batch size with floats")
        }
        guard operation != "Mod" else { throw OnnxError.invalid("Mod of floats") }
        let (a, b) = (left.floats, right.floats)
        let values = zip(leftOffsets, rightOffsets).map { i, j -> Float in
            switch operation {
            case "Add": return a[i] + b[j]
            case "Sub": return a[i] - b[j]
            case "Mul": return a[i] * b[j]
            default: return a[i] / b[j]
            }
        }
        return Folded(shape: shape, floats: values)
    }
}

extension Dimension {
    /// `left op right` for Add, Sub, Mul, Div and Mod; integers divide toward zero as ONNX does. What cannot be written
    /// as a + b·N (N², a division that depends on N) is refused.
    static func apply(_ operation: String, _ left: Dimension, _ right: Dimension) throws(OnnxError) -> Dimension {
        func checked(_ result: (partialValue: Int64, overflow: Bool)) throws(OnnxError) -> Int64 {
            guard !result.overflow else { throw OnnxError.invalid("overflow in a shape computation") }
            return result.partialValue
        }
        switch operation {
        case "Add":
            return Dimension(constant: left.constant &+ right.constant, batch: try checked(left.batch.addingReportingOverflow(right.batch)))
        case "Sub":
            return Dimension(constant: left.constant &- right.constant, batch: try checked(left.batch.subtractingReportingOverflow(right.batch)))
        case "Mul":
            guard left.batch == 0 || right.batch == 0 else { throw OnnxError.invalid("a shape computation squares the batch size") }
            return Dimension(constant: left.constant &* right.constant,
                             batch: try checked(left.batch.multipliedReportingOverflow(by: right.constant))
                                 &+ (try checked(right.batch.multipliedReportingOverflow(by: left.constant))))
        default:
            guard right.batch == 0 else {
                guard left.batch != 0, left.constant == 0, right.constant == 0, left.batch % right.batch == 0, operation == "Div" else {
                    throw OnnxError.invalid("a shape computation divides by the batch size")
                }
                return Dimension(constant: left.batch / right.batch)
            }
            guard right.constant != 0, !(right.constant == -1 && (left.constant == .min || left.batch == .min)) else {
                throw OnnxError.invalid("integer division by zero or overflow in a shape computation")
            }
            if operation == "Mod" {
                guard left.batch == 0 else { throw OnnxError.invalid("a shape computation takes the batch size modulo a number") }
                // ONNX Mod with fmod = 0 takes the divisor's sign, as Python's % does.
                let remainder = left.constant % right.constant
                return Dimension(constant: remainder != 0 && (remainder < 0) != (right.constant < 0) ? remainder + right.constant : remainder)
            }
            guard left.batch % right.constant == 0 || left.batch == 0 else {
                throw OnnxError.invalid("a shape computation divides the batch size by \(right.constant)")
            }
            guard left.batch == 0 || left.constant % right.constant == 0 else {
                throw OnnxError.invalid("a shape computation divides a sum with the batch size by \(right.constant)")
            }
            return Dimension(constant: left.constant / right.constant, batch: left.batch / right.constant)
        }
    }

    /// Whether two dimensions are equal for every batch size (true), for none (false), or for some only (nil).
    static func equal(_ left: Dimension, _ right: Dimension) -> Bool? {
        if left.batch == right.batch { return left.constant == right.constant }
        // a1 + b1·N = a2 + b2·N holds only for N = (a2 − a1) / (b1 − b2), and N ≥ 1.
        let (numerator, denominator) = (Double(right.constant) - Double(left.constant), Double(left.batch) - Double(right.batch))
        let n = numerator / denominator
        return n >= 1 && n == n.rounded() ? nil : false
    }
}
