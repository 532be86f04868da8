// How a tensor ONNX computes lies in one of the graph's [C, H, W] values when exporters reshape, transpose and slice
// tokens and attention heads: each logical axis is a run of atoms (the batch, the rows, the columns, a factor of the
// channels), so those nodes cost nothing at run time and the operations after them read the value as it is.
import Engine

private typealias Refusal = Importer.Refusal

/// One factor of a logical axis.
enum Atom: Hashable {
    case batch
    case rows(Int)
    case columns(Int)
    /// Channels c = offset + i · stride for i in 0..<size.
    case channels(size: Int, stride: Int)

    /// nil for the batch, whose size is open.
    var size: Int? {
        switch self {
        case .batch: return nil
        case .rows(let size), .columns(let size), .channels(let size, _): return size
        }
    }
}

/// A logical tensor over a graph value.
struct View {
    var value: Value
    /// The value's per-image shape, [C, H, W].
    var valueShape: [Int]
    var axes: [[Atom]]
    /// The first channel the view reads.
    var channelOffset = 0
    /// A factor still to multiply the view by (a query scaled before it meets its keys).
    var scale: Float = 1

    /// The value as ONNX holds it, [N, C, H, W] (or [N, C] for a [C] value).
    init(plain value: Value, shape: [Int]) {
        self.value = value
        valueShape = shape.count == 1 ? [shape[0], 1, 1] : shape
        axes = shape.count == 1 ? [[.batch], [.channels(size: shape[0], stride: 1)]]
            : [[.batch], [.channels(size: shape[0], stride: 1)], [.rows(shape[1])], [.columns(shape[2])]]
        normalize()
    }

    init(value: Value, valueShape: [Int], axes: [[Atom]], channelOffset: Int = 0, scale: Float = 1) {
        self.value = value
        self.valueShape = valueShape
        self.axes = axes
        self.channelOffset = channelOffset
        self.scale = scale
        normalize()
    }

    /// Drops atoms of size 1 and merges neighbouring channel factors that step as one.
    mutating func normalize() {
        axes = axes.map { atoms in
            var merged: [Atom] = []
            for atom in atoms where atom.size != 1 {
                if case .channels(let size, let stride)? = merged.last, case .channels(let next, let step) = atom, stride == next * step {
                    merged[merged.count - 1] = .channels(size: size * next, stride: step)
                } else {
                    merged.append(atom)
                }
            }
            return merged
        }
    }

    /// The logical shape, N written symbolically.
    var shape: [Dimension] {
        axes.map { atoms in
            let product = Int64(atoms.compactMap(\.size).reduce(1, *))
            return atoms.contains(.batch) ? Dimension(constant: 0, batch: product) : Dimension(constant: product)
        }
    }

    var rank: Int { axes.count }

    /// Whether the view reads every scalar of its value once, unscaled: an element-wise operation on the value is the
    /// same operation on the view.
    var isComplete: Bool {
        guard channelOffset == 0, scale == 1 else { return false }
        let atoms = axes.flatMap { $0 }
        let channels = atoms.compactMap { atom -> (size: Int, stride: Int)? in
            if case .channels(let size, let stride) = atom { return (size, stride) }
            return nil
        }.sorted { $0.stride < $1.stride }
        var expected = 1
        for channel in channels {
            guard channel.stride == expected else { return false }
            expected *= channel.size
        }
        return expected == valueShape[0] && atoms.contains(.rows(valueShape[1])) == (valueShape[1] > 1)
            && atoms.contains(.columns(valueShape[2])) == (valueShape[2] > 1) && atoms.filter({ $0 == .batch }).count == 1
    }

    /// Whether the last axis is all the channels in order and nothing else, as LayerNorm and per-token linear layers need.
    var isChannelsLast: Bool {
        isComplete && axes.last == [.channels(size: valueShape[0], stride: 1)]
    }

    /// The per-image shape when the view is its value in row-major order with the batch first and alone: a reshape of
    /// the value (nil otherwise, or when that shape is neither [C] nor [C, H, W]).
    var plainShape: [Int]? {
        guard isComplete, axes.first == [.batch] else { return nil }
        let order = axes.dropFirst().flatMap { $0 }
        let expected: [Atom] = [.channels(size: valueShape[0], stride: 1), .rows(valueShape[1]), .columns(valueShape[2])].filter { $0.size != 1 }
        guard order == expected else { return nil }
        let shape = axes.dropFirst().map { $0.compactMap(\.size).reduce(1, *) }
        return shape.count == 1 || shape.count == 3 ? shape : nil
    }

    /// This view over `value`, the result of an operation that keeps the layout (and changes the channels to
    /// `channels` when given).
    func replacing(_ value: Value, channels: Int? = nil) -> View {
        var result = self
        result.value = value
        if let channels { result.valueShape[0] = channels }
        return result
    }

    // MARK: - Operations that only regroup

    func transposed(_ permutation: [Int]) throws -> View {
        guard permutation.sorted() == Array(0..<rank) else { throw OnnxError.invalid("Transpose permutation \(permutation) for rank \(rank)") }
        var result = self
        result.axes = permutation.map { axes[$0] }
        return result
    }

    /// Squeeze of axes of size 1 (all of them when `axes` is nil) or Unsqueeze.
    func squeezed(_ operation: String, _ chosen: [Int64]?) throws -> View {
        var result = self
        if operation == "Squeeze" {
            let removed = try Set((chosen ?? axes.indices.filter { axes[$0].isEmpty }.map(Int64.init)).map { try axis($0, rank: rank) })
            guard removed.allSatisfy({ axes[$0].isEmpty }) else { throw OnnxError.invalid("Squeeze of axes \(removed.sorted()) of \(shape)") }
            result.axes = axes.indices.filter { !removed.contains($0) }.map { axes[$0] }
            return result
        }
        guard let chosen else { throw OnnxError.invalid("Unsqueeze without axes") }
        let inserted = try Set(chosen.map { try axis($0, rank: rank + chosen.count) })
        guard inserted.count == chosen.count else { throw OnnxError.invalid("Unsqueeze repeats an axis: \(chosen)") }
        var remaining = axes.makeIterator()
        result.axes = (0..<(rank + chosen.count)).map { inserted.contains($0) ? [] : remaining.next() ?? [] }
        return result
    }

    /// Reshape to `target` (0 copies a dimension unless `allowZero`, one −1 is inferred): the atoms in order, grouped
    /// anew, a channel factor split where a group ends inside it. Refused when the batch or the rows would be split.
    func reshaped(_ target: [Dimension], allowZero: Bool) throws -> View {
        let current = shape
        var sizes = target
        for index in sizes.indices where sizes[index] == Dimension(constant: 0) && !allowZero {
            guard index < current.count else { throw OnnxError.invalid("Reshape copies dimension \(index) of a rank-\(rank) tensor") }
            sizes[index] = current[index]
        }
        let atoms = axes.flatMap { $0 }
        let total = atoms.compactMap(\.size).reduce(1, *)
        let unknown = sizes.indices.filter { sizes[$0] == Dimension(constant: -1) }
        guard unknown.count <= 1, sizes.allSatisfy({ ($0.batch == 0 && ($0.constant >= 1 || $0.constant == -1)) || ($0.batch > 0 && $0.constant == 0) }) else {
            throw Refusal(reason: "a reshape to \(target.map(Self.describe))")
        }
        let batchEntries = sizes.filter { $0.batch != 0 }.count
        guard batchEntries <= 1, batchEntries + unknown.count >= 1 else { throw Refusal(reason: "a reshape to \(target.map(Self.describe)) loses the batch") }
        guard let known = Folded.checkedProduct(sizes.indices.filter { !unknown.contains($0) }.map { Int(max(sizes[$0].batch, sizes[$0].constant)) }) else {
            throw OnnxError.invalid("cannot reshape \(shape.map(Self.describe)) to \(target.map(Self.describe))")
        }
        if let index = unknown.first {
            guard known > 0, total % known == 0 else { throw OnnxError.invalid("cannot reshape \(shape.map(Self.describe)) to \(target.map(Self.describe))") }
            sizes[index] = batchEntries == 0 ? Dimension(constant: 0, batch: Int64(total / known)) : Dimension(constant: Int64(total / known))
        }
        var queue = atoms[...]
        var groups: [[Atom]] = []
        for size in sizes {
            var need = Int(max(size.batch, size.constant)), needsBatch = size.batch != 0
            var group: [Atom] = []
            while need > 1 || needsBatch {
                guard let atom = queue.popFirst() else { throw OnnxError.invalid("cannot reshape \(shape.map(Self.describe)) to \(target.map(Self.describe))") }
                switch atom {
                case .batch:
                    guard needsBatch else { throw Refusal(reason: "a reshape to \(target.map(Self.describe)) moves the batch") }
                    needsBatch = false
                    group.append(atom)
                case .channels(let atomSize, let stride) where atomSize > need && atomSize % need == 0:
                    group.append(.channels(size: need, stride: stride * (atomSize / need)))
                    queue.insert(.channels(size: atomSize / need, stride: stride), at: queue.startIndex)
                    need = 1
                default:
                    guard let atomSize = atom.size, need % atomSize == 0 else {
                        throw Refusal(reason: "a reshape to \(target.map(Self.describe)) splits the image's rows or columns")
                    }
                    need /= atomSize
                    group.append(atom)
                }
            }
            groups.append(group)
        }
        guard queue.isEmpty else { throw OnnxError.invalid("cannot reshape \(shape.map(Self.describe)) to \(target.map(Self.describe))") }
        var result = self
        result.axes = groups
        result.normalize()
        return result
    }

    /// Gather of one index along an axis that is one channel factor: the view moves to those channels.
    func gathered(_ index: Int64, axis: Int, keepsAxis: Bool) throws -> View {
        guard axes[axis].count == 1, case .channels(let size, let stride) = axes[axis][0] else {
            throw Refusal(reason: "Gather along an axis of \(axes[axis].count) parts")
        }
        let position = index < 0 ? index + Int64(size) : index
        guard position >= 0, position < Int64(size) else { throw OnnxError.invalid("index \(index) out of range for size \(size)") }
        var result = self
        result.channelOffset += Int(position) * stride
        if keepsAxis { result.axes[axis] = [] } else { result.axes.remove(at: axis) }
        return result
    }

    /// Split along an axis that is one channel factor into parts of `sizes`.
    func split(axis: Int, sizes: [Int]) throws -> [View] {
        guard axes[axis].count == 1, case .channels(let size, let stride) = axes[axis][0] else {
            throw Refusal(reason: "Split along an axis of \(axes[axis].count) parts")
        }
        guard sizes.allSatisfy({ $0 >= 0 && $0 <= size }), sizes.reduce(0, +) == size else { throw OnnxError.invalid("Split of \(size) into \(sizes)") }
        var start = 0
        return sizes.map { part in
            var result = self
            result.channelOffset += start * stride
            result.axes[axis] = [.channels(size: part, stride: stride)]
            result.normalize()
            start += part
            return result
        }
    }

    /// For each scalar of the value ([C, H, W] row-major), the scalar of `constant` (of shape `constantShape`) that
    /// NumPy broadcasting pairs with it; nil when the constant varies along an axis the batch runs through.
    func broadcastOffsets(of constantShape: [Int]) throws -> [Int] {
        guard constantShape.count <= rank else { throw Refusal(reason: "a constant of shape \(constantShape) on a rank-\(rank) tensor") }
        let aligned = [Int](repeating: 1, count: rank - constantShape.count) + constantShape
        let strides = Folded.strides(aligned)
        for (axis, atoms) in axes.enumerated() where aligned[axis] != 1 {
            guard !atoms.contains(.batch), aligned[axis] == atoms.compactMap(\.size).reduce(1, *) else {
                throw Refusal(reason: "a constant of shape \(constantShape) on a tensor of shape \(shape.map(Self.describe))")
            }
        }
        let (channels, height, width) = (valueShape[0], valueShape[1], valueShape[2])
        var offsets: [Int] = []
        offsets.reserveCapacity(channels * height * width)
        for c in 0..<channels {
            for h in 0..<height {
                for w in 0..<width {
                    var offset = 0
                    for (axis, atoms) in axes.enumerated() where aligned[axis] != 1 {
                        var index = 0
                        for atom in atoms {
                            switch atom {
                            case .batch: break
                            case .rows(let size): index = index * size + h
                            case .columns(let size): index = index * size + w
                            case .channels(let size, let stride): index = index * size + (c / stride) % size
                            }
                        }
                        offset += index * strides[axis]
                    }
                    offsets.append(offset)
                }
            }
        }
        return offsets
    }

    static func describe(_ dimension: Dimension) -> String {
        switch (dimension.constant, dimension.batch) {
        case (let constant, 0): return "\(constant)"
        case (0, 1): return "N"
        case (0, let batch): return "\(batch)·N"
        case (let constant, let batch): return "\(batch)·N+\(constant)"
        }
    }

    func axis(_ axis: Int64, rank: Int) throws -> Int {
        let value = axis < 0 ? axis + Int64(rank) : axis
        guard value >= 0, value < Int64(rank) else { throw OnnxError.invalid("axis \(axis) for rank \(rank)") }
        return Int(value)
    }
}
