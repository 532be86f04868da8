// What torch's exports of ConvNeXt-style networks add to a CNN: a Transpose to channels-last and back around
// LayerNormalization (or, before opset 17, its formula) and per-position MatMuls, and the exact GELU spelt out through
// Erf; each fused into the graph's own operations.
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
            let understood: Set<String> = ["LayerNormalization", "ReduceMean", "MatMul", "Add", "Sub", "Mul", "Div", "Transpose"]
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
        let shape = builder.shape(of: x)
        guard outputs * shape[1] * shape[2] <= OnnxImporter.maximumValueCount else { throw OnnxError.invalid("the output of MatMul is too large") }
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
        if let step = try normalizationStep(node, names) {
            try alias(node, step)
            return true
        }
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
        // A LayerNorm's own scale and shift absorb a per-channel scale or shift (the formula's weight and bias).
        if readers[name] == 1, case .layerNormalization(let normalization) = builder.operation(of: x), binary == .add || binary == .multiply {
            let (weight, bias) = (normalization.weight.scalars, normalization.bias.scalars)
            let scaled = binary == .multiply
            builder.replaceOperation(of: x, with: .layerNormalization(LayerNormalization(
                weight: Tensor(shape: [channels], scalars: scaled ? zip(weight, values).map(*) : weight),
                bias: Tensor(shape: [channels], scalars: scaled ? zip(bias, values).map(*) : zip(bias, values).map(+)),
                epsilon: normalization.epsilon)))
            return x
        }
        if readers[name] == 1, case .convolution(let convolution) = builder.operation(of: x), convolution.activation == .identity,
           fold(binary, values.map(Double.init), into: x) {
            return x
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

    /// ReduceMean over the last axis, Pow by 2 and Sqrt: only as steps of LayerNormalization's formula.
    mutating func normalizationStep(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        let output = node.outputs.first ?? ""
        switch (node.operation, symbols[name]) {
        case ("ReduceMean", .channelsLast?):
            guard try lastAxisOnly(node), readingOperators[output] == ["Sub"] else { break }
            return try alias(node, .normalizing(input: name, stage: .mean))
        case ("ReduceMean", .normalizing(let x, .squared)?):
            guard try lastAxisOnly(node) else { break }
            return try alias(node, .normalizing(input: x, stage: .variance))
        case ("Pow", .normalizing(let x, .centred)?):
            guard let exponent = input(node, 1), isScalar(exponent, 2) else { break }
            return try alias(node, .normalizing(input: x, stage: .squared))
        case ("Sqrt", .normalizing(let x, .shifted(let epsilon))?):
            return try alias(node, .normalizing(input: x, stage: .deviation(epsilon: epsilon)))
        default:
            break
        }
        throw Refusal(reason: "\(node.operation) is supported only inside LayerNormalization's formula over channels-last data")
    }

    /// Whether a ReduceMean keeps its dimension and averages the last axis of a channels-last [N, H, W, C] alone.
    func lastAxisOnly(_ node: OnnxNode) throws -> Bool {
        guard try int(node, "keepdims", 1) == 1 else { return false }
        let axes = try input(node, 1).map { try integers(requireFolded($0, "axes"), "axes") } ?? ints(node, "axes")
        return axes == [-1] || axes == [3]
    }

    /// The next symbol of LayerNormalization's formula when `node` continues it: x − mean, variance + ε, and
    /// (x − mean) / √(variance + ε), which becomes the channel normalisation (scale 1, shift 0, until constants follow).
    mutating func normalizationStep(_ node: OnnxNode, _ names: [String]) throws -> Symbol? {
        switch (node.operation, symbols[names[0]], symbols[names[1]]) {
        case ("Sub", .channelsLast?, .normalizing(let x, .mean)?) where x == names[0]:
            return .normalizing(input: x, stage: .centred)
        case ("Add", .normalizing(let x, .variance)?, .folded(let epsilon)?) where epsilon.count == 1,
             ("Add", .folded(let epsilon)?, .normalizing(let x, .variance)?) where epsilon.count == 1:
            let value = epsilon.floats[0]
            guard value >= 0, value.isFinite else { throw OnnxError.invalid("epsilon \(value)") }
            return .normalizing(input: x, stage: .shifted(epsilon: value))
        case ("Div", .normalizing(let x, .centred)?, .normalizing(let same, .deviation(let epsilon))?) where x == same:
            guard case .channelsLast(let value)? = symbols[x] else { return nil }
            let channels = builder.shape(of: value)[0]
            let normalization = LayerNormalization(weight: Tensor(shape: [channels], repeating: 1), bias: Tensor(shape: [channels], repeating: 0),
                                                   epsilon: epsilon)
            return .channelsLast(builder.layerNormalization(value, normalization))
        default:
            return nil
        }
    }

    /// Whether `name` is a folded scalar within 1e-5 (relative) of `expected`.
    func isScalar(_ name: String, _ expected: Float) -> Bool {
        guard let constant = folded(name), constant.count == 1, let value = constant.floats.first else { return false }
        return abs(value - expected) <= 1e-5 * max(1, abs(expected))
    }
}
