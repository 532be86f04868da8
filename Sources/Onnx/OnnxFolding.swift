// Load-time evaluation of the nodes whose inputs are all known: constants and shape arithmetic.
import Engine

extension Importer {
    func fold(_ node: OnnxNode) throws -> Folded {
        let inputs = node.inputs.map { $0.isEmpty ? nil : folded($0) }
        func operand(_ index: Int) throws -> Folded {
            guard inputs.indices.contains(index), let tensor = inputs[index] else { throw OnnxError.invalid("input \(index) is missing") }
            guard tensor.repeatedOverBatch == nil else { throw Refusal(reason: "it computes with a constant repeated over the batch") }
            return tensor
        }
        switch node.operation {
        case "Constant":
            switch node.attributes["value"] ?? node.attributes["value_float"] ?? node.attributes["value_floats"]
                ?? node.attributes["value_int"] ?? node.attributes["value_ints"] {
            case .tensor(let tensor)?: return try Folded(tensor)
            case .float(let value)?: return Folded(shape: [], floats: [value])
            case .floats(let values)?: return Folded(shape: [values.count], floats: values)
            case .int(let value)?: return Folded(shape: [], integers: [value])
            case .ints(let values)?: return Folded(shape: [values.count], integers: values)
            default: throw Refusal(reason: "only tensor, float and integer constants are supported")
            }
        case "Identity", "Dropout":
            return try operand(0)
        case "ConstantOfShape":
            let shape = try integers(operand(0), "the shape")
            guard shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else { throw OnnxError.invalid("ConstantOfShape of \(shape)") }
            let dimensions = shape.map { Int($0) }
            var fill = Folded(shape: [1], floats: [0])
            if case .tensor(let tensor)? = node.attributes["value"] { fill = try Folded(tensor) }
            guard fill.count == 1 else { throw OnnxError.invalid("ConstantOfShape's value must have one element") }
            guard let count = Folded.checkedProduct(dimensions), count <= Folded.maximumComputedCount else {
                throw OnnxError.invalid("ConstantOfShape of \(shape) is too large")
            }
            if let values = fill.integers { return Folded(shape: dimensions, integers: Array(repeating: values[0], count: count)) }
            return Folded(shape: dimensions, floats: Array(repeating: fill.floats[0], count: count))
        case "Cast":
            let source = try operand(0)
            switch try int(node, "to", 1) {
            case 1, 10, 11:
                guard !source.dependsOnBatch else { throw Refusal(reason: "it makes the batch size a float") }
                return Folded(shape: source.shape, floats: source.floats)
            case 2, 3, 4, 5, 6, 7, 9, 12, 13:
                if let values = source.dimensions { return Folded(shape: source.shape, dimensions: values) }
                return Folded(shape: source.shape, integers: source.floats.map { $0.isFinite ? Int64(max(min($0, 9e18), -9e18)) : 0 })
            default: throw Refusal(reason: "cast to type \(try int(node, "to", 1))")
            }
        case "Gather":
            let (data, indices) = (try operand(0), try operand(1))
            let axis = try normalized(int(node, "axis", 0), rank: data.shape.count)
            guard indices.shape.count <= 1 else { throw Refusal(reason: "indices of rank \(indices.shape.count)") }
            let positions = try integers(indices, "Gather's indices").map { index -> Int in
                let position = index < 0 ? index + Int64(data.shape[axis]) : index
                guard position >= 0, position < Int64(data.shape[axis]) else { throw OnnxError.invalid("index \(index) out of range for \(data.shape)") }
                return Int(position)
            }
            var lists = data.shape.map { Array(0..<$0) }
            lists[axis] = positions
            var result = data.select(lists)
            if indices.shape.isEmpty { result.shape.remove(at: axis) }
            return result
        case "Slice":
            let data = try operand(0)
            let starts: [Int64], ends: [Int64]
            var axes: [Int64]?, steps: [Int64]?
            if opset < 10 {
                starts = try ints(node, "starts") ?? []
                ends = try ints(node, "ends") ?? []
                axes = try ints(node, "axes")
            } else {
                starts = try integers(operand(1), "starts")
                ends = try integers(operand(2), "ends")
                if let tensor = inputs.count > 3 ? inputs[3] : nil { axes = try integers(tensor, "axes") }
                if let tensor = inputs.count > 4 ? inputs[4] : nil { steps = try integers(tensor, "steps") }
            }
            let chosen = try (axes ?? (0..<Int64(starts.count)).map { $0 }).map { try normalized($0, rank: data.shape.count) }
            let stepList = steps ?? Array(repeating: 1, count: chosen.count)
            guard starts.count == chosen.count, ends.count == chosen.count, stepList.count == chosen.count, !stepList.contains(0) else {
                throw OnnxError.invalid("Slice with \(starts.count) starts, \(ends.count) ends, \(chosen.count) axes, \(stepList.count) steps")
            }
            var lists = data.shape.map { Array(0..<$0) }
            for (position, axis) in chosen.enumerated() {
                let size = Int64(data.shape[axis])
                let step = stepList[position]
                func clamp(_ value: Int64, _ low: Int64, _ high: Int64) -> Int64 { min(max(value < 0 ? value &+ size : value, low), high) }
                if step > 0 {
                    let (start, end) = (clamp(starts[position], 0, size), clamp(ends[position], 0, size))
                    lists[axis] = start < end ? Array(stride(from: Int(start), to: Int(end), by: Int(step))) : []
                } else {
                    let (start, end) = (clamp(starts[position], 0, size - 1), clamp(ends[position], -1, size - 1))
                    lists[axis] = start > end ? Array(stride(from: Int(start), to: Int(end), by: Int(step))) : []
                }
            }
            return data.select(lists)
        case "Concat":
            return try Folded.concatenated(node.inputs.indices.map(operand), axis: Int(int(node, "axis", 0)))
        case "Transpose":
            let data = try operand(0)
            let permutation = try ints(node, "perm")?.map { Int($0) } ?? Array((0..<data.shape.count).reversed())
            return try data.transposed(permutation)
        case "Reshape":
            let data = try operand(0)
            var target = try integers(operand(1), "the shape").map { Int($0) }
            let allowZero = try int(node, "allowzero", 0) == 1
            for index in target.indices where target[index] == 0 && !allowZero {
                guard index < data.shape.count else { throw OnnxError.invalid("Reshape copies dimension \(index) of \(data.shape)") }
                target[index] = data.shape[index]
            }
            return try reshaped(data, to: target)
        case "Flatten":
            let data = try operand(0)
            let axis = try normalized(int(node, "axis", 1), rank: data.shape.count + 1)
            return try reshaped(data, to: [data.shape[..<axis].reduce(1, *), data.shape[axis...].reduce(1, *)])
        case "Unsqueeze", "Squeeze":
            let data = try operand(0)
            let axes = try squeezeAxes(node, inputs.count > 1 ? inputs[1] : nil)
            return try reshaped(data, to: squeezed(data.shape, node.operation, axes))
        case "Add", "Sub", "Mul", "Div":
            return try Folded.arithmetic(node.operation, operand(0), operand(1))
        case "Mod":
            guard try int(node, "fmod", 0) == 0 else { throw Refusal(reason: "fmod = 1") }
            return try Folded.arithmetic(node.operation, operand(0), operand(1))
        case "Sqrt":
            let source = try operand(0)
            guard !source.dependsOnBatch else { throw Refusal(reason: "it takes the square root of the batch size") }
            return Folded(shape: source.shape, floats: source.floats.map { $0.squareRoot() })
        case "Equal":
            let (left, right) = (try operand(0), try operand(1))
            let (shape, offsets) = try Folded.broadcast("Equal", [left.shape, right.shape])
            if let a = left.dimensions, let b = right.dimensions {
                return Folded(shape: shape, integers: try zip(offsets[0], offsets[1]).map { i, j in
                    guard let equal = Dimension.equal(a[i], b[j]) else { throw Refusal(reason: "it compares the batch size with a number it may equal") }
                    return equal ? 1 : 0
                })
            }
            guard !left.dependsOnBatch, !right.dependsOnBatch else { throw OnnxError.invalid("Equal of the batch size and floats") }
            let (a, b) = (left.floats, right.floats)
            return Folded(shape: shape, integers: zip(offsets[0], offsets[1]).map { a[$0] == b[$1] ? 1 : 0 })
        case "Where":
            let (condition, chosen, other) = (try operand(0), try operand(1), try operand(2))
            let flags = try integers(condition, "Where's condition")
            let (shape, offsets) = try Folded.broadcast("Where", [condition.shape, chosen.shape, other.shape])
            let picks = offsets[0].indices.map { flags[offsets[0][$0]] != 0 }
            if let a = chosen.dimensions, let b = other.dimensions {
                return Folded(shape: shape, dimensions: picks.indices.map { picks[$0] ? a[offsets[1][$0]] : b[offsets[2][$0]] })
            }
            guard !chosen.dependsOnBatch, !other.dependsOnBatch else { throw OnnxError.invalid("Where between the batch size and floats") }
            let (a, b) = (chosen.floats, other.floats)
            return Folded(shape: shape, floats: picks.indices.map { picks[$0] ? a[offsets[1][$0]] : b[offsets[2][$0]] })
        case "Expand":
            return try expanded(operand(0), to: operand(1))
        default:
            throw Refusal(reason: "it cannot be folded")
        }
    }

    /// Expand of a constant: the target may hold the batch size N once, along an axis where the constant has size 1;
    /// the result keeps one image's copy there and says so (`repeatedOverBatch`).
    func expanded(_ data: Folded, to target: Folded) throws -> Folded {
        guard let dimensions = target.dimensions, target.shape.count == 1 else { throw OnnxError.invalid("Expand's shape must be a list of integers") }
        let rank = max(dimensions.count, data.shape.count)
        let padded = [Dimension](repeating: Dimension(constant: 1), count: rank - dimensions.count) + dimensions
        var repeated: Int?
        var sizes: [Int] = []
        for (axis, dimension) in padded.enumerated() {
            if dimension.batch != 0 {
                guard dimension == .batchSize, repeated == nil else { throw Refusal(reason: "it expands to \(dimension.batch)·N + \(dimension.constant)") }
                repeated = axis
                sizes.append(1)
            } else {
                guard dimension.constant >= 0, dimension.constant <= 1 << 24 else { throw OnnxError.invalid("Expand to \(dimension.constant)") }
                sizes.append(Int(dimension.constant))
            }
        }
        let (shape, offsets) = try Folded.broadcast("Expand", [data.shape, sizes])
        var result = data.mapScalars(shape: shape) { _, _ in offsets[0] }
        if let repeated {
            guard shape[repeated] == 1 else { throw OnnxError.invalid("Expand repeats over the batch an axis of size \(shape[repeated])") }
            result.repeatedOverBatch = repeated
        }
        return result
    }

    func normalized(_ axis: Int64, rank: Int) throws -> Int {
        let value = axis < 0 ? axis + Int64(rank) : axis
        guard value >= 0, value < Int64(rank) else { throw OnnxError.invalid("axis \(axis) for rank \(rank)") }
        return Int(value)
    }

    /// The axes of Squeeze or Unsqueeze, from the attribute (opset < 13) or the second input.
    func squeezeAxes(_ node: OnnxNode, _ tensor: Folded?) throws -> [Int64]? {
        if let tensor { return try integers(tensor, "the axes") }
        return try ints(node, "axes")
    }

    /// `shape` after Squeeze (nil axes: every 1) or Unsqueeze.
    func squeezed(_ shape: [Int], _ operation: String, _ axes: [Int64]?) throws -> [Int] {
        if operation == "Squeeze" {
            let removed = try Set((axes ?? shape.indices.filter { shape[$0] == 1 }.map(Int64.init)).map { try normalized($0, rank: shape.count) })
            guard removed.allSatisfy({ shape[$0] == 1 }) else { throw OnnxError.invalid("Squeeze of axes \(removed.sorted()) of \(shape)") }
            return shape.indices.filter { !removed.contains($0) }.map { shape[$0] }
        }
        guard let axes else { throw OnnxError.invalid("Unsqueeze without axes") }
        let rank = shape.count + axes.count
        let inserted = try Set(axes.map { try normalized($0, rank: rank) })
        guard inserted.count == axes.count else { throw OnnxError.invalid("Unsqueeze repeats an axis: \(axes)") }
        var remaining = shape.makeIterator()
        return (0..<rank).map { inserted.contains($0) ? 1 : remaining.next()! }
    }

    /// `data` under `target`, where one -1 is inferred.
    func reshaped(_ data: Folded, to target: [Int]) throws -> Folded {
        var shape = target
        guard target.allSatisfy({ $0 >= -1 }), let known = Folded.checkedProduct(target.filter { $0 != -1 }) else {
            throw OnnxError.invalid("cannot reshape \(data.shape) to \(target)")
        }
        if let unknown = target.firstIndex(of: -1) {
            guard known > 0, data.count % known == 0, target.filter({ $0 == -1 }).count == 1 else {
                throw OnnxError.invalid("cannot reshape \(data.shape) to \(target)")
            }
            shape[unknown] = data.count / known
        }
        guard Folded.checkedProduct(try Folded.checkedShape(shape, "a Reshape")) == data.count else {
            throw OnnxError.invalid("cannot reshape \(data.shape) to \(target)")
        }
        return Folded(shape: shape, scalars: data.scalars)
    }
}
