// Pillow's Image.resize for BOX, BILINEAR and BICUBIC on 8-bit RGB, reproduced bit for bit (Pillow 13's Resample.c):
// two separable passes in Pillow's order, filter support widened by the downscale factor, 22-bit fixed-point
// weights, and rounding to 8 bits between the passes. Not libvips; NEAREST is `resizedNearest`.

public enum ResamplingFilter: String, Sendable, Equatable {
    /// The mean of the input pixels each output pixel covers (what ImageNet-C's pixelate shrinks with).
    case box
    case bilinear
    case bicubic

    /// Half-width of the kernel at scale 1.
    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear: 1
        case .bicubic: 2
        }
    }

    /// The kernel value at `x` (bicubic is Keys' cubic with a = -0.5), in Pillow's order of operations.
    func weight(at x: Double) -> Double {
        let distance = abs(x)
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            return distance < 1 ? 1 - distance : 0
        case .bicubic:
            let a = -0.5
            if distance < 1 {
                return ((a + 2) * distance - (a + 3)) * distance * distance + 1
            }
            if distance < 2 {
                return (((distance - 5) * distance + 8) * distance - 4) * a
            }
            return 0
        }
    }
}

/// One axis of a resize, for the output positions `positions` only: where each reads and with which weights.
struct ResamplingAxis {
    static let precisionBits = 32 - 8 - 2

    let positions: Range<Int>
    /// For the `i`-th position: inputs `first[i] ..< first[i] + count[i]`, weights at `weights[i * stride ...]`.
    let first: [Int]
    let count: [Int]
    let weights: [Int32]
    let stride: Int

    init(inputSize: Int, outputSize: Int, filter: ResamplingFilter, positions: Range<Int>) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let inverseFilterScale = 1 / filterScale
        stride = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](), count = [Int]()
        var weights = [Int32](repeating: 0, count: positions.count * stride)
        for (index, output) in positions.enumerated() {
            let center = (Double(output) + 0.5) * scale
            // Pillow truncates `x + 0.5` toward zero to round; a negative start is then clamped to 0.
            let start = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), inputSize)
            let taps = (start ..< end).map { filter.weight(at: (Double($0) - center + 0.5) * inverseFilterScale) }
            let total = taps.reduce(0, +)
            for (tap, weight) in taps.enumerated() {
                let normalized = total == 0 ? weight : weight / total
                let fixed = normalized * Double(1 << Self.precisionBits)
                weights[index * stride + tap] = Int32(normalized < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            first.append(start)
            count.append(end - start)
        }
        self.positions = positions
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// A fixed-point sum back to 8 bits: Pillow adds half a unit first, shifts, and clips to 0...255.
    /// Sums are 32-bit as in Pillow; they fit, as positive bicubic weights total about 1.13 at most.
    @inline(__always)
    static func clip(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> precisionBits)
    }

    static let rounding: Int32 = 1 << (precisionBits - 1)

    /// Runs `body` with the first input, tap count and weights of every computed position (indexed from 0),
    /// without copies or bounds checks in the inner loops.
    func withUnsafeTaps<Result>(
        _ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Int32>) -> Result
    ) -> Result {
        first.withUnsafeBufferPointer { first in
            count.withUnsafeBufferPointer { count in
                weights.withUnsafeBufferPointer { weights in
                    body(first.baseAddress!, count.baseAddress!, weights.baseAddress!)
                }
            }
        }
    }

    /// The input positions read by all computed positions (bounds only grow with the position).
    var inputsRead: Range<Int> {
        first[0] ..< first[positions.count - 1] + count[positions.count - 1]
    }
}

extension RGBImage {
    /// Pillow's `image.resize((width, height), Image.NEAREST)`: output column x copies input column
    /// ⌊x₀ + x · scale⌋ with x₀ = scale / 2, the position accumulated by repeated addition as Pillow's
    /// ImagingScaleAffine does (the last bits decide which column a boundary falls in); rows likewise.
    public func resizedNearest(width: Int, height: Int) -> RGBImage {
        func sources(_ inputSize: Int, _ outputSize: Int) -> [Int] {
            let scale = Double(inputSize) / Double(outputSize)
            var position = scale / 2
            return (0 ..< outputSize).map { _ in
                defer { position += scale }
                return min(Int(position), inputSize - 1)
            }
        }
        let columns = sources(self.width, width), rows = sources(self.height, height)
        var result = [UInt8](repeating: 0, count: width * height * 3)
        for (row, sourceRow) in rows.enumerated() {
            for (column, sourceColumn) in columns.enumerated() {
                let from = (sourceRow * self.width + sourceColumn) * 3, to = (row * width + column) * 3
                result[to] = pixels[from]
                result[to + 1] = pixels[from + 1]
                result[to + 2] = pixels[from + 2]
            }
        }
        return RGBImage(width: width, height: height, pixels: result)
    }

    /// Pillow's `image.resize((width, height), filter)`. Equal sizes give the same pixels back.
    public func resized(width: Int, height: Int, filter: ResamplingFilter) -> RGBImage {
        resampled(from: bounds, width: width, height: height, filter: filter,
                  keeping: PixelRectangle(x: 0, y: 0, width: width, height: height))
    }

    /// Pillow's `image.crop(source).resize((width, height), filter).crop(window)`, computing only the
    /// output pixels inside `window` (which is exact: each output pixel depends on its own position alone).
    ///
    /// As in Pillow 13, the vertical pass runs first when the height shrinks by more than twice as many
    /// pixels as the width; the order matters because the intermediate image is rounded to 8 bits. A pass
    /// along an axis whose size does not change is the identity with Pillow's weights, so it is not special-cased.
    func resampled(
        from source: PixelRectangle, width: Int, height: Int, filter: ResamplingFilter, keeping window: PixelRectangle
    ) -> RGBImage {
        precondition(bounds.contains(source), "source \(source) is outside a \(self.width)×\(self.height) image")
        precondition(PixelRectangle(x: 0, y: 0, width: width, height: height).contains(window),
                     "window \(window) is outside the \(width)×\(height) result")
        let horizontal = ResamplingAxis(inputSize: source.width, outputSize: width, filter: filter,
                                        positions: window.x ..< window.x + window.width)
        let vertical = ResamplingAxis(inputSize: source.height, outputSize: height, filter: filter,
                                      positions: window.y ..< window.y + window.height)
        let heightReduction = source.height - height, widthReduction = source.width - width
        let pixels = if heightReduction > 0 && heightReduction > widthReduction * 2 {
            pixels.withUnsafeBufferPointer { input in
                let read = horizontal.inputsRead
                let intermediate = Self.verticalPass(
                    input, width: self.width, columns: source.x + read.lowerBound ..< source.x + read.upperBound,
                    rowOffset: source.y, axis: vertical)
                return intermediate.withUnsafeBufferPointer {
                    Self.horizontalPass($0, width: read.count, rows: 0 ..< window.height,
                                        columnOffset: -read.lowerBound, axis: horizontal)
                }
            }
        } else {
            pixels.withUnsafeBufferPointer { input in
                let read = vertical.inputsRead
                let intermediate = Self.horizontalPass(
                    input, width: self.width, rows: source.y + read.lowerBound ..< source.y + read.upperBound,
                    columnOffset: source.x, axis: horizontal)
                return intermediate.withUnsafeBufferPointer {
                    Self.verticalPass($0, width: window.width, columns: 0 ..< window.width,
                                      rowOffset: -read.lowerBound, axis: vertical)
                }
            }
        }
        return RGBImage(width: window.width, height: window.height, pixels: pixels)
    }

    /// Resamples `rows` of an interleaved RGB buffer `width` pixels wide along x, giving one column per
    /// position of `axis`; the input column `c` of the axis is found at `columnOffset + c`.
    private static func horizontalPass(
        _ input: UnsafeBufferPointer<UInt8>, width: Int, rows: Range<Int>, columnOffset: Int, axis: ResamplingAxis
    ) -> [UInt8] {
        let rowLength = axis.positions.count * 3
        return [UInt8](unsafeUninitializedCapacity: rows.count * rowLength) { output, initialized in
            axis.withUnsafeTaps { first, count, weights in
                for (outputRow, row) in rows.enumerated() {
                    for column in 0 ..< axis.positions.count {
                        let taps = weights + column * axis.stride
                        var pixel = (row * width + columnOffset + first[column]) * 3
                        var red = ResamplingAxis.rounding, green = red, blue = red
                        for tap in 0 ..< count[column] {
                            let weight = taps[tap]
                            red &+= Int32(input[pixel]) &* weight
                            green &+= Int32(input[pixel + 1]) &* weight
                            blue &+= Int32(input[pixel + 2]) &* weight
                            pixel += 3
                        }
                        let target = outputRow * rowLength + column * 3
                        output[target] = ResamplingAxis.clip(red)
                        output[target + 1] = ResamplingAxis.clip(green)
                        output[target + 2] = ResamplingAxis.clip(blue)
                    }
                }
            }
            initialized = rows.count * rowLength
        }
    }

    /// Resamples `columns` of an interleaved RGB buffer `width` pixels wide along y, giving one row per
    /// position of `axis`; the input row `r` of the axis is found at `rowOffset + r`.
    private static func verticalPass(
        _ input: UnsafeBufferPointer<UInt8>, width: Int, columns: Range<Int>, rowOffset: Int, axis: ResamplingAxis
    ) -> [UInt8] {
        let rowLength = columns.count * 3
        let inputRowLength = width * 3
        var sums = [Int32](repeating: 0, count: rowLength)
        let outputRows = axis.positions.count
        return [UInt8](unsafeUninitializedCapacity: outputRows * rowLength) { output, initialized in
            axis.withUnsafeTaps { first, count, weights in
                sums.withUnsafeMutableBufferPointer { sums in
                    for outputRow in 0 ..< outputRows {
                        // Row by row rather than pixel by pixel, so the inner loop runs over contiguous bytes.
                        sums.update(repeating: ResamplingAxis.rounding)
                        let taps = weights + outputRow * axis.stride
                        // Pointers and wrapping arithmetic only, so that the compiler vectorises both loops.
                        let total = sums.baseAddress!
                        for tap in 0 ..< count[outputRow] {
                            let weight = taps[tap]
                            let source = input.baseAddress! + (rowOffset + first[outputRow] + tap) * inputRowLength + columns.lowerBound * 3
                            var byte = 0
                            while byte < rowLength {
                                total[byte] &+= Int32(source[byte]) &* weight
                                byte &+= 1
                            }
                        }
                        let destination = output.baseAddress! + outputRow * rowLength
                        var byte = 0
                        while byte < rowLength {
                            destination[byte] = ResamplingAxis.clip(total[byte])
                            byte &+= 1
                        }
                    }
                }
            }
            initialized = outputRows * rowLength
        }
    }
}
