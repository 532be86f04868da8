// Tensors known at load time — weights, Constant nodes, and the shape arithmetic exporters leave in graphs
// (Shape → Gather → Concat → Reshape, pads computed with Slice and Transpose) — and the operations that fold them.
// The batch size is not known at load time: Shape writes it as a marker that may be moved around but not computed with.
import Foundation

struct Folded {
    enum Scalars {
        case floats([Float])
        case integers([Int64])
    }

    var shape: [Int]
    var scalars: Scalars

    /// Stands for the batch size in integer tensors made by Shape.
    static let batch: Int64 = .min + 1

    init(shape: [Int], scalars: Scalars) {
        self.shape = shape
        self.scalars = scalars
    }

    init(shape: [Int], floats: [Float]) { self.init(shape: shape, scalars: .floats(floats)) }
    init(shape: [Int], integers: [Int64]) { self.init(shape: shape, scalars: .integers(integers)) }

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

    /// The scalars as floats (integers converted).
    var floats: [Float] {
        switch scalars {
        case .floats(let values): return values
        case .integers(let values): return values.map(Float.init)
        }
    }

    /// The scalars as integers, or nil for a float tensor.
    var integers: [Int64]? {
        if case .integers(let values) = scalars { return values }
        return nil
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
        var values: [Int64] = []
        for block in 0..<outer {
            for part in parts {
                let size = part.count / max(outer, 1)
                values += part.integers![(block * size)..<((block + 1) * size)]
            }
        }
        return Folded(shape: shape, integers: values)
    }

    /// NumPy-broadcast element-wise arithmetic; integers stay integers (ONNX divides them toward zero).
    static func arithmetic(_ operation: String, _ left: Folded, _ right: Folded) throws(OnnxError) -> Folded {
        let rank = max(left.shape.count, right.shape.count)
        let leftShape = [Int](repeating: 1, count: rank - left.shape.count) + left.shape
        let rightShape = [Int](repeating: 1, count: rank - right.shape.count) + right.shape
        var shape: [Int] = []
        for (a, b) in zip(leftShape, rightShape) {
            guard a == b || a == 1 || b == 1 else { throw OnnxError.invalid("\(operation) of shapes \(left.shape) and \(right.shape)") }
            shape.append(max(a, b))
        }
        guard checkedProduct(try checkedShape(shape, operation)) ?? .max <= maximumComputedCount else {
            throw OnnxError.invalid("\(operation) of shapes \(left.shape) and \(right.shape) is too large")
        }
        func offsets(_ own: [Int]) -> [Int] {
            let strides = Self.strides(own)
            var offsets = [0]
            for axis in 0..<rank {
                offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + (own[axis] == 1 ? 0 : $0 * strides[axis]) } }
            }
            return offsets
        }
        let (leftOffsets, rightOffsets) = (offsets(leftShape), offsets(rightShape))
        if let a = left.integers, let b = right.integers {
            guard !a.contains(batch), !b.contains(batch) else {
                throw OnnxError.invalid("\(operation) computes with the batch size, which Blindspot leaves open until a batch runs")
            }
            var values: [Int64] = []
            for (i, j) in zip(leftOffsets, rightOffsets) {
                switch operation {
                case "Add": values.append(a[i] &+ b[j])
                case "Sub": values.append(a[i] &- b[j])
                case "Mul": values.append(a[i] &* b[j])
                default:
                    let (quotient, overflow) = a[i].dividedReportingOverflow(by: b[j])
                    guard b[j] != 0, !overflow else { throw OnnxError.invalid("integer division by zero or overflow in a shape computation") }
                    values.append(quotient)
                }
            }
            return Folded(shape: shape, integers: values)
        }
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
