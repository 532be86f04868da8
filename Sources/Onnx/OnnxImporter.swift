// An ONNX image classifier as an Engine graph: every operator checked first (all unsupported ones reported together),
// shapes folded at load, batch norm, biases, activations and zero pads fused into the layer before them. Everything read
// from the file is validated here, so a hostile file gets an error, never a trap.
import Engine
import Foundation

public struct ImportedNetwork: Sendable {
    public let graph: Graph
    /// Whether the file ended in a Softmax, which Blindspot dropped: its graph gives logits like every other.
    public let droppedSoftmax: Bool
    public let producer: String
    public let opset: Int64
}

public enum OnnxImporter {
    /// The operators Blindspot runs, or folds when their inputs are known at load.
    public static let supportedOperators: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish",
        "Mul", "Add", "Sub", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "Gemm", "MatMul",
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Pad", "Softmax", "Dropout", "Identity",
        "Constant", "ConstantOfShape", "Shape", "Gather", "Cast", "Slice", "LayerNormalization", "Erf",
        "ReduceMean", "Pow", "Sqrt", "Equal", "Where", "Expand", "Mod", "Split", "Tanh", "Gelu",
    ]

    /// The largest input side accepted, and the most scalars one image may have in any value.
    static let maximumSide = 8192
    static let maximumValueCount = 1 << 27

    /// Imports a serialized model. `inputSize` fixes a height and width the file leaves open. `copied` is told of
    /// each initializer's bytes in `data` once they have been read into a tensor (see `MappedFile.release`).
    public static func network(from data: Data, name: String, inputSize: Size2D? = nil,
                               copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> ImportedNetwork {
        try network(from: OnnxModel(serialized: data), name: name, inputSize: inputSize, copied: copied)
    }

    public static func network(from model: OnnxModel, name: String, inputSize: Size2D? = nil,
                               copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> ImportedNetwork {
        let unsupported = model.graph.nodes.enumerated().compactMap { index, node -> UnsupportedNode? in
            let label = node.name.isEmpty ? "#\(index)" : node.name
            if !(node.domain.isEmpty || node.domain == "ai.onnx") {
                return UnsupportedNode(node: label, operation: node.operation, reason: "domain '\(node.domain)'")
            }
            return supportedOperators.contains(node.operation) ? nil : UnsupportedNode(node: label, operation: node.operation, reason: nil)
        }
        guard unsupported.isEmpty else { throw OnnxError.unsupportedOperators(unsupported) }
        var importer = try Importer(model: model, name: name, inputSize: inputSize, copied: copied)
        for (index, node) in model.graph.nodes.enumerated() {
            do {
                try importer.handle(node)
            } catch let error as Importer.Refusal {
                throw OnnxError.unsupportedUse(UnsupportedNode(node: node.name.isEmpty ? "#\(index)" : node.name, operation: node.operation, reason: error.reason))
            } catch let error as OnnxError {
                if case .invalid(let reason) = error {
                    throw OnnxError.invalid("node '\(node.name.isEmpty ? "#\(index)" : node.name)' (\(node.operation)): \(reason)")
                }
                throw error
            }
        }
        return try importer.finish(producer: [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "), opset: model.opset)
    }
}

struct Importer {
    /// A supported operator used in a way Blindspot cannot run.
    struct Refusal: Error {
        let reason: String
    }

    enum Symbol {
        case folded(Folded)
        case value(Value)
        /// A value with zero padding still to apply: a convolution takes it as its own padding.
        case padded(Value, Padding2D)
        /// A tensor ONNX has regrouped from a value (channels-last data, tokens, attention heads): see `View`.
        case view(View)
        /// Attention's query–key scores (`probabilities` once a Softmax has normalised them), waiting for the values.
        case scores(Attending, probabilities: Bool)
        /// Part of the exact GELU, x · (1 + erf(x / √2)) / 2, as exporters spell it out, on the value named `input`.
        case gelu(input: String, stage: GeluStage)
        /// Part of LayerNormalization spelt out (opset < 17) over the channels-last value named `input`.
        case normalizing(input: String, stage: NormalizationStage)
    }

    /// How much of (x − mean(x)) / √(mean((x − mean(x))²) + ε) has been seen.
    enum NormalizationStage {
        case mean, centred, squared, variance
        case shifted(epsilon: Float)
        case deviation(epsilon: Float)
    }

    /// How much of the GELU pattern has been seen: x / √2, its erf, plus one, times x; times one half completes it.
    enum GeluStage {
        case scaled, erf, plusOne, product
    }

    let graph: OnnxGraph
    let opset: Int64
    var builder: GraphBuilder
    var symbols: [String: Symbol] = [:]
    /// How many node inputs and graph outputs read each name.
    var readers: [String: Int] = [:]
    /// The operators that read each name.
    var readingOperators: [String: [String]] = [:]
    /// The input's batch dimension when the file fixes it (exporters often write 1).
    let declaredBatch: Int64?

    init(model: OnnxModel, name: String, inputSize: Size2D?, copied: (UnsafeRawBufferPointer) -> Void) throws {
        graph = model.graph
        opset = model.opset
        var known: [String: Symbol] = [:]
        for tensor in graph.initializers {
            known[tensor.name] = .folded(try Folded(tensor))
            tensor.raw?.withUnsafeBytes(copied)
        }
        let inputs = graph.inputs.filter { known[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw OnnxError.invalid("an image classifier has one input; this graph has \(inputs.count): \(inputs.map(\.name).joined(separator: ", "))")
        }
        guard input.elementType == OnnxDataType.float.rawValue else {
            throw OnnxError.invalid("input '\(input.name)' has element type \(input.elementType); Blindspot feeds float32 images")
        }
        guard let dimensions = input.dimensions, dimensions.count == 4 else {
            throw OnnxError.invalid("input '\(input.name)' must be [N, C, H, W]; the file gives \(input.dimensions.map { "\($0.count) dimensions" } ?? "no shape")")
        }
        func fixed(_ dimension: OnnxValueInfo.Dimension, _ override: Int?, _ what: String) throws -> Int {
            if let override { return override }
            guard case .value(let value) = dimension, value >= 1, value <= Int64(OnnxImporter.maximumSide) else {
                throw OnnxError.invalid("input '\(input.name)' has \(what) \(dimension); pass the input size")
            }
            return Int(value)
        }
        let channels = try fixed(dimensions[1], nil, "channels")
        guard channels <= 64 else { throw OnnxError.invalid("input '\(input.name)' has \(channels) channels") }
        let height = try fixed(dimensions[2], inputSize?.height, "height")
        let width = try fixed(dimensions[3], inputSize?.width, "width")
        if case .value(let batch) = dimensions[0] { declaredBatch = batch } else { declaredBatch = nil }
        builder = GraphBuilder(name: name, inputShape: [channels, height, width])
        known[input.name] = .value(builder.input)
        symbols = known
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty {
                readers[name, default: 0] += 1
                readingOperators[name, default: []].append(node.operation)
            }
        }
        for output in graph.outputs { readers[output.name, default: 0] += 1 }
    }

    mutating func finish(producer: String, opset: Int64) throws -> ImportedNetwork {
        guard graph.outputs.count == 1, let output = graph.outputs.first else {
            throw OnnxError.invalid("an image classifier has one output; this graph has \(graph.outputs.count)")
        }
        guard isComputed(output.name) else { throw OnnxError.invalid("output '\(output.name)' is not computed from the input") }
        var value: Value
        do {
            value = try self.value(output.name)
        } catch let refusal as Refusal {
            throw OnnxError.invalid("output '\(output.name)': \(refusal.reason)")
        }
        var droppedSoftmax = false
        if case .softmax = builder.operation(of: value) {
            value = builder.inputs(of: value)[0]
            droppedSoftmax = true
        }
        let shape = builder.shape(of: value)
        if shape.count == 3 {
            guard shape[1] == 1 && shape[2] == 1 else { throw OnnxError.invalid("output '\(output.name)' is a map \(shape), not class scores") }
            value = builder.reshape(value, to: [shape[0]])
        }
        return ImportedNetwork(graph: builder.build(output: value), droppedSoftmax: droppedSoftmax, producer: producer, opset: opset)
    }

    // MARK: - Symbols and attributes

    func folded(_ name: String) -> Folded? {
        if case .folded(let tensor)? = symbols[name] { return tensor }
        return nil
    }

    func requireFolded(_ name: String, _ what: String) throws -> Folded {
        guard let tensor = folded(name) else {
            if symbols[name] == nil { throw OnnxError.invalid("'\(name)' is used before anything produces it") }
            throw Refusal(reason: "its \(what) must be known at load time, but '\(name)' is computed from the image")
        }
        return tensor
    }

    /// A computed value; pending padding is applied first.
    mutating func value(_ name: String) throws -> Value {
        switch symbols[name] {
        case .value(let value)?: return value
        case .padded(let value, let padding)?:
            let padded = builder.pad(value, padding)
            symbols[name] = .value(padded)
            return padded
        case .folded?: throw Refusal(reason: "'\(name)' is a constant where a computed value is expected")
        case .view(let view)?:
            guard let shape = view.plainShape else {
                throw Refusal(reason: "'\(name)' is a tensor of shape \(view.shape.map(View.describe)) whose order is not the image's [N, C, H, W]")
            }
            return shape == builder.shape(of: view.value) ? view.value : builder.reshape(view.value, to: shape)
        case .scores?: throw Refusal(reason: "'\(name)' is attention scores that something other than attention reads")
        case .gelu?: throw Refusal(reason: "'\(name)' is part of a GELU that something else reads")
        case .normalizing?: throw Refusal(reason: "'\(name)' is part of a LayerNorm that something else reads")
        case nil: throw OnnxError.invalid("'\(name)' is used before anything produces it")
        }
    }

    func isComputed(_ name: String) -> Bool {
        switch symbols[name] {
        case .value?, .padded?, .view?, .scores?, .gelu?, .normalizing?: return true
        default: return false
        }
    }

    func int(_ node: OnnxNode, _ name: String, _ fallback: Int64) throws -> Int64 {
        switch node.attributes[name] {
        case nil: return fallback
        case .int(let value)?: return value
        default: throw OnnxError.invalid("attribute '\(name)' must be an integer")
        }
    }

    func float(_ node: OnnxNode, _ name: String, _ fallback: Float) throws -> Float {
        switch node.attributes[name] {
        case nil: return fallback
        case .float(let value)?: return value
        default: throw OnnxError.invalid("attribute '\(name)' must be a float")
        }
    }

    func ints(_ node: OnnxNode, _ name: String) throws -> [Int64]? {
        switch node.attributes[name] {
        case nil: return nil
        case .ints(let values)?: return values
        default: throw OnnxError.invalid("attribute '\(name)' must be a list of integers")
        }
    }

    func string(_ node: OnnxNode, _ name: String, _ fallback: String) throws -> String {
        switch node.attributes[name] {
        case nil: return fallback
        case .string(let value)?: return value
        default: throw OnnxError.invalid("attribute '\(name)' must be a string")
        }
    }

    func input(_ node: OnnxNode, _ index: Int) -> String? {
        node.inputs.indices.contains(index) && !node.inputs[index].isEmpty ? node.inputs[index] : nil
    }

    func integers(_ tensor: Folded, _ what: String) throws -> [Int64] {
        if tensor.dependsOnBatch { throw Refusal(reason: "\(what) depends on the batch size") }
        guard let values = tensor.integers else { throw OnnxError.invalid("\(what) must be integers") }
        return values
    }

    /// The view a name holds: its own, or a computed value's as ONNX sees it.
    mutating func view(_ name: String) throws -> View {
        if case .view(let view)? = symbols[name] { return view }
        let x = try value(name)
        return View(plain: x, shape: builder.shape(of: x))
    }

    /// `values` as small non-negative sizes (kernels, strides, dilations).
    func sizes(_ values: [Int64], count: Int, minimum: Int64, _ what: String) throws -> [Int] {
        guard values.count == count, values.allSatisfy({ $0 >= minimum && $0 <= 1 << 16 }) else {
            throw OnnxError.invalid("\(what) \(values) (expected \(count) values ≥ \(minimum))")
        }
        return values.map { Int($0) }
    }

    mutating func produce(_ node: OnnxNode, _ value: Value) throws {
        let shape = builder.shape(of: value)
        // An empty value would reach kernels with zero-sized windows (a pooling of a 0×0 map) when the graph runs.
        guard !shape.contains(0) else { throw OnnxError.invalid("the output \(shape) is empty") }
        guard shape.reduce(1, *) <= OnnxImporter.maximumValueCount else { throw OnnxError.invalid("the output \(shape) is too large") }
        guard let output = node.outputs.first, !output.isEmpty else { throw OnnxError.invalid("the node has no output") }
        symbols[output] = .value(value)
    }

    /// `alias` names the value `original` names: a fusion into it must count the readers of both names.
    mutating func share(_ original: String, _ alias: String) {
        let total = readers[original, default: 0] - 1 + readers[alias, default: 0]
        readers[original] = total
        readers[alias] = total
    }

    mutating func alias(_ node: OnnxNode, _ symbol: Symbol) throws {
        guard let output = node.outputs.first else { throw OnnxError.invalid("the node has no output") }
        symbols[output] = symbol
    }

    // MARK: - Nodes

    static let folding: Set<String> = [
        "Constant", "ConstantOfShape", "Gather", "Cast", "Slice", "Concat", "Transpose", "Reshape", "Unsqueeze", "Squeeze",
        "Flatten", "Add", "Sub", "Mul", "Div", "Identity", "Dropout", "Mod", "Sqrt", "Equal", "Where", "Expand",
    ]

    mutating func handle(_ node: OnnxNode) throws {
        let present = node.inputs.filter { !$0.isEmpty }
        if Self.folding.contains(node.operation), present.allSatisfy({ folded($0) != nil }) {
            for name in present where symbols[name] == nil { throw OnnxError.invalid("'\(name)' is used before anything produces it") }
            try alias(node, .folded(fold(node)))
            return
        }
        guard let first = input(node, 0) else { throw OnnxError.invalid("the node has no input") }
        guard symbols[first] != nil else { throw OnnxError.invalid("'\(first)' is used before anything produces it") }
        switch node.operation {
        case "Identity", "Dropout":
            if node.outputs.count > 1, readers[node.outputs[1], default: 0] > 0 { throw Refusal(reason: "its mask output is used") }
            try alias(node, symbols[first]!)
            share(first, node.outputs[0])
        case "Shape":
            let shape: [Dimension]
            if let tensor = folded(first) {
                shape = tensor.shape.indices.map { $0 == tensor.repeatedOverBatch ? .batchSize : Dimension(constant: Int64(tensor.shape[$0])) }
            } else {
                shape = try view(first).shape
            }
            let start = Int(try int(node, "start", 0)), end = Int(try int(node, "end", Int64(shape.count)))
            let (from, to) = (min(max(start < 0 ? start + shape.count : start, 0), shape.count), min(max(end < 0 ? end + shape.count : end, 0), shape.count))
            let slice = Array(shape[from..<max(from, to)])
            try alias(node, .folded(Folded(shape: [slice.count], dimensions: slice)))
        case "Conv": try convolution(node)
        case "BatchNormalization": try batchNorm(node)
        case "Relu": try activation(node, .relu)
        case "LeakyRelu": try activation(node, .leakyRelu(slope: float(node, "alpha", 0.01)))
        case "Sigmoid": try activation(node, .sigmoid)
        case "HardSigmoid": try activation(node, .hardSigmoid(alpha: float(node, "alpha", 0.2), beta: float(node, "beta", 0.5)))
        case "HardSwish": try activation(node, .hardSwish)
        case "Tanh": try activation(node, .tanh)
        case "Gelu":
            switch try string(node, "approximate", "none") {
            case "none": try activation(node, .gelu)
            case "tanh": try activation(node, .geluTanh)
            case let other: throw OnnxError.invalid("Gelu's approximate '\(other)'")
            }
        case "Clip": try clip(node)
        case "Add", "Sub", "Mul", "Div":
            if try !transformerBinary(node) { try binary(node) }
        case "Erf": try erf(node)
        case "ReduceMean", "Pow", "Sqrt": try normalizationStep(node)
        case "LayerNormalization": try layerNormalization(node)
        case "MaxPool", "AveragePool": try pool(node)
        case "GlobalAveragePool":
            let x = try value(first)
            guard builder.shape(of: x).count == 3 else { throw Refusal(reason: "it needs an [N, C, H, W] input") }
            try produce(node, builder.globalAveragePool(x))
        case "Concat": try concat(node)
        case "Gemm": try gemm(node)
        case "MatMul": try matMul(node)
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose":
            // A transpose is always a view: it costs nothing, and the value is reshaped only if a later node needs it.
            if node.operation == "Transpose" { return try regroup(node) }
            if case .view? = symbols[first] { return try regroup(node) }
            do {
                try reshape(node)
            } catch is Refusal {
                try regroup(node)
            }
        case "Gather": try gather(node)
        case "Slice": try slice(node)
        case "Split": try split(node)
        case "Pad": try pad(node)
        case "Softmax": try softmax(node)
        default:
            throw Refusal(reason: "Blindspot folds it only when its inputs are known at load time")
        }
    }
}
