// The operators that compute on the image, each checked against the shapes it receives before it joins the graph.
import Engine

extension Importer {
    // MARK: Convolution and what fuses into it

    mutating func convolution(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        var x: Value, pending = Padding2D.zero
        switch symbols[name] {
        case .padded(let value, let padding)?: (x, pending) = (value, padding)
        default: x = try value(name)
        }
        let shape = builder.shape(of: x)
        guard shape.count == 3 else { throw Refusal(reason: "only 2-D convolutions of [N, C, H, W] inputs are supported") }
        guard let weightName = input(node, 1) else { throw OnnxError.invalid("Conv has no weight") }
        let weight = try requireFolded(weightName, "weight")
        guard weight.shape.count == 4, weight.shape.allSatisfy({ $0 >= 1 }) else { throw OnnxError.invalid("weight of shape \(weight.shape)") }
        let group = try int(node, "group", 1)
        guard group >= 1, group <= Int64(shape[0]), Int64(weight.shape[0]) % group == 0, Int64(weight.shape[1]) * group == Int64(shape[0]) else {
            throw OnnxError.invalid("weight \(weight.shape) in \(group) groups does not fit an input of \(shape[0]) channels")
        }
        let kernel = try sizes(ints(node, "kernel_shape") ?? weight.shape[2...].map(Int64.init), count: 2, minimum: 1, "kernel_shape")
        guard kernel == Array(weight.shape[2...]) else { throw OnnxError.invalid("kernel_shape \(kernel) differs from the weight \(weight.shape)") }
        let stride = try sizes(ints(node, "strides") ?? [1, 1], count: 2, minimum: 1, "strides")
        let dilation = try sizes(ints(node, "dilations") ?? [1, 1], count: 2, minimum: 1, "dilations")
        let padding = try spatialPadding(node, input: Size2D(shape[1], shape[2]), kernel: Size2D(kernel[0], kernel[1]),
                                         stride: Size2D(stride[0], stride[1]), dilation: Size2D(dilation[0], dilation[1]))
        var bias: Tensor?
        if let biasName = input(node, 2) {
            let folded = try requireFolded(biasName, "bias")
            guard folded.count == weight.shape[0] else { throw OnnxError.invalid("bias of shape \(folded.shape) for \(weight.shape[0]) outputs") }
            bias = Tensor(shape: [weight.shape[0]], scalars: folded.floats)
        }
        let convolution = Convolution(
            weight: Tensor(shape: weight.shape, scalars: weight.floats), bias: bias, stride: Size2D(stride[0], stride[1]),
            padding: Padding2D(top: padding.top + pending.top, left: padding.left + pending.left,
                               bottom: padding.bottom + pending.bottom, right: padding.right + pending.right),
            dilation: Size2D(dilation[0], dilation[1]), groups: Int(group))
        let output = convolution.outputSize(input: Size2D(shape[1], shape[2]))
        guard output.height >= 1, output.width >= 1 else { throw OnnxError.invalid("the output of an input \(shape) would be empty") }
        try produce(node, builder.convolution(x, convolution))
    }

    /// `pads` or `auto_pad` as explicit padding.
    func spatialPadding(_ node: OnnxNode, input: Size2D, kernel: Size2D, stride: Size2D, dilation: Size2D = Size2D(1, 1)) throws -> Padding2D {
        switch try string(node, "auto_pad", "NOTSET") {
        case "NOTSET":
            let pads = try ints(node, "pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 14 }) else { throw OnnxError.invalid("pads \(pads)") }
            return Padding2D(top: Int(pads[0]), left: Int(pads[1]), bottom: Int(pads[2]), right: Int(pads[3]))
        case "VALID":
            return .zero
        case "SAME_UPPER":
            return Padding2D.same(input: input, kernel: kernel, stride: stride, dilation: dilation)
        case "SAME_LOWER":
            let upper = Padding2D.same(input: input, kernel: kernel, stride: stride, dilation: dilation)
            return Padding2D(top: upper.bottom, left: upper.right, bottom: upper.top, right: upper.left)
        case let other:
            throw OnnxError.invalid("auto_pad '\(other)'")
        }
    }

    /// The convolution, linear layer or binary node that made `name`, when nothing else reads it and it ends in
    /// no activation: what can take a following batch norm, bias, scale or activation into itself.
    func fusable(_ name: String) -> Value? {
        guard readers[name] == 1, case .value(let value)? = symbols[name] else { return nil }
        switch builder.operation(of: value) {
        case .convolution(let convolution) where convolution.activation == .identity: return value
        case .linear(let linear) where linear.activation == .identity: return value
        case .binary(_, .identity): return value
        default: return nil
        }
    }

    /// `producer op perChannel` folded into the convolution or linear layer `producer`, as its bias or its scale;
    /// false when it cannot be (a division by zero, another operation).
    mutating func fold(_ binary: BinaryOperator, _ perChannel: [Double], into producer: Value) -> Bool {
        let ones = [Double](repeating: 1, count: perChannel.count), zeros = [Double](repeating: 0, count: perChannel.count)
        switch binary {
        case .add: return rescale(producer, scale: ones, shift: perChannel)
        case .subtract: return rescale(producer, scale: ones, shift: perChannel.map { -$0 })
        case .multiply: return rescale(producer, scale: perChannel, shift: zeros)
        case .divide: return perChannel.allSatisfy { $0 != 0 } && rescale(producer, scale: perChannel.map { 1 / $0 }, shift: zeros)
        }
    }

    /// Replaces the convolution or linear layer `value` by one with each output's weights times `scale` and its
    /// bias times `scale` plus `shift` (computed in Double).
    mutating func rescale(_ value: Value, scale: [Double], shift: [Double]) -> Bool {
        func adjusted(_ weight: Tensor, _ bias: Tensor?) -> (Tensor, Tensor) {
            let outputs = weight.shape[0]
            let perOutput = weight.count / outputs
            var weights = weight.scalars
            for index in weights.indices { weights[index] = Float(Double(weights[index]) * scale[index / perOutput]) }
            let biases = (0..<outputs).map { Float(Double(bias?.scalars[$0] ?? 0) * scale[$0] + shift[$0]) }
            return (Tensor(shape: weight.shape, scalars: weights), Tensor(shape: [outputs], scalars: biases))
        }
        switch builder.operation(of: value) {
        case .convolution(let c) where c.activation == .identity && c.outputChannels == scale.count:
            let (weight, bias) = adjusted(c.weight, c.bias)
            builder.replaceOperation(of: value, with: .convolution(Convolution(weight: weight, bias: bias, stride: c.stride, padding: c.padding,
                                                                               dilation: c.dilation, groups: c.groups)))
            return true
        case .linear(let l) where l.activation == .identity && l.weight.shape[0] == scale.count:
            let (weight, bias) = adjusted(l.weight, l.bias)
            builder.replaceOperation(of: value, with: .linear(Linear(weight: weight, bias: bias)))
            return true
        default:
            return false
        }
    }

    mutating func batchNorm(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        let x = try value(name)
        let shape = builder.shape(of: x)
        let parameters = try (1...4).map { index -> [Float] in
            guard let parameter = input(node, index) else { throw OnnxError.invalid("BatchNormalization needs 5 inputs") }
            let tensor = try requireFolded(parameter, "parameters")
            guard tensor.count == shape[0] else { throw OnnxError.invalid("parameter '\(parameter)' \(tensor.shape) for \(shape[0]) channels") }
            return tensor.floats
        }
        if node.outputs.count > 1, node.outputs.dropFirst().contains(where: { readers[$0, default: 0] > 0 }) {
            throw Refusal(reason: "training-mode outputs are used")
        }
        let epsilon = Double(try float(node, "epsilon", 1e-5))
        let scale = (0..<shape[0]).map { Double(parameters[0][$0]) / (Double(parameters[3][$0]) + epsilon).squareRoot() }
        let shift = (0..<shape[0]).map { Double(parameters[1][$0]) - Double(parameters[2][$0]) * scale[$0] }
        if let producer = fusable(name), rescale(producer, scale: scale, shift: shift) {
            try produce(node, producer)
            return
        }
        let constantShape = shape.count == 3 ? [shape[0], 1, 1] : [shape[0]]
        let scaled = builder.binary(.multiply, x, builder.constant(Tensor(shape: constantShape, scalars: scale.map(Float.init))))
        try produce(node, builder.binary(.add, scaled, builder.constant(Tensor(shape: constantShape, scalars: shift.map(Float.init)))))
    }

    // MARK: Activations

    /// `activation` on `x`: fused into the convolution that makes `x` when `fusing` (nothing else reads `x`) and that
    /// convolution has none yet, else a node of its own.
    mutating func activated(_ x: Value, _ activation: Activation, fusing: Bool) -> Value {
        if fusing, case .convolution(let c) = builder.operation(of: x), c.activation == .identity, let fused = builder.operation(of: x).ending(in: activation) {
            builder.replaceOperation(of: x, with: fused)
            return x
        }
        return builder.activation(x, activation)
    }

    mutating func activation(_ node: OnnxNode, _ activation: Activation) throws {
        let name = input(node, 0)!
        if case .view(let source)? = symbols[name], source.plainShape == nil {
            // Element-wise on tokens or channels-last data: on the value, which keeps its layout.
            guard source.isComplete else { throw Refusal(reason: "an activation on part of a tensor") }
            return try alias(node, .view(source.replacing(activated(source.value, activation, fusing: readers[name] == 1))))
        }
        let x = try value(name)
        if let producer = fusable(name), let fused = builder.operation(of: producer).ending(in: activation) {
            builder.replaceOperation(of: producer, with: fused)
            return try produce(node, producer)
        }
        try produce(node, builder.activation(x, activation))
    }

    mutating func clip(_ node: OnnxNode) throws {
        var lower = -Float.infinity, upper = Float.infinity
        if opset < 11 {
            lower = try float(node, "min", lower)
            upper = try float(node, "max", upper)
        } else {
            if let name = input(node, 1) {
                let tensor = try requireFolded(name, "minimum")
                guard tensor.count == 1 else { throw OnnxError.invalid("Clip's minimum must be a scalar") }
                lower = tensor.floats[0]
            }
            if let name = input(node, 2) {
                let tensor = try requireFolded(name, "maximum")
                guard tensor.count == 1 else { throw OnnxError.invalid("Clip's maximum must be a scalar") }
                upper = tensor.floats[0]
            }
        }
        if lower == 0 && upper == 6 { return try activation(node, .relu6) }
        if lower == 0 && upper == .infinity { return try activation(node, .relu) }
        try activation(node, .clip(lower: lower, upper: upper))
    }

    // MARK: Element-wise arithmetic

    mutating func binary(_ node: OnnxNode) throws {
        guard let leftName = input(node, 0), let rightName = input(node, 1) else { throw OnnxError.invalid("\(node.operation) needs two inputs") }
        let operators: [String: BinaryOperator] = ["Add": .add, "Sub": .subtract, "Mul": .multiply, "Div": .divide]
        let binary = operators[node.operation]!
        let commutative = binary == .add || binary == .multiply
        if isComputed(leftName) && isComputed(rightName) {
            let (left, right) = (try value(leftName), try value(rightName))
            let (leftShape, rightShape) = (builder.shape(of: left), builder.shape(of: right))
            if GraphBuilder.broadcasts(rightShape, onto: leftShape) {
                try produce(node, builder.binary(binary, left, right))
            } else if commutative && GraphBuilder.broadcasts(leftShape, onto: rightShape) {
                try produce(node, builder.binary(binary, right, left))
            } else {
                throw Refusal(reason: "operands \(leftShape) and \(rightShape) (per image) do not broadcast")
            }
            return
        }
        let constantOnLeft = !isComputed(leftName)
        let (valueName, constantName) = constantOnLeft ? (rightName, leftName) : (leftName, rightName)
        let x = try value(valueName)
        let shape = builder.shape(of: x)
        let constant = try perImage(try requireFolded(constantName, "operand"), for: shape)
        if constantOnLeft && binary == .divide { throw Refusal(reason: "a constant divided by a computed value") }
        // A per-channel constant added to, or multiplying, a convolution or linear layer's output becomes its bias or scale.
        if !(constantOnLeft && binary == .subtract), let producer = fusable(valueName), let perChannel = channelwise(constant, channels: shape[0]),
           fold(binary, perChannel, into: producer) {
            return try produce(node, producer)
        }
        if constantOnLeft && binary == .subtract {
            // c − x = (−1 · x) + c
            let negated = builder.binary(.multiply, x, builder.constant(Tensor(shape: shape.map { _ in 1 }, repeating: -1)))
            return try produce(node, builder.binary(.add, negated, builder.constant(constant)))
        }
        try produce(node, builder.binary(binary, x, builder.constant(constant)))
    }

    /// A constant operand in per-image form: NumPy-aligned with [N] + `shape`, with 1 for the batch.
    func perImage(_ constant: Folded, for shape: [Int]) throws -> Tensor {
        let rank = shape.count + 1
        guard constant.shape.count <= rank else { throw Refusal(reason: "a constant of shape \(constant.shape) for values [N] + \(shape)") }
        let aligned = [Int](repeating: 1, count: rank - constant.shape.count) + constant.shape
        let own = Array(aligned.dropFirst())
        guard aligned[0] == 1, GraphBuilder.broadcasts(own, onto: shape) else {
            throw Refusal(reason: "a constant of shape \(constant.shape) does not broadcast onto [N] + \(shape)")
        }
        return Tensor(shape: own, scalars: constant.floats)
    }

    /// One value per channel (a scalar repeated), or nil when the constant varies along other dimensions.
    func channelwise(_ constant: Tensor, channels: Int) -> [Double]? {
        if constant.count == 1 { return Array(repeating: Double(constant.scalars[0]), count: channels) }
        guard constant.shape[0] == channels, constant.count == channels else { return nil }
        return constant.scalars.map(Double.init)
    }

    // MARK: Pooling, concatenation, linear layers

    mutating func pool(_ node: OnnxNode) throws {
        let x = try value(input(node, 0)!)
        let shape = builder.shape(of: x)
        guard shape.count == 3 else { throw Refusal(reason: "it needs an [N, C, H, W] input") }
        guard let kernelShape = try ints(node, "kernel_shape") else { throw OnnxError.invalid("\(node.operation) has no kernel_shape") }
        let kernel = try sizes(kernelShape, count: 2, minimum: 1, "kernel_shape")
        let stride = try sizes(ints(node, "strides") ?? [1, 1], count: 2, minimum: 1, "strides")
        guard try (ints(node, "dilations") ?? [1, 1]) == [1, 1] else { throw Refusal(reason: "dilated pooling") }
        let padding = try spatialPadding(node, input: Size2D(shape[1], shape[2]), kernel: Size2D(kernel[0], kernel[1]), stride: Size2D(stride[0], stride[1]))
        guard padding.top * 2 <= kernel[0], padding.bottom * 2 <= kernel[0], padding.left * 2 <= kernel[1], padding.right * 2 <= kernel[1] else {
            throw Refusal(reason: "padding larger than half the kernel")
        }
        let pooling = Pooling(kernel: Size2D(kernel[0], kernel[1]), stride: Size2D(stride[0], stride[1]), padding: padding,
                              ceilMode: try int(node, "ceil_mode", 0) == 1, countIncludesPadding: try int(node, "count_include_pad", 0) == 1)
        let output = pooling.outputSize(input: Size2D(shape[1], shape[2]))
        guard output.height >= 1, output.width >= 1 else { throw OnnxError.invalid("the output of an input \(shape) would be empty") }
        try produce(node, node.operation == "MaxPool" ? builder.maxPool(x, pooling) : builder.averagePool(x, pooling))
    }

    mutating func concat(_ node: OnnxNode) throws {
        let names = node.inputs.filter { !$0.isEmpty }
        guard names.allSatisfy(isComputed) else { return try tokenConcat(node, names) }
        let values = try names.map { try value($0) }
        let shapes = values.map { builder.shape(of: $0) }
        guard shapes.allSatisfy({ $0.count == 3 && $0[1] == shapes[0][1] && $0[2] == shapes[0][2] }) else {
            throw Refusal(reason: "only [N, C, H, W] values of one height and width are joined; got \(shapes)")
        }
        guard try normalized(int(node, "axis", 1), rank: 4) == 1 else { throw Refusal(reason: "only channels are joined (axis 1)") }
        try produce(node, values.count == 1 ? values[0] : builder.concat(values))
        if values.count == 1 { share(names[0], node.outputs[0]) }
    }

    /// A linear layer on [N, K]: `weight` is [M, K].
    mutating func linear(_ node: OnnxNode, _ x: Value, weight: [Float], outputs: Int, bias: [Float]?) throws {
        let features = builder.shape(of: x)
        guard features.count == 1 || (features.count == 3 && features[1] == 1 && features[2] == 1) else {
            throw Refusal(reason: "it needs an [N, K] input, got [N] + \(features); flatten it first")
        }
        guard weight.count == outputs * features[0] else { throw OnnxError.invalid("a weight of \(weight.count) values for \(features[0]) inputs and \(outputs) outputs") }
        try produce(node, builder.linear(x, Linear(weight: Tensor(shape: [outputs, features[0]], scalars: weight),
                                                   bias: bias.map { Tensor(shape: [outputs], scalars: $0) })))
    }

    mutating func gemm(_ node: OnnxNode) throws {
        guard try int(node, "transA", 0) == 0 else { throw Refusal(reason: "transA = 1") }
        guard let weightName = input(node, 1) else { throw OnnxError.invalid("Gemm has no B") }
        let b = try requireFolded(weightName, "B")
        guard b.shape.count == 2 else { throw OnnxError.invalid("B of shape \(b.shape)") }
        let transposed = try int(node, "transB", 0) == 1
        let (outputs, features) = transposed ? (b.shape[0], b.shape[1]) : (b.shape[1], b.shape[0])
        let alpha = try float(node, "alpha", 1), beta = try float(node, "beta", 1)
        let weight = try (transposed ? b : b.transposed([1, 0])).floats.map { $0 * alpha }
        var bias: [Float]?
        if let biasName = input(node, 2) {
            let c = try requireFolded(biasName, "C")
            guard c.count == 1 || (c.count == outputs && c.shape.last == outputs) else { throw Refusal(reason: "a bias of shape \(c.shape)") }
            bias = c.count == 1 ? Array(repeating: c.floats[0] * beta, count: outputs) : c.floats.map { $0 * beta }
        }
        try linearLayer(node, weight: weight, outputs: outputs, features: features, bias: bias)
    }

    /// MatMul by a constant [K, M] is a linear layer; between two computed tensors it is part of attention.
    mutating func matMul(_ node: OnnxNode) throws {
        guard let weightName = input(node, 1) else { throw OnnxError.invalid("MatMul has no second input") }
        guard folded(weightName) != nil else { return try attentionProduct(node) }
        let b = try requireFolded(weightName, "second operand")
        guard b.shape.count == 2 else { throw Refusal(reason: "only a constant right side of rank 2 is supported, not \(b.shape)") }
        try linearLayer(node, weight: b.transposed([1, 0]).floats, outputs: b.shape[1], features: b.shape[0], bias: nil)
    }

    /// A linear layer (`weight` [outputs, features]) on [N, K], or on the last axis of any tensor whose last axis is
    /// the channels (tokens, channels-last data) as a 1×1 convolution.
    mutating func linearLayer(_ node: OnnxNode, weight: [Float], outputs: Int, features: Int, bias: [Float]?) throws {
        let name = input(node, 0)!
        if case .view(let source)? = symbols[name], source.plainShape == nil {
            guard source.valueShape[0] == features else { throw OnnxError.invalid("a weight for \(features) inputs on \(source.valueShape[0]) channels") }
            return try alias(node, .view(pointwise(source, weight: weight, outputs: outputs, bias: bias)))
        }
        let x = try value(name)
        guard builder.shape(of: x).first == features else { throw OnnxError.invalid("a weight for \(features) inputs on [N] + \(builder.shape(of: x))") }
        try linear(node, x, weight: weight, outputs: outputs, bias: bias)
    }

    // MARK: Shapes

    /// Flatten, Reshape, Squeeze and Unsqueeze of a computed value into another value: allowed when they keep the batch
    /// first and only regroup the row-major order of each image (Transpose is always a view: `regroup`).
    mutating func reshape(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        let x = try value(name)
        let shape = builder.shape(of: x)
        let count = shape.reduce(1, *)
        var target: [Int]
        switch node.operation {
        case "Flatten":
            guard try normalized(int(node, "axis", 1), rank: shape.count + 2) == 1 else { throw Refusal(reason: "flattening across the batch") }
            target = [count]
        case "Squeeze", "Unsqueeze":
            let axes = try squeezeAxes(node, input(node, 1).map { try requireFolded($0, "axes") })
            let full = try squeezed([-2] + shape, node.operation, axes)
            guard full.first == -2 else { throw Refusal(reason: "it moves the batch dimension") }
            target = Array(full.dropFirst())
        default:
            target = try reshapeTarget(node, shape: shape)
        }
        if target.count == 3 || target.count == 1, target.reduce(1, *) == count {
            if target == shape {
                try produce(node, x)
                return share(name, node.outputs[0])
            }
            return try produce(node, builder.reshape(x, to: target))
        }
        throw Refusal(reason: "values are [N, C] or [N, C, H, W]; this makes [N] + \(target)")
    }

    /// Reshape's target without the batch: the first entry must stand for the batch (N as Shape wrote it, 0,
    /// −1 with the rest known, or the batch size the input declares).
    func reshapeTarget(_ node: OnnxNode, shape: [Int]) throws -> [Int] {
        guard let shapeName = input(node, 1) else { throw OnnxError.invalid("Reshape has no shape") }
        let requested = try requireFolded(shapeName, "target shape")
        guard let dimensions = requested.dimensions, let first = dimensions.first else { throw Refusal(reason: "a reshape to a scalar or to floats") }
        guard dimensions.dropFirst().allSatisfy({ $0.batch == 0 }), first.batch == 0 || first == .batchSize else {
            throw Refusal(reason: "it moves the batch dimension")
        }
        var target = dimensions.dropFirst().map(\.constant)
        let count = Int64(shape.reduce(1, *))
        let allowZero = try int(node, "allowzero", 0) == 1
        for index in target.indices where target[index] == 0 && !allowZero {
            guard index < shape.count else { throw OnnxError.invalid("Reshape copies dimension \(index + 1) of [N] + \(shape)") }
            target[index] = Int64(shape[index])
        }
        guard target.allSatisfy({ $0 >= -1 && $0 <= count }), target.filter({ $0 == -1 }).count <= 1 else {
            throw Refusal(reason: "it moves the batch dimension")
        }
        guard let known = Folded.checkedProduct(target.filter { $0 != -1 }) else { throw OnnxError.invalid("cannot reshape [N] + \(shape) to \(target)") }
        let isBatch = first == .batchSize || (first.constant == 0 && !allowZero) || first.constant == declaredBatch
            || (first.constant == -1 && !target.contains(-1) && known == count)
        guard isBatch else { throw Refusal(reason: "its first dimension \(View.describe(first)) is not the batch") }
        if let unknown = target.firstIndex(of: -1) {
            guard known > 0, count % known == 0 else { throw OnnxError.invalid("cannot reshape [N] + \(shape) to \(target)") }
            target[unknown] = count / known
        }
        return target.map { Int($0) }
    }

    mutating func pad(_ node: OnnxNode) throws {
        let name = input(node, 0)!
        guard try string(node, "mode", "constant") == "constant" else { throw Refusal(reason: "only constant padding is supported") }
        guard input(node, 3) == nil else { throw Refusal(reason: "padding chosen axes") }
        let pads: [Int64]
        var fill: Float = 0
        if opset < 11 {
            pads = try ints(node, "pads") ?? []
            fill = try float(node, "value", 0)
        } else {
            guard let padsName = input(node, 1) else { throw OnnxError.invalid("Pad has no pads") }
            pads = try integers(requireFolded(padsName, "pads"), "pads")
            if let valueName = input(node, 2) {
                let value = try requireFolded(valueName, "constant value")
                guard value.count == 1 else { throw OnnxError.invalid("Pad's value must be a scalar") }
                fill = value.floats[0]
            }
        }
        let (x, pending): (Value, Padding2D)
        switch symbols[name] {
        case .padded(let value, let padding)? where fill == 0: (x, pending) = (value, padding)
        default: (x, pending) = (try value(name), .zero)
        }
        let shape = builder.shape(of: x)
        guard shape.count == 3, pads.count == 8 else { throw Refusal(reason: "only the height and width of [N, C, H, W] values are padded") }
        guard pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else { throw Refusal(reason: "padding the batch or channels") }
        guard pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 14 }) else { throw Refusal(reason: "negative padding (cropping)") }
        let padding = Padding2D(top: Int(pads[2]) + pending.top, left: Int(pads[3]) + pending.left,
                                bottom: Int(pads[6]) + pending.bottom, right: Int(pads[7]) + pending.right)
        guard (shape[1] + padding.top + padding.bottom) * (shape[2] + padding.left + padding.right) * shape[0] <= OnnxImporter.maximumValueCount else {
            throw OnnxError.invalid("the padded value is too large")
        }
        if fill == 0 {
            try alias(node, .padded(x, padding))
        } else {
            try produce(node, builder.pad(x, padding, value: fill))
        }
    }

    mutating func softmax(_ node: OnnxNode) throws {
        if try attentionSoftmax(node) { return }
        let x = try value(input(node, 0)!)
        let shape = builder.shape(of: x)
        let axis = try normalized(int(node, "axis", opset < 13 ? 1 : -1), rank: shape.count + 1)
        if shape.count == 1 && axis == 1 { return try produce(node, builder.softmax(x)) }
        if shape.count == 3 && axis == 1 && shape[1] == 1 && shape[2] == 1 {
            return try produce(node, builder.reshape(builder.softmax(builder.reshape(x, to: [shape[0]])), to: shape))
        }
        throw Refusal(reason: "softmax over axis \(axis) of [N] + \(shape)")
    }
}

extension Operation {
    /// This convolution, linear layer or binary node with `activation` at its end; nil for other operations.
    func ending(in activation: Activation) -> Operation? {
        switch self {
        case .convolution(let c):
            return .convolution(Convolution(weight: c.weight, bias: c.bias, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                            groups: c.groups, activation: activation))
        case .linear(let l): return .linear(Linear(weight: l.weight, bias: l.bias, activation: activation))
        case .binary(let binary, _): return .binary(binary, activation)
        default: return nil
        }
    }
}
