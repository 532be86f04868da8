// The subset of onnx.proto (IR version ≤ 10) that describes an image classifier: the model, its graph, nodes,
// attributes, tensors and value infos. Decoded by hand from the wire format; fields this subset does not name are
// skipped as protobuf allows. Encoded back the same way for export.
import Foundation

public struct OnnxModel: Sendable {
    public var irVersion: Int64
    /// Operator-set versions by domain ("" is the default ai.onnx domain).
    public var opsets: [String: Int64]
    public var producerName: String
    public var producerVersion: String
    public var graph: OnnxGraph

    public init(irVersion: Int64, opsets: [String: Int64], producerName: String, producerVersion: String, graph: OnnxGraph) {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.graph = graph
    }

    /// The default domain's operator-set version.
    public var opset: Int64 { opsets[""] ?? opsets["ai.onnx"] ?? 1 }

    /// The image height the graph's NCHW input fixes (1…4096), nil when it leaves it open.
    public var declaredInputSide: Int? {
        let initializers = Set(graph.initializers.map(\.name))
        guard let input = graph.inputs.first(where: { !initializers.contains($0.name) }), let dimensions = input.dimensions, dimensions.count == 4,
              case .value(let side) = dimensions[2], side > 0, side <= 4096 else { return nil }
        return Int(side)
    }
}

public struct OnnxGraph: Sendable {
    public var name: String
    public var nodes: [OnnxNode]
    public var initializers: [OnnxTensor]
    public var inputs: [OnnxValueInfo]
    public var outputs: [OnnxValueInfo]

    public init(name: String, nodes: [OnnxNode], initializers: [OnnxTensor], inputs: [OnnxValueInfo], outputs: [OnnxValueInfo]) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
    }
}

public struct OnnxNode: Sendable {
    public var name: String
    public var operation: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: OnnxAttribute]

    public init(name: String, operation: String, domain: String = "", inputs: [String], outputs: [String], attributes: [String: OnnxAttribute] = [:]) {
        self.name = name
        self.operation = operation
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

public enum OnnxAttribute: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(OnnxTensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A subgraph or another kind Blindspot never reads (its type number).
    case unsupported(Int64)
}

/// ONNX's TensorProto.DataType values used here.
public enum OnnxDataType: Int32, Sendable {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, double = 11

    var byteWidth: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .float, .int32: return 4
        case .int64, .double: return 8
        }
    }
}

public struct OnnxTensor: Sendable {
    public var name: String
    public var dimensions: [Int64]
    /// The raw TensorProto.DataType number.
    public var dataType: Int32
    /// raw_data: a slice of the file, copied only when the values are read.
    public var raw: Data?
    public var floatData: [Float] = []
    public var int64Data: [Int64] = []
    public var int32Data: [Int64] = []
    public var doubleData: [Double] = []
    public var isExternal = false

    public init(name: String, dimensions: [Int64], dataType: Int32, raw: Data?) {
        self.name = name
        self.dimensions = dimensions
        self.dataType = dataType
        self.raw = raw
    }

    /// A float tensor, stored as raw little-endian bytes.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dimensions: shape.map(Int64.init), dataType: OnnxDataType.float.rawValue,
                  raw: floats.withUnsafeBytes { Data($0) })
    }

    /// An int64 tensor, stored as raw little-endian bytes.
    public init(name: String, shape: [Int], int64s: [Int64]) {
        self.init(name: name, dimensions: shape.map(Int64.init), dataType: OnnxDataType.int64.rawValue,
                  raw: int64s.withUnsafeBytes { Data($0) })
    }

    public var count: Int { dimensions.reduce(1) { $0 * Int($1) } }
}

public struct OnnxValueInfo: Sendable {
    public enum Dimension: Sendable, Equatable {
        case value(Int64)
        case parameter(String)
        case unknown
    }

    public var name: String
    public var elementType: Int32
    /// nil when the file gives no shape.
    public var dimensions: [Dimension]?

    public init(name: String, elementType: Int32, dimensions: [Dimension]?) {
        self.name = name
        self.elementType = elementType
        self.dimensions = dimensions
    }
}

// MARK: - Decoding

extension OnnxModel {
    /// Parses a ModelProto. `data` may be memory-mapped: weights stay slices of it until they are read.
    public init(serialized data: Data) throws(OnnxError) {
        var reader = ProtobufReader(data, context: "ModelProto")
        var irVersion: Int64?
        var opsets: [String: Int64] = [:]
        var producerName = "", producerVersion = ""
        var graph: OnnxGraph?
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.expect(wire, .varint); irVersion = try reader.int64()
            case 2: try reader.expect(wire, .lengthDelimited); producerName = try reader.string()
            case 3: try reader.expect(wire, .lengthDelimited); producerVersion = try reader.string()
            case 7: try reader.expect(wire, .lengthDelimited); graph = try OnnxGraph(reader: reader.message("graph"))
            case 8:
                try reader.expect(wire, .lengthDelimited)
                var opset = try reader.message("opset_import")
                var (domain, version) = ("", Int64(1))
                while let (field, wire) = try opset.field() {
                    switch field {
                    case 1: try opset.expect(wire, .lengthDelimited); domain = try opset.string()
                    case 2: try opset.expect(wire, .varint); version = try opset.int64()
                    default: try opset.skip(wire)
                    }
                }
                opsets[domain] = version
            default: try reader.skip(wire)
            }
        }
        guard let irVersion else { throw OnnxError.malformed("ModelProto has no ir_version (is this an ONNX file?)") }
        guard let graph else { throw OnnxError.malformed("ModelProto has no graph") }
        self.init(irVersion: irVersion, opsets: opsets, producerName: producerName, producerVersion: producerVersion, graph: graph)
    }
}

extension OnnxGraph {
    init(reader: ProtobufReader) throws(OnnxError) {
        var reader = reader
        self.init(name: "", nodes: [], initializers: [], inputs: [], outputs: [])
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.expect(wire, .lengthDelimited); nodes.append(try OnnxNode(reader: reader.message("node")))
            case 2: try reader.expect(wire, .lengthDelimited); name = try reader.string()
            case 5: try reader.expect(wire, .lengthDelimited); initializers.append(try OnnxTensor(reader: reader.message("initializer")))
            case 11: try reader.expect(wire, .lengthDelimited); inputs.append(try OnnxValueInfo(reader: reader.message("input")))
            case 12: try reader.expect(wire, .lengthDelimited); outputs.append(try OnnxValueInfo(reader: reader.message("output")))
            case 15: throw reader.malformed("sparse initializers are not supported")
            default: try reader.skip(wire)
            }
        }
    }
}

extension OnnxNode {
    init(reader: ProtobufReader) throws(OnnxError) {
        var reader = reader
        self.init(name: "", operation: "", inputs: [], outputs: [])
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.expect(wire, .lengthDelimited); inputs.append(try reader.string())
            case 2: try reader.expect(wire, .lengthDelimited); outputs.append(try reader.string())
            case 3: try reader.expect(wire, .lengthDelimited); name = try reader.string()
            case 4: try reader.expect(wire, .lengthDelimited); operation = try reader.string()
            case 7: try reader.expect(wire, .lengthDelimited); domain = try reader.string()
            case 5:
                try reader.expect(wire, .lengthDelimited)
                let (name, attribute) = try OnnxAttribute.decode(reader.message("attribute"))
                attributes[name] = attribute
            default: try reader.skip(wire)
            }
        }
        guard !operation.isEmpty else { throw reader.malformed("a node has no op_type") }
    }
}

extension OnnxAttribute {
    static func decode(_ reader: ProtobufReader) throws(OnnxError) -> (String, OnnxAttribute) {
        var reader = reader
        var name = "", type: Int64 = 0
        var float: Float = 0, int: Int64 = 0, string = "", tensor: OnnxTensor?
        var floats: [Float] = [], ints: [Int64] = [], strings: [String] = []
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.expect(wire, .lengthDelimited); name = try reader.string()
            case 20: try reader.expect(wire, .varint); type = try reader.int64()
            case 2: try reader.expect(wire, .fixed32); float = try reader.float()
            case 3: try reader.expect(wire, .varint); int = try reader.int64()
            case 4: try reader.expect(wire, .lengthDelimited); string = String(decoding: try reader.bytes(), as: UTF8.self)
            case 5: try reader.expect(wire, .lengthDelimited); tensor = try OnnxTensor(reader: reader.message("t"))
            case 7: try reader.floats(wire, into: &floats)
            case 8: try reader.int64s(wire, into: &ints)
            case 9: try reader.expect(wire, .lengthDelimited); strings.append(String(decoding: try reader.bytes(), as: UTF8.self))
            default: try reader.skip(wire)  // subgraphs and the rest: kept as their type number only
            }
        }
        switch type {
        case 1: return (name, .float(float))
        case 2: return (name, .int(int))
        case 3: return (name, .string(string))
        case 4:
            guard let tensor else { throw reader.malformed("tensor attribute '\(name)' has no tensor") }
            return (name, .tensor(tensor))
        case 6: return (name, .floats(floats))
        case 7: return (name, .ints(ints))
        case 8: return (name, .strings(strings))
        default: return (name, .unsupported(type))
        }
    }
}

extension OnnxTensor {
    init(reader: ProtobufReader) throws(OnnxError) {
        var reader = reader
        self.init(name: "", dimensions: [], dataType: 0, raw: nil)
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.int64s(wire, into: &dimensions)
            case 2: try reader.expect(wire, .varint); dataType = Int32(truncatingIfNeeded: try reader.int64())
            case 4: try reader.floats(wire, into: &floatData)
            case 5: try reader.int64s(wire, into: &int32Data)
            case 7: try reader.int64s(wire, into: &int64Data)
            case 8: try reader.expect(wire, .lengthDelimited); name = try reader.string()
            case 9: try reader.expect(wire, .lengthDelimited); raw = try reader.bytes()
            case 10: try reader.doubles(wire, into: &doubleData)
            case 14: try reader.expect(wire, .varint); isExternal = try reader.int64() == 1
            case 3: throw reader.malformed("segmented tensors are not supported")
            default: try reader.skip(wire)
            }
        }
        guard dimensions.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { throw reader.malformed("tensor '\(name)' has dimensions \(dimensions)") }
        // Zero dimensions count as one here: an empty tensor's strides must fit too (see Folded.checkedShape).
        guard let total = Folded.checkedProduct(dimensions.map { max($0, 1) }), total <= 1 << 34 else {
            throw reader.malformed("tensor '\(name)' is too large: \(dimensions)")
        }
    }
}

extension OnnxValueInfo {
    init(reader: ProtobufReader) throws(OnnxError) {
        var reader = reader
        self.init(name: "", elementType: 0, dimensions: nil)
        while let (field, wire) = try reader.field() {
            switch field {
            case 1: try reader.expect(wire, .lengthDelimited); name = try reader.string()
            case 2:
                try reader.expect(wire, .lengthDelimited)
                var type = try reader.message("type")
                while let (field, wire) = try type.field() {
                    guard field == 1 else { try type.skip(wire); continue }  // tensor_type
                    try type.expect(wire, .lengthDelimited)
                    var tensor = try type.message("tensor_type")
                    while let (field, wire) = try tensor.field() {
                        switch field {
                        case 1: try tensor.expect(wire, .varint); elementType = Int32(truncatingIfNeeded: try tensor.int64())
                        case 2:
                            try tensor.expect(wire, .lengthDelimited)
                            dimensions = try Self.shape(tensor.message("shape"))
                        default: try tensor.skip(wire)
                        }
                    }
                }
            default: try reader.skip(wire)
            }
        }
    }

    private static func shape(_ reader: ProtobufReader) throws(OnnxError) -> [Dimension] {
        var reader = reader
        var dimensions: [Dimension] = []
        while let (field, wire) = try reader.field() {
            guard field == 1 else { try reader.skip(wire); continue }
            try reader.expect(wire, .lengthDelimited)
            var dimension = try reader.message("dim")
            var value = Dimension.unknown
            while let (field, wire) = try dimension.field() {
                switch field {
                case 1: try dimension.expect(wire, .varint); value = .value(try dimension.int64())
                case 2: try dimension.expect(wire, .lengthDelimited); value = .parameter(try dimension.string())
                default: try dimension.skip(wire)
                }
            }
            dimensions.append(value)
        }
        return dimensions
    }
}

// MARK: - Encoding

extension OnnxModel {
    public func serialized() -> Data {
        var writer = ProtobufWriter()
        writer.int64(1, irVersion)
        writer.string(2, producerName)
        writer.string(3, producerVersion)
        writer.message(7) { graph.encode(into: &$0) }
        for (domain, version) in opsets.sorted(by: { $0.key < $1.key }) {
            writer.message(8) { opset in
                if !domain.isEmpty { opset.string(1, domain) }
                opset.int64(2, version)
            }
        }
        return Data(writer.bytes)
    }
}

extension OnnxGraph {
    func encode(into writer: inout ProtobufWriter) {
        for node in nodes { writer.message(1) { node.encode(into: &$0) } }
        writer.string(2, name)
        for tensor in initializers { writer.message(5) { tensor.encode(into: &$0) } }
        for input in inputs { writer.message(11) { input.encode(into: &$0) } }
        for output in outputs { writer.message(12) { output.encode(into: &$0) } }
    }
}

extension OnnxNode {
    func encode(into writer: inout ProtobufWriter) {
        for input in inputs { writer.string(1, input) }
        for output in outputs { writer.string(2, output) }
        writer.string(3, name)
        writer.string(4, operation)
        for (name, attribute) in attributes.sorted(by: { $0.key < $1.key }) {
            writer.message(5) { encoded in
                encoded.string(1, name)
                switch attribute {
                case .float(let value): encoded.float(2, value); encoded.int64(20, 1)
                case .int(let value): encoded.int64(3, value); encoded.int64(20, 2)
                case .string(let value): encoded.string(4, value); encoded.int64(20, 3)
                case .tensor(let tensor): encoded.message(5) { tensor.encode(into: &$0) }; encoded.int64(20, 4)
                case .floats(let values): encoded.packedFloats(7, values); encoded.int64(20, 6)
                case .ints(let values): encoded.packedInt64s(8, values); encoded.int64(20, 7)
                case .strings(let values): for value in values { encoded.string(9, value) }; encoded.int64(20, 8)
                case .unsupported(let type): encoded.int64(20, type)
                }
            }
        }
        if !domain.isEmpty { writer.string(7, domain) }
    }
}

extension OnnxTensor {
    func encode(into writer: inout ProtobufWriter) {
        writer.packedInt64s(1, dimensions)
        writer.int64(2, Int64(dataType))
        writer.string(8, name)
        if let raw { writer.bytes(9, raw) }
        if !floatData.isEmpty { writer.packedFloats(4, floatData) }
        if !int64Data.isEmpty { writer.packedInt64s(7, int64Data) }
    }
}

extension OnnxValueInfo {
    func encode(into writer: inout ProtobufWriter) {
        writer.string(1, name)
        writer.message(2) { type in
            type.message(1) { tensor in
                tensor.int64(1, Int64(elementType))
                guard let dimensions else { return }
                tensor.message(2) { shape in
                    for dimension in dimensions {
                        shape.message(1) { encoded in
                            switch dimension {
                            case .value(let value): encoded.int64(1, value)
                            case .parameter(let name): encoded.string(2, name)
                            case .unknown: break
                            }
                        }
                    }
                }
            }
        }
    }
}

extension OnnxModel {
    /// Whether `data` starts as ONNX files do: field 1 (ir_version) as a small varint.
    public static func isLikely(_ data: Data) -> Bool {
        data.count > 2 && data[data.startIndex] == 0x08 && data[data.startIndex + 1] >= 1 && data[data.startIndex + 1] <= 20
    }
}
