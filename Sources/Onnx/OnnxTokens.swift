// Nodes that work on tokens as exporters write Vision Transformers: the class token joined to the patches, one token
// picked out, queries, keys and values split from one projection, and attention spelt out as MatMul, Softmax, MatMul;
// each becomes the graph's own pad, pooling and attention.
import Engine

/// Attention seen as far as its scores: queries and keys read from one value that holds queries, keys and values.
struct Attending {
    var query: View
    var heads: Int
    var headSize: Int
    var scale: Float
}

extension Importer {
    /// Gather of one index from a computed tensor: one channel factor (query, key or value, when the projection is
    /// split), or one token (the class token, DeiT's distillation token).
    mutating func gather(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        guard let indicesName = input(node, 1) else { throw OnnxError.invalid("Gather has no indices") }
        let indices = try requireFolded(indicesName, "indices")
        let positions = try integers(indices, "Gather's indices")
        guard positions.count == 1, indices.shape.count <= 1 else { throw Refusal(reason: "Gather of \(positions.count) indices from a computed tensor") }
        let source = try view(name)
        let axis = try normalized(int(node, "axis", 0), rank: source.rank)
        let keepsAxis = indices.shape.count == 1
        let tokens = source.valueShape[1]
        guard source.axes[axis] == [.rows(tokens)], source.valueShape[2] == 1 else {
            return try alias(node, .view(source.gathered(positions[0], axis: axis, keepsAxis: keepsAxis)))
        }
        try alias(node, .view(pickToken(positions[0], of: source, axis: axis, keepsAxis: keepsAxis)))
    }

    /// Slice of one token along the token axis (`x[:, 0:1]`); other slices of computed tensors are refused.
    mutating func slice(_ node: OnnxNode) throws {
        let source = try view(input(node, 0)!)
        guard opset >= 10, let startsName = input(node, 1), let endsName = input(node, 2) else { throw Refusal(reason: "a slice of a computed tensor before opset 10") }
        let starts = try integers(requireFolded(startsName, "starts"), "starts"), ends = try integers(requireFolded(endsName, "ends"), "ends")
        let axes = try input(node, 3).map { try integers(requireFolded($0, "axes"), "axes") } ?? Array(0..<Int64(starts.count))
        let steps = try input(node, 4).map { try integers(requireFolded($0, "steps"), "steps") } ?? Array(repeating: 1, count: starts.count)
        let tokens = Int64(source.valueShape[1])
        guard starts.count == 1, ends.count == 1, axes.count == 1, steps == [1] else { throw Refusal(reason: "a slice of a computed tensor along several axes or with steps") }
        let axis = try normalized(axes[0], rank: source.rank)
        let start = starts[0] < 0 ? starts[0] + tokens : starts[0]
        let end = min(ends[0] < 0 ? ends[0] + tokens : ends[0], tokens)
        guard source.axes[axis] == [.rows(Int(tokens))], end - start == 1 else { throw Refusal(reason: "a slice of a computed tensor other than one token") }
        try alias(node, .view(pickToken(start, of: source, axis: axis, keepsAxis: true)))
    }

    /// Token `index` of `source`, whose `axis` is its value's rows ([C, T, 1]): a [C, 1, 1] value.
    mutating func pickToken(_ index: Int64, of source: View, axis: Int, keepsAxis: Bool) throws -> View {
        let tokens = source.valueShape[1]
        let position = index < 0 ? index + Int64(tokens) : index
        guard position >= 0, position < Int64(tokens) else { throw OnnxError.invalid("token \(index) of \(tokens)") }
        guard source.isComplete else { throw Refusal(reason: "a token picked out of part of a tensor") }
        let channels = source.valueShape[0]
        let picked: Value
        if position == 0 {
            // A 1×1 window every `tokens` rows sees the first row alone.
            picked = builder.maxPool(source.value, Pooling(kernel: Size2D(1, 1), stride: Size2D(tokens, 1)))
        } else {
            // A per-channel window over all the rows weighing row `position` by 1 and the others by 0: that row exactly
            // (for finite values).
            var weight = [Float](repeating: 0, count: channels * tokens)
            for channel in 0..<channels { weight[channel * tokens + Int(position)] = 1 }
            picked = builder.convolution(source.value, Convolution(weight: Tensor(shape: [channels, 1, tokens, 1], scalars: weight), bias: nil,
                                                                   stride: Size2D(tokens, 1), groups: channels))
        }
        var result = source.replacing(picked)
        result.valueShape[1] = 1
        if keepsAxis { result.axes[axis] = [] } else { result.axes.remove(at: axis) }
        return result
    }

    /// Split of a computed tensor along one channel factor (queries, keys and values from one projection).
    mutating func split(_ node: OnnxNode) throws {
        let source = try view(input(node, 0)!)
        let axis = try normalized(int(node, "axis", 0), rank: source.rank)
        guard source.shape[axis].batch == 0 else { throw Refusal(reason: "a split of the batch") }
        let total = Int(source.shape[axis].constant)
        let sizes: [Int]
        if let sizesName = input(node, 1) {
            sizes = try integers(requireFolded(sizesName, "split sizes"), "split sizes").map { Int(clamping: $0) }
        } else if let listed = try ints(node, "split") {
            sizes = listed.map { Int(clamping: $0) }
        } else {
            let parts = node.outputs.count
            guard parts >= 1, total % parts == 0 else { throw Refusal(reason: "a split of \(total) into \(parts) unequal parts") }
            sizes = Array(repeating: total / parts, count: parts)
        }
        let parts = try source.split(axis: axis, sizes: sizes)
        guard parts.count == node.outputs.count else { throw OnnxError.invalid("Split into \(parts.count) parts has \(node.outputs.count) outputs") }
        for (output, part) in zip(node.outputs, parts) where !output.isEmpty { symbols[output] = .view(part) }
    }

    /// Concat of constants with the tokens of a computed tensor along the token axis (the class token, DeiT's
    /// distillation token): the value padded with that many rows, then one constant holding their values added.
    mutating func tokenConcat(_ node: OnnxNode, _ names: [String]) throws {
        let computed = names.filter(isComputed)
        guard computed.count == 1 else { throw Refusal(reason: "it joins constants with \(computed.count) computed tensors") }
        let source = try view(computed[0])
        guard source.isComplete else { throw Refusal(reason: "it joins constants with part of a tensor") }
        let axis = try normalized(int(node, "axis", 0), rank: source.rank)
        let (channels, height, width) = (source.valueShape[0], source.valueShape[1], source.valueShape[2])
        let spatial = [Atom.rows(height), .columns(width)].filter { $0.size != 1 }
        guard !spatial.isEmpty, source.axes[axis] == spatial else { throw Refusal(reason: "constants are joined only to tokens, along the token axis") }
        guard source.axes.allSatisfy({ !$0.contains(.batch) || $0 == [.batch] }) else { throw Refusal(reason: "tokens whose batch axis holds more than the batch") }
        let perImage = source.shape.map { $0.batch != 0 ? 1 : Int($0.constant) }
        var parts: [Folded] = []
        var (before, after, seen) = (0, 0, false)
        for name in names {
            if name == computed[0] {
                seen = true
                parts.append(Folded(shape: perImage, floats: Array(repeating: 0, count: perImage.reduce(1, *))))
                continue
            }
            let constant = try requireFolded(name, "joined tensor")
            guard constant.shape.count == source.rank, constant.shape.indices.allSatisfy({ $0 == axis || constant.shape[$0] == perImage[$0] }) else {
                throw Refusal(reason: "a constant of shape \(constant.shape) joined to tokens of shape \(source.shape.map(View.describe))")
            }
            parts.append(Folded(shape: constant.shape, floats: constant.floats))
            if seen { after += constant.shape[axis] } else { before += constant.shape[axis] }
        }
        let tokens = height * width + before + after
        guard tokens * channels <= OnnxImporter.maximumValueCount else { throw OnnxError.invalid("the joined tokens are too many") }
        var x = source.value
        if width > 1 { x = builder.reshape(x, to: [channels, height * width, 1]) }
        x = builder.pad(x, Padding2D(top: before, left: 0, bottom: after, right: 0))
        var axes = source.axes
        axes[axis] = [.rows(tokens)]
        let joined = View(value: x, valueShape: [channels, tokens, 1], axes: axes)
        try alias(node, .view(viewConstant(.add, joined, named: node.outputs[0], Folded.concatenated(parts, axis: axis))))
    }

    /// MatMul of two computed tensors: queries times transposed keys, whose scores wait for their Softmax; or those
    /// probabilities times the values, which is the graph's attention on the projection that holds all three.
    mutating func attentionProduct(_ node: OnnxNode) throws {
        let (leftName, rightName) = (input(node, 0)!, input(node, 1)!)
        if case .scores(let attending, probabilities: true)? = symbols[leftName] {
            return try finishAttention(node, attending, values: view(rightName))
        }
        let (query, key) = (try view(leftName), try view(rightName))
        let rank = query.rank
        let refusal = Refusal(reason: "a MatMul of two computed tensors is supported only as attention: queries times transposed keys, then probabilities times values")
        guard rank >= 3, key.rank == rank, query.value == key.value else { throw refusal }
        let spatial = [Atom.rows(query.valueShape[1]), .columns(query.valueShape[2])].filter { $0.size != 1 }
        let leading = Array(query.axes[..<(rank - 2)])
        guard query.axes[rank - 1].count == 1, case .channels(let headSize, 1) = query.axes[rank - 1][0], query.axes[rank - 2] == spatial, key.axes[rank - 2] == query.axes[rank - 1],
              key.axes[rank - 1] == spatial, Array(key.axes[..<(rank - 2)]) == leading else { throw refusal }
        let atoms = leading.flatMap { $0 }
        let headAtoms = atoms.filter { $0 != .batch }
        guard atoms.filter({ $0 == .batch }).count == 1, headAtoms.count <= 1 else { throw refusal }
        var heads = 1
        if let atom = headAtoms.first {
            guard case .channels(let size, let stride) = atom, stride == headSize else { throw refusal }
            heads = size
        }
        let width = heads * headSize
        guard query.valueShape[0] == 3 * width, query.channelOffset == 0, key.channelOffset == width else {
            throw Refusal(reason: "attention whose queries, keys and values are not the three thirds of one projection, in that order")
        }
        try alias(node, .scores(Attending(query: query, heads: heads, headSize: headSize, scale: query.scale * key.scale), probabilities: false))
    }

    mutating func finishAttention(_ node: OnnxNode, _ attending: Attending, values: View) throws {
        let width = attending.heads * attending.headSize
        guard values.value == attending.query.value, values.axes == attending.query.axes, values.channelOffset == 2 * width, values.scale == 1 else {
            throw Refusal(reason: "attention's values are not the last third of the projection its queries and keys come from")
        }
        let expected = 1 / Float(attending.headSize).squareRoot()
        guard abs(attending.scale - expected) <= 1e-5 * expected else {
            throw Refusal(reason: "attention scores scaled by \(attending.scale), not 1/√\(attending.headSize)")
        }
        let (channels, height, width2D) = (values.valueShape[0], values.valueShape[1], values.valueShape[2])
        var x = values.value
        if width2D > 1 { x = builder.reshape(x, to: [channels, height * width2D, 1]) }
        let tokens = height * width2D
        let axes = attending.query.axes.map { atoms in
            atoms.flatMap { atom -> [Atom] in
                switch atom {
                case .rows: return [.rows(tokens)]
                case .columns: return []
                default: return [atom]
                }
            }
        }
        try alias(node, .view(View(value: builder.attention(x, heads: attending.heads), valueShape: [width, tokens, 1], axes: axes)))
    }

    /// Softmax over the keys turns scores into probabilities; any other Softmax is the classifier's.
    mutating func attentionSoftmax(_ node: OnnxNode) throws -> Bool {
        guard case .scores(let attending, probabilities: false)? = symbols[input(node, 0)!] else { return false }
        let axis = try int(node, "axis", opset < 13 ? 1 : -1)
        guard axis == -1 || axis == Int64(attending.query.rank - 1) else { throw Refusal(reason: "a softmax of attention scores over axis \(axis), not the keys") }
        try alias(node, .scores(attending, probabilities: true))
        return true
    }

    /// A scalar multiplying or dividing attention scores joins their scale.
    mutating func scaledScores(_ node: OnnxNode, _ names: [String]) throws -> Bool {
        guard node.operation == "Mul" || node.operation == "Div" else { return false }
        for (one, other) in [(names[0], names[1]), (names[1], names[0])] {
            guard case .scores(var attending, probabilities: false)? = symbols[one], let constant = folded(other), constant.count == 1 else { continue }
            guard node.operation == "Mul" || one == names[0] else { throw Refusal(reason: "a constant divided by attention scores") }
            attending.scale = node.operation == "Mul" ? attending.scale * constant.floats[0] : attending.scale / constant.floats[0]
            try alias(node, .scores(attending, probabilities: false))
            return true
        }
        return false
    }
}
