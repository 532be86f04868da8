// A tensor's view of a storage (offset, sizes and strides in elements), copied out into a contiguous Float tensor.
// Checks, with overflow-safe arithmetic, that every element it reads lies inside the storage; it never traps.
import Engine

struct StridedView: Hashable {
    var offset: Int
    var shape: [Int]
    var strides: [Int]

    /// The row-major view of `shape` from the start of a storage.
    init(contiguous shape: [Int]) {
        self.init(offset: 0, shape: shape, strides: StridedView.rowMajorStrides(of: shape))
    }

    init(offset: Int, shape: [Int], strides: [Int]) {
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    static func rowMajorStrides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() {
            strides[axis] = strides[axis + 1] &* shape[axis + 1]
        }
        return strides
    }

    /// The product of `shape`, or nil if it overflows or a dimension is negative.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Copies the view out of `storage` (which holds `storageCount` elements of `type`) into a row-major tensor.
    /// `name` labels errors. Rejects views that read outside the storage or hold more elements than it does.
    func materialize(from storage: UnsafeRawBufferPointer, storageCount: Int, type: ScalarType,
                     name: String) throws -> Tensor {
        guard shape.count == strides.count, strides.allSatisfy({ $0 >= 0 }), offset >= 0,
              let count = StridedView.elementCount(of: shape) else {
            throw WeightsError.malformedCheckpoint("tensor \(name) has an invalid view: offset \(offset), size \(shape), stride \(strides)")
        }
        // A dimension of size 1 is never stepped along, so its stride (which may be anything) is irrelevant.
        let view = StridedView(offset: offset, shape: shape,
                               strides: zip(shape, strides).map { size, stride in size == 1 ? 0 : stride })
        let needed = try view.elementsNeeded(count: count, name: name)
        let available = min(storageCount, storage.count / type.byteCount)
        guard needed <= available, count <= available else {
            throw WeightsError.storageOutOfBounds(tensor: name, needed: max(needed, count), available: available)
        }
        let scalars = [Float](unsafeUninitializedCapacity: count) { output, initializedCount in
            if view.isRowMajor {
                view.copyContiguous(from: storage, type: type, into: output)
            } else {
                view.gather(from: storage, type: type, into: output)
            }
            initializedCount = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    private var isRowMajor: Bool {
        zip(shape, zip(strides, StridedView.rowMajorStrides(of: shape))).allSatisfy { size, strides in
            size == 1 || strides.0 == strides.1
        }
    }

    /// One past the last storage element the view reads: offset + Σ (size − 1) × stride + 1, or offset if empty.
    private func elementsNeeded(count: Int, name: String) throws -> Int {
        guard count > 0 else { return offset }
        var last = offset
        for (size, stride) in zip(shape, strides) {
            let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, sumOverflow) = last.addingReportingOverflow(step)
            guard !stepOverflow, !sumOverflow else {
                throw WeightsError.storageOutOfBounds(tensor: name, needed: Int.max, available: 0)
            }
            last = sum
        }
        let (needed, overflow) = last.addingReportingOverflow(1)
        guard !overflow else { throw WeightsError.storageOutOfBounds(tensor: name, needed: Int.max, available: 0) }
        return needed
    }

    private func copyContiguous(from storage: UnsafeRawBufferPointer, type: ScalarType,
                                into output: UnsafeMutableBufferPointer<Float>) {
        #if _endian(little)
        if type == .float32 {
            let start = offset * type.byteCount
            UnsafeMutableRawBufferPointer(output).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: storage[start..<start + output.count * type.byteCount]))
            return
        }
        #endif
        for index in output.indices {
            output[index] = type.float(at: offset + index, in: storage)
        }
    }

    /// Walks the output in row-major order, advancing the storage index by the strides (innermost axis fastest).
    private func gather(from storage: UnsafeRawBufferPointer, type: ScalarType,
                        into output: UnsafeMutableBufferPointer<Float>) {
        let innerSize = shape.last ?? 1
        let innerStride = strides.last ?? 1
        let outerShape = Array(shape.dropLast())
        let outerStrides = Array(strides.dropLast())
        var position = [Int](repeating: 0, count: outerShape.count)
        var rowStart = offset
        var written = 0
        while written < output.count {
            var source = rowStart
            for index in written..<written + innerSize {
                output[index] = type.float(at: source, in: storage)
                source += innerStride
            }
            written += innerSize
            // Odometer step over the outer axes.
            var axis = outerShape.count - 1
            while axis >= 0 {
                position[axis] += 1
                rowStart += outerStrides[axis]
                if position[axis] < outerShape[axis] { break }
                rowStart -= outerStrides[axis] * outerShape[axis]
                position[axis] = 0
                axis -= 1
            }
        }
    }
}
