// Thin Swift owners of oneDNN's C handles (engine, stream, primitive, memory) and memory descriptors.
// They only manage lifetimes and turn status codes into errors; planning lives in DNNLPlan.swift.
import CDNNL
import Engine

/// Throws when a oneDNN call did not succeed, naming the call.
func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
    guard status == dnnl_success else {
        throw EngineError.backend("oneDNN: \(what()) failed with status \(status.rawValue)")
    }
}

/// A oneDNN CPU engine.
final class DNNLEngine: @unchecked Sendable {
    let handle: dnnl_engine_t

    init() throws {
        var engine: dnnl_engine_t?
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
        handle = engine!
    }

    deinit { dnnl_engine_destroy(handle) }
}

/// A stream on the CPU engine; used by one execution at a time.
final class DNNLStream {
    let handle: dnnl_stream_t

    init(engine: DNNLEngine) throws {
        var stream: dnnl_stream_t?
        try check(dnnl_stream_create(&stream, engine.handle, dnnl_stream_default_flags.rawValue), "creating a stream")
        handle = stream!
    }

    deinit { dnnl_stream_destroy(handle) }
}

/// A memory descriptor: dimensions, data type and layout, compared by value.
struct MemoryDescriptor: Equatable {
    var raw: dnnl_memory_desc_t

    init(_ raw: dnnl_memory_desc_t) {
        self.raw = raw
    }

    init(dimensions: [Int], tag: dnnl_format_tag_t) throws {
        var descriptor = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_tag(&descriptor, Int32(dimensions.count), dimensions.map(Int64.init), dnnl_f32, tag),
                  "describing memory \(dimensions)")
        raw = descriptor
    }

    /// A layout given element strides per dimension (a transposed or interleaved view of another tensor's bytes).
    init(dimensions: [Int], strides: [Int]) throws {
        var descriptor = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_strides(&descriptor, Int32(dimensions.count), dimensions.map(Int64.init), dnnl_f32, strides.map(Int64.init)),
                  "describing memory \(dimensions) with strides \(strides)")
        raw = descriptor
    }

    /// The layout oneDNN may choose freely.
    static func any(_ dimensions: [Int]) throws -> MemoryDescriptor {
        try MemoryDescriptor(dimensions: dimensions, tag: dnnl_format_tag_any)
    }

    /// Row-major plain layout: x, nc, nchw, goihw… by rank.
    static func plain(_ dimensions: [Int]) throws -> MemoryDescriptor {
        let tags: [Int: dnnl_format_tag_t] = [1: dnnl_a, 2: dnnl_ab, 3: dnnl_abc, 4: dnnl_abcd, 5: dnnl_abcde]
        return try MemoryDescriptor(dimensions: dimensions, tag: tags[dimensions.count]!)
    }

    /// A window of channels [offset, offset + channels) of this 4-D descriptor.
    func channels(_ channels: Int, at offset: Int) throws -> MemoryDescriptor {
        let dimensions = self.dimensions
        return try window([dimensions[0], channels, dimensions[2], dimensions[3]], at: [0, offset, 0, 0])
    }

    /// The sub-tensor of `dimensions` starting at `offsets` inside this descriptor.
    func window(_ dimensions: [Int], at offsets: [Int]) throws -> MemoryDescriptor {
        var parent = raw
        var sub = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_submemory(&sub, &parent, dimensions.map(Int64.init), offsets.map(Int64.init)),
                  "taking \(dimensions) at \(offsets) of \(self.dimensions)")
        return MemoryDescriptor(sub)
    }

    /// Channels [offset, offset + channels) of this 4-D descriptor as a dense descriptor of the same layout and the byte
    /// offset where they start, when those channels are contiguous: one image, in a layout whose channel blocks come
    /// before height and width (nchw, nChw8c, nChw16c), on block boundaries. Else nil.
    func contiguousChannels(_ channels: Int, at offset: Int) throws -> (descriptor: MemoryDescriptor, byteOffset: Int)? {
        let dimensions = self.dimensions
        guard dimensions.count == 4, dimensions[0] == 1 else { return nil }
        let layouts: [(dnnl_format_tag_t, Int)] = [(dnnl_abcd, 1), (dnnl_aBcd8b, 8), (dnnl_aBcd16b, 16)]
        guard let (tag, block) = layouts.first(where: { hasTag($0.0) }), offset % block == 0, channels % block == 0 else { return nil }
        let window = try MemoryDescriptor(dimensions: [1, channels, dimensions[2], dimensions[3]], tag: tag)
        return (window, offset * dimensions[2] * dimensions[3] * MemoryLayout<Float>.size)
    }

    var dimensions: [Int] {
        withUnsafeBytes(of: raw.dims) { bytes in
            Array(bytes.bindMemory(to: Int64.self).prefix(Int(raw.ndims))).map(Int.init)
        }
    }

    /// True for oneDNN's ordinary strided and blocked layouts, false for opaque ones such as Winograd's weights.
    var isBlocked: Bool { raw.format_kind == dnnl_blocked }

    /// True for a layout oneDNN may choose (`any`).
    var isFree: Bool { raw.format_kind == dnnl_format_kind_any }

    var byteCount: Int {
        var copy = raw
        return dnnl_memory_desc_get_size(&copy)
    }

    /// True when this descriptor is `tag` for its own dimensions.
    func hasTag(_ tag: dnnl_format_tag_t) -> Bool {
        guard let candidate = try? MemoryDescriptor(dimensions: dimensions, tag: tag) else { return false }
        return candidate == self
    }

    static func == (left: MemoryDescriptor, right: MemoryDescriptor) -> Bool {
        var (a, b) = (left.raw, right.raw)
        return dnnl_memory_desc_equal(&a, &b) != 0
    }
}

/// A primitive descriptor and the primitive made from it.
final class Primitive {
    let descriptor: dnnl_primitive_desc_t
    let handle: dnnl_primitive_t

    /// Takes ownership of `descriptor`.
    init(descriptor: dnnl_primitive_desc_t) throws {
        self.descriptor = descriptor
        var primitive: dnnl_primitive_t?
        let status = dnnl_primitive_create(&primitive, descriptor)
        guard status == dnnl_success, let primitive else {
            dnnl_primitive_desc_destroy(descriptor)
            throw EngineError.backend("oneDNN: creating a primitive failed with status \(status.rawValue)")
        }
        handle = primitive
    }

    deinit {
        dnnl_primitive_destroy(handle)
        dnnl_primitive_desc_destroy(descriptor)
    }

    func memoryDescriptor(_ query: dnnl_query_t) -> MemoryDescriptor {
        MemoryDescriptor(dnnl_primitive_desc_query_md(descriptor, query, 0).pointee)
    }

    /// oneDNN's name for the kind of operation, e.g. "convolution", "concat" or "reorder".
    var kind: String {
        var kind = dnnl_undefined_primitive
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_primitive_kind, 0, &kind) == dnnl_success else { return "?" }
        return String(cString: dnnl_prim_kind2str(kind))
    }

    /// The format tag oneDNN chose for the primitive's output, e.g. "acdb" (NHWC), "aBcd8b" (nChw8c) or "aBcd16b"
    /// (nChw16c); nil when it is none of the plain or channel-blocked activation layouts (diagnostics).
    var destinationLayout: String? {
        guard let queried = dnnl_primitive_desc_query_md(descriptor, dnnl_query_dst_md, 0) else { return nil }
        let destination = MemoryDescriptor(queried.pointee)
        let tags = [dnnl_a, dnnl_ab, dnnl_abcd, dnnl_acdb, dnnl_aBcd8b, dnnl_aBcd16b]
        return tags.first { destination.hasTag($0) }.map { String(cString: dnnl_fmt_tag2str($0)) }
    }

    /// oneDNN's name for the implementation it picked, e.g. "brg:avx512_core" or "ref:any".
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "?" }
        return String(cString: name)
    }
}

/// Creates a primitive descriptor from an operation descriptor, or returns nil when oneDNN has no implementation.
func makePrimitive<Descriptor>(_ operation: inout Descriptor, attributes: Attributes, engine: DNNLEngine) throws -> Primitive? {
    var descriptor: dnnl_primitive_desc_t?
    let status = withUnsafePointer(to: &operation) { pointer in
        dnnl_primitive_desc_create(&descriptor, UnsafeRawPointer(pointer), attributes.handle, engine.handle, nil)
    }
    if status == dnnl_unimplemented { return nil }
    try check(status, "creating a primitive descriptor")
    return try Primitive(descriptor: descriptor!)
}

/// Primitive attributes: user-managed scratchpad plus fused post-operations.
final class Attributes {
    let handle: dnnl_primitive_attr_t

    init() throws {
        var attributes: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&attributes), "creating primitive attributes")
        handle = attributes!
        try check(dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user), "choosing the user scratchpad")
    }

    /// Attributes that end with `activation` fused as eltwise post-ops, after adding what the destination held before
    /// (oneDNN's sum post-op) when `sum` is set.
    convenience init(sum: Bool = false, activation: Activation) throws {
        try self.init(sum: sum, eltwise: activation.eltwiseSteps)
    }

    /// Attributes that multiply the output by `scale` (oneDNN's output scale, common to all outputs).
    convenience init(outputScale scale: Float) throws {
        try self.init()
        var scale = scale
        try check(dnnl_primitive_attr_set_output_scales(handle, 1, 0, &scale), "setting an output scale")
    }

    convenience init(sum: Bool = false, eltwise steps: [EltwiseStep]) throws {
        try self.init()
        var postOps: dnnl_post_ops_t?
        try check(dnnl_post_ops_create(&postOps), "creating post-ops")
        defer { dnnl_post_ops_destroy(postOps) }
        if sum {
            try check(dnnl_post_ops_append_sum(postOps, 1), "fusing a residual sum")
        }
        for step in steps {
            try check(dnnl_post_ops_append_eltwise(postOps, 1, step.algorithm, step.alpha, step.beta), "fusing an activation")
        }
        try check(dnnl_primitive_attr_set_post_ops(handle, postOps), "setting post-ops")
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}

/// A memory object over a buffer that someone else owns (the plan's arena, a weight buffer, or the caller's tensor).
final class Memory {
    let handle: dnnl_memory_t
    let descriptor: MemoryDescriptor

    init(_ descriptor: MemoryDescriptor, engine: DNNLEngine, pointer: UnsafeMutableRawPointer?) throws {
        var raw = descriptor.raw
        var memory: dnnl_memory_t?
        try check(dnnl_memory_create(&memory, &raw, engine.handle, pointer), "creating memory")
        handle = memory!
        self.descriptor = descriptor
    }

    func point(at pointer: UnsafeMutableRawPointer) throws {
        try check(dnnl_memory_set_data_handle(handle, pointer), "pointing memory at a buffer")
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// 64-byte aligned storage that the owner frees.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
    }

    deinit { pointer.deallocate() }
}

/// One oneDNN eltwise operation with its parameters.
struct EltwiseStep {
    let algorithm: dnnl_alg_kind_t
    let alpha: Float
    let beta: Float
}

extension Activation {
    /// The oneDNN eltwise operations whose composition is this activation (none for the identity).
    var eltwiseSteps: [EltwiseStep] {
        // oneDNN's clip takes finite bounds; ±∞ (an open side) becomes the largest float.
        func finite(_ value: Float) -> Float { min(max(value, -.greatestFiniteMagnitude), .greatestFiniteMagnitude) }
        switch self {
        case .identity: return []
        case .relu: return [EltwiseStep(algorithm: dnnl_eltwise_relu, alpha: 0, beta: 0)]
        case .relu6: return [EltwiseStep(algorithm: dnnl_eltwise_clip, alpha: 0, beta: 6)]
        case .clip(let lower, let upper): return [EltwiseStep(algorithm: dnnl_eltwise_clip, alpha: finite(lower), beta: finite(upper))]
        case .leakyRelu(let slope): return [EltwiseStep(algorithm: dnnl_eltwise_relu, alpha: slope, beta: 0)]
        case .sigmoid: return [EltwiseStep(algorithm: dnnl_eltwise_logistic, alpha: 0, beta: 0)]
        case .hardSigmoid(let alpha, let beta):
            return [EltwiseStep(algorithm: dnnl_eltwise_linear, alpha: alpha, beta: beta), EltwiseStep(algorithm: dnnl_eltwise_clip, alpha: 0, beta: 1)]
        case .hardSwish: return [EltwiseStep(algorithm: dnnl_eltwise_hardswish, alpha: 0, beta: 0)]
        case .gelu: return [EltwiseStep(algorithm: dnnl_eltwise_gelu_erf, alpha: 0, beta: 0)]
        case .geluTanh: return [EltwiseStep(algorithm: dnnl_eltwise_gelu_tanh, alpha: 0, beta: 0)]
        case .tanh: return [EltwiseStep(algorithm: dnnl_eltwise_tanh, alpha: 0, beta: 0)]
        }
    }
}
