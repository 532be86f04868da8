// What torch's exports of ConvNeXt-style networks add to a CNN: a Transpose to channels-last and back around
// LayerNormalization and per-position MatMuls, and the exact GELU spelt out through Erf; each fused into the graph's ops.
import Engine

extension Importer {
    /// Transpose (0, 2, 3, 1) of a [N, C, H, W] value makes it channels-last; Transpose (0, 3, 1, 2) undoes that.
    /// False for any other transpose, which the shape rules handle.
    mutating func channelsTransposed(_ node: OnnxNode) throws -> Bool {
        guard node.operation == "Transpose", let name = input(node, 0), let permutation = try ints(node, "perm") else { return false }
        switch symbols[name] {
        case .channelsLast(let x)? where permutation == [0, 3, 1, 2]:
            try alias(node, .value(x))
            share(name, node.outputs[0])
            return true
        case .value?, .padded?:
            // Only where nodes that work on channels-last data read it; a flatten of a 1×1 map stays a reshape, and
            // channels-last data is no network's output.
            let understood: Set<String> = ["LayerNormalization", "MatMul", "Add", "Sub", "Mul", "Div", "Transpose"]
            let readingNodes = readingOperators[node.outputs.first ?? "", default: []]
            guard permutation == [0, 2, 3, 1], !readingNodes.isEmpty, readingNodes.allSatisfy(understood.contains) else { return false }
            let x = try value(name)
            guard builder.shape(of: x).count == 3 else { return false }
            try alias(node, .channelsLast(x))
            share(name, node.outputs[0])
            return true
        default:
            return false
        }
    }

    /// LayerNormalization over the last axis of channels-last data: over the channels of the graph's value.
    mutating func layerNormalization(_ node: OnnxNode) throws {
        guard node.outputs.dropFirst().allSatisfy({ $0.isEmpty || readers[$0, default: 0] == 0 }) else {
            throw Refusal(reason: "its mean or inverse standard deviation output is used")
        }
        guard case .channelsLast(let x)? = symbols[input(node, 0)!] else {
            throw Refusal(reason: "only LayerNormalization over the channels of channels-last data is supported")
        }
        let channels = builder.shape(of: x)[0]
        let axis = try int(node, "axis", -1)
        guard axis == -1 || axis == 3 else { throw Refusal(reason: "LayerNormalization over axes from \(axis)") }
        guard let scaleName = input(node, 1) else { throw OnnxError.invalid("LayerNormalization has no scale") }
        let scale = try requireFolded(scaleName, "scale")
        let bias = try input(node, 2).map { try requireFolded($0, "bias") }
        guard scale.count == channels, bias.map({ $0.count == channels }) ?? true else {
            throw OnnxError.invalid("LayerNormalization's scale \(scale.shape) and bias \(bias?.shape ?? []) for \(channels) channels")
        }
        let epsilon = try float(node, "epsilon", 1e-5)
        guard epsilon >= 0, epsilon.isFinite else { throw OnnxError.invalid("epsilon \(epsilon)") }
        let normalization = LayerNormalization(weight: Tensor(shape: [channels], scalars: scale.floats),
                                               bias: Tensor(shape: [channels], scalars: bias?.floats ?? Array(repeating: 0, count: channels)),
                                               epsilon: epsilon)
        try alias(node, .channelsLast(builder.layerNormalization(x, normalization)))
    }

    /// Channels-last data times a constant [C, M]: a 1×1 convolution of the graph's value.
    mutating func channelsLastMatMul(_ node: OnnxNode) throws -> Bool {
        guard let name = input(node, 0), case .channelsLast(let x)? = symbols[name] else { return false }
        guard let weightName = input(node, 1) else { throw OnnxError.invalid("MatMul has no second input") }
        let b = try requireFolded(weightName, "second operand")
        let channels = builder.shape(of: x)[0]
        guard b.shape.count == 2, b.shape[0] == channels, b.shape[1] >= 1 else {
            throw Refusal(reason: "channels-last data of \(channels) channels times a constant of shape \(b.shape)")
        }
        let outputs = b.shape[1]
        let weight = Tensor(shape: [outputs, channels, 1, 1], scalars: try b.transposed([1, 0]).floats)
        try alias(node, .channelsLast(builder.convolution(x, Convolution(weight: weight, bias: nil))))
        return true
    }

    /// Erf is only run as part of the exact GELU.
    mutating func erf(_ node: OnnxNode) throws {
        guard case .gelu(let x, .scaled)? = symbols[input(node, 0)!] else { throw Refusal(reason: "Erf is supported only inside the exact GELU") }
        try alias(node, .gelu(input: x, stage: .erf))
    }

    /// Add, Sub, Mul and Div where channels-last data or a GELU in progress is involved; false when neither is.
    mutating func transformerBinary(_ node: OnnxNode) throws -> Bool {
        guard let leftName = input(node, 0), let rightName = input(node, 1) else { return false }
        let names = [leftName, rightName]
        if let geluStep = try geluStep(node, names) {
            try alias(node, geluStep)
            return true
        }
        for (one, other) in [(leftName, rightName), (rightName, leftName)] where node.operation == "Mul" {
            if case .gelu(let x, .product)? = symbols[one], isScalar(other, 0.5) {
                try finishGelu(node, input: x)
                return true
            }
        }
        let operators: [String: BinaryOperator] = ["Add": .add, "Sub": .subtract, "Mul": .multiply, "Div": .divide]
        guard let binary = operators[node.operation] else { return false }
        switch (symbols[leftName], symbols[rightName]) {
        case (.channelsLast(let left)?, .channelsLast(let right)?):
            guard builder.shape(of: left) == builder.shape(of: right) else { throw Refusal(reason: "channels-last operands of different shapes") }
            try alias(node, .channelsLast(builder.binary(binary, left, right)))
        case (.channelsLast(let x)?, .folded(let constant)?):
            try alias(node, .channelsLast(try channelsLastConstant(binary, x, named: leftName, constant)))
        case (.folded(let constant)?, .channelsLast(let x)?):
            guard binary == .add || binary == .multiply else { throw Refusal(reason: "a constant minus or over channels-last data") }
            try alias(node, .channelsLast(try channelsLastConstant(binary, x, named: rightName, constant)))
        default:
            return false
        }
        return true
    }

    /// `x op constant`, the constant along the last axis of channels-last data (per channel) or a scalar; added to or
    /// multiplying a convolution that nothing else reads, it becomes that convolution's bias or scale.
    mutating func channelsLastConstant(_ binary: BinaryOperator, _ x: Value, named name: String, _ constant: Folded) throws -> Value {
        let channels = builder.shape(of: x)[0]
        let values: [Float]
        if constant.count == 1 {
            values = Array(repeating: constant.floats[0], count: channels)
        } else if constant.count == channels, constant.shape.last == channels {
            values = constant.floats
        } else {
            throw Refusal(reason: "a constant of shape \(constant.shape) on channels-last data of \(channels) channels")
        }
        if readers[name] == 1, case .convolution(let convolution) = builder.operation(of: x), convolution.activation == .identity {
            let perChannel = values.map(Double.init)
            let (ones, zeros) = ([Double](repeating: 1, count: channels), [Double](repeating: 0, count: channels))
            let fused: Bool
            switch binary {
            case .add: fused = rescale(x, scale: ones, shift: perChannel)
            case .subtract: fused = rescale(x, scale: ones, shift: perChannel.map { -$0 })
            case .multiply: fused = rescale(x, scale: perChannel, shift: zeros)
            case .divide: fused = perChannel.allSatisfy { $0 != 0 } && rescale(x, scale: perChannel.map { 1 / $0 }, shift: zeros)
            }
            if fused { return x }
        }
        return builder.binary(binary, x, builder.constant(Tensor(shape: [channels, 1, 1], scalars: values)))
    }

    /// The next symbol of the exact GELU when `node` continues it: x / √2 read only by Erf; erf + 1; x · (erf + 1).
    func geluStep(_ node: OnnxNode, _ names: [String]) throws -> Symbol? {
        let output = node.outputs.first ?? ""
        switch node.operation {
        case "Div":
            guard isComputed(names[0]), isScalar(names[1], Float(2.0.squareRoot())), readingOperators[output] == ["Erf"] else { return nil }
            return .gelu(input: names[0], stage: .scaled)
        case "Add":
            for (one, other) in [(names[0], names[1]), (names[1], names[0])] {
                if case .gelu(let x, .erf)? = symbols[one], isScalar(other, 1) { return .gelu(input: x, stage: .plusOne) }
            }
            return nil
        case "Mul":
            for (one, other) in [(names[0], names[1]), (names[1], names[0])] {
                if case .gelu(let x, .plusOne)? = symbols[one], other == x { return .gelu(input: x, stage: .product) }
            }
            return nil
        default:
            return nil
        }
    }

    /// GELU on the value named `name`, fused into the convolution that makes it when the pattern alone reads it.
    mutating func finishGelu(_ node: OnnxNode, input name: String) throws {
        let channelsLast: Bool
        let x: Value
        switch symbols[name] {
        case .channelsLast(let value)?: (x, channelsLast) = (value, true)
        default: (x, channelsLast) = (try value(name), false)
        }
        var result = x
        // The pattern reads x twice (the division and the product) and nothing else does.
        if readers[name] == 2, let fused = builder.operation(of: x).ending(in: .gelu), case .convolution(let c) = builder.operation(of: x),
           c.activation == .identity {
            builder.replaceOperation(of: x, with: fused)
        } else {
            result = builder.activation(x, .gelu)
        }
        try alias(node, channelsLast ? .channelsLast(result) : .value(result))
    }

    /// Whether `name` is a folded scalar within 1e-5 (relative) of `expected`.
    func isScalar(_ name: String, _ expected: Float) -> Bool {
        guard let constant = folded(name), constant.count == 1, let value = constant.floats.first else { return false }
        return abs(value - expected) <= 1e-5 * max(1, abs(expected))
    }
}
