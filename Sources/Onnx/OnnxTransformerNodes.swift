// What exports of ConvNeXt and ViT add to a CNN, on views (OnnxViews): regroupings, LayerNormalization (or, before
// opset 17, its formula) and per-position MatMuls over the channels, element-wise constants laid out as the value is,
// and the exact GELU spelt out through Erf; each fused into the graph's own operations.
import Engine

extension Importer {
    /// Flatten, Reshape, Squeeze, Unsqueeze and Transpose as regroupings of a view; free at run time.
    mutating func regroup(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        let source = try view(name)
        let result: View
        switch node.operation {
        case "Transpose":
            result = try source.transposed(ints(node, "perm")?.map { Int($0) } ?? Array((0..<source.rank).reversed()))
        case "Squeeze", "Unsqueeze":
            result = try source.squeezed(node.operation, squeezeAxes(node, input(node, 1).map { try requireFolded($0, "axes") }))
        case "Flatten":
            let axis = try normalized(int(node, "axis", 1), rank: source.rank + 1)
            let shape = source.shape
            let product = { (part: ArraySlice<Dimension>) throws -> Dimension in
                try part.reduce(Dimension(constant: 1)) { (total, next) throws -> Dimension in try Dimension.apply("Mul", total, next) }
            }
            result = try source.reshaped([product(shape[..<axis]), product(shape[axis...])], allowZero: true)
        default:
            guard let shapeName = input(node, 1) else { throw OnnxError.invalid("Reshape has no shape") }
            guard let target = try requireFolded(shapeName, "target shape").dimensions else { throw OnnxError.invalid("Reshape's shape must be integers") }
            result = try source.reshaped(target, allowZero: int(node, "allowzero", 0) == 1)
        }
        // Back in the value's own order and shape (channels-last data transposed back): the value itself, so the
        // operations after it fuse into its producer as they do in any CNN.
        if let shape = result.plainShape, shape == builder.shape(of: result.value) {
            try alias(node, .value(result.value))
        } else {
            try alias(node, .view(result))
        }
        share(name, node.outputs[0])
    }

    /// LayerNormalization over the last axis, when that axis is the channels of the graph's value.
    mutating func layerNormalization(_ node: OnnxNode) throws {
        guard node.outputs.dropFirst().allSatisfy({ $0.isEmpty || readers[$0, default: 0] == 0 }) else {
            throw Refusal(reason: "its mean or inverse standard deviation output is used")
        }
        let source = try view(input(node, 0)!)
        guard source.isChannelsLast else { throw Refusal(reason: "only LayerNormalization over the channels of channels-last data is supported") }
        let channels = source.valueShape[0]
        let axis = try int(node, "axis", -1)
        guard axis == -1 || axis == Int64(source.rank - 1) else { throw Refusal(reason: "LayerNormalization over axes from \(axis)") }
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
        try alias(node, .view(source.replacing(builder.layerNormalization(source.value, normalization))))
    }

    /// A per-position linear layer on a view whose last axis is the channels: a 1×1 convolution of its value, whose
    /// output channels become the last axis. `weight` is [outputs, channels].
    mutating func pointwise(_ source: View, weight: [Float], outputs: Int, bias: [Float]?) throws -> View {
        let channels = source.valueShape[0]
        guard source.isChannelsLast else { throw Refusal(reason: "a linear layer on a tensor of shape \(source.shape.map(View.describe)) whose last axis is not the channels") }
        guard weight.count == outputs * channels, outputs >= 1 else { throw OnnxError.invalid("a weight of \(weight.count) values for \(channels) inputs and \(outputs) outputs") }
        guard outputs * source.valueShape[1] * source.valueShape[2] <= OnnxImporter.maximumValueCount else { throw OnnxError.invalid("the output of a linear layer is too large") }
        let convolution = Convolution(weight: Tensor(shape: [outputs, channels, 1, 1], scalars: weight), bias: bias.map { Tensor(shape: [outputs], scalars: $0) })
        var result = source.replacing(builder.convolution(source.value, convolution), channels: outputs)
        result.axes[result.rank - 1] = [.channels(size: outputs, stride: 1)]
        result.normalize()
        return result
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
        if try scaledScores(node, names) { return true }
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
        guard [leftName, rightName].contains(where: { if case .view? = symbols[$0] { true } else { false } }) else { return false }
        switch (folded(leftName), folded(rightName)) {
        case (nil, nil):
            let (left, right) = (try view(leftName), try view(rightName))
            guard left.isComplete, right.isComplete, left.axes == right.axes, left.valueShape == right.valueShape else {
                throw Refusal(reason: "tensors of shapes \(left.shape.map(View.describe)) and \(right.shape.map(View.describe)) laid out differently")
            }
            try alias(node, .view(left.replacing(builder.binary(binary, left.value, right.value))))
        case (nil, let constant?):
            try alias(node, .view(try viewConstant(binary, view(leftName), named: leftName, constant)))
        case (let constant?, nil):
            guard binary == .add || binary == .multiply else { throw Refusal(reason: "a constant minus or over a computed tensor") }
            try alias(node, .view(try viewConstant(binary, view(rightName), named: rightName, constant)))
        default:
            return false
        }
        return true
    }

    /// `x op constant` under NumPy broadcasting. A scalar multiplying or dividing a partial view (a query) waits in its
    /// scale; a per-channel constant is absorbed by the LayerNorm or convolution that makes x when nothing else reads
    /// it, or else is added as a [C, 1, 1] constant; any other a [C, H, W] one, merged with the constant x has just
    /// been given (the class token, then the position embedding).
    mutating func viewConstant(_ binary: BinaryOperator, _ x: View, named name: String, _ constant: Folded) throws -> View {
        if !x.isComplete, constant.count == 1, binary == .multiply || binary == .divide {
            var scaled = x
            scaled.scale = binary == .multiply ? x.scale * constant.floats[0] : x.scale / constant.floats[0]
            return scaled
        }
        guard x.isComplete else { throw Refusal(reason: "an element-wise constant on part of a tensor") }
        let floats = constant.floats
        let scalars = try x.broadcastOffsets(of: constant.shape).map { floats[$0] }
        let (channels, positions) = (x.valueShape[0], x.valueShape[1] * x.valueShape[2])
        let perChannel = (0..<channels).allSatisfy { c in (1..<positions).allSatisfy { scalars[c * positions + $0] == scalars[c * positions] } }
        guard perChannel else {
            let full = Tensor(shape: x.valueShape, scalars: scalars)
            if readers[name] == 1, binary == .add, case .binary(.add, .identity) = builder.operation(of: x.value),
               case let inputs = builder.inputs(of: x.value), case .constant(let earlier) = builder.operation(of: inputs[1]), earlier.shape == x.valueShape {
                builder.replaceOperation(of: inputs[1], with: .constant(Tensor(shape: x.valueShape, scalars: zip(earlier.scalars, full.scalars).map(+))))
                return x
            }
            return x.replacing(builder.binary(binary, x.value, builder.constant(full)))
        }
        let values = (0..<channels).map { scalars[$0 * positions] }
        // A LayerNorm's own scale and shift absorb a per-channel scale or shift (the formula's weight and bias).
        if readers[name] == 1, case .layerNormalization(let normalization) = builder.operation(of: x.value), binary == .add || binary == .multiply {
            let (weight, bias) = (normalization.weight.scalars, normalization.bias.scalars)
            let scaled = binary == .multiply
            builder.replaceOperation(of: x.value, with: .layerNormalization(LayerNormalization(
                weight: Tensor(shape: [channels], scalars: scaled ? zip(weight, values).map(*) : weight),
                bias: Tensor(shape: [channels], scalars: scaled ? zip(bias, values).map(*) : zip(bias, values).map(+)),
                epsilon: normalization.epsilon)))
            return x
        }
        if readers[name] == 1, case .convolution(let convolution) = builder.operation(of: x.value), convolution.activation == .identity,
           fold(binary, values.map(Double.init), into: x.value) {
            return x
        }
        return x.replacing(builder.binary(binary, x.value, builder.constant(Tensor(shape: [channels, 1, 1], scalars: values))))
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
        let source = try view(name)
        guard source.isComplete else { throw Refusal(reason: "GELU on part of a tensor") }
        // Fused when the pattern reads x twice (the division and the product) and nothing else does.
        try alias(node, .view(source.replacing(activated(source.value, .gelu, fusing: readers[name] == 2))))
    }

    /// ReduceMean over the last axis, Pow by 2 and Sqrt: only as steps of LayerNormalization's formula.
    mutating func normalizationStep(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        let output = node.outputs.first ?? ""
        switch (node.operation, symbols[name]) {
        case ("ReduceMean", .view(let source)?) where source.isChannelsLast:
            guard try lastAxisOnly(node, rank: source.rank), readingOperators[output] == ["Sub"] else { break }
            return try alias(node, .normalizing(input: name, stage: .mean))
        case ("ReduceMean", .normalizing(let x, .squared)?):
            guard case .view(let source)? = symbols[x], try lastAxisOnly(node, rank: source.rank) else { break }
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

    /// Whether a ReduceMean keeps its dimension and averages the last axis of a rank-`rank` tensor alone.
    func lastAxisOnly(_ node: OnnxNode, rank: Int) throws -> Bool {
        guard try int(node, "keepdims", 1) == 1 else { return false }
        let axes = try input(node, 1).map { try integers(requireFolded($0, "axes"), "axes") } ?? ints(node, "axes")
        return axes == [-1] || axes == [Int64(rank - 1)]
    }

    /// The next symbol of LayerNormalization's formula when `node` continues it: x − mean, variance + ε, and
    /// (x − mean) / √(variance + ε), which becomes the channel normalisation (scale 1, shift 0, until constants follow).
    mutating func normalizationStep(_ node: OnnxNode, _ names: [String]) throws -> Symbol? {
        switch (node.operation, symbols[names[0]], symbols[names[1]]) {
        case ("Sub", .view?, .normalizing(let x, .mean)?) where x == names[0]:
            return .normalizing(input: x, stage: .centred)
        case ("Add", .normalizing(let x, .variance)?, .folded(let epsilon)?) where epsilon.count == 1,
             ("Add", .folded(let epsilon)?, .normalizing(let x, .variance)?) where epsilon.count == 1:
            let value = epsilon.floats[0]
            guard value >= 0, value.isFinite else { throw OnnxError.invalid("epsilon \(value)") }
            return .normalizing(input: x, stage: .shifted(epsilon: value))
        case ("Div", .normalizing(let x, .centred)?, .normalizing(let same, .deviation(let epsilon))?) where x == same:
            guard case .view(let source)? = symbols[x] else { return nil }
            let channels = source.valueShape[0]
            let normalization = LayerNormalization(weight: Tensor(shape: [channels], repeating: 1), bias: Tensor(shape: [channels], repeating: 0),
                                                   epsilon: epsilon)
            return .view(source.replacing(builder.layerNormalization(source.value, normalization)))
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
