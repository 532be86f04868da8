// Plain-loop implementations of every primitive on batched NCHW tensors: the specification, written for clarity.
// They follow PyTorch's definitions exactly; fast backends are tested against them.
import Foundation

public enum ReferenceKernels {
    public static func convolution(_ input: Tensor, _ convolution: Convolution) -> Tensor {
        let (batch, channels, height, width) = dimensions(input)
        precondition(channels == convolution.inputChannels, "convolution expects \(convolution.inputChannels) channels, got \(channels)")
        let output = convolution.outputSize(input: Size2D(height, width))
        let outputChannels = convolution.outputChannels
        let groupInputs = channels / convolution.groups
        let groupOutputs = outputChannels / convolution.groups
        let kernel = convolution.kernel
        let (stride, dilation, padding) = (convolution.stride, convolution.dilation, convolution.padding)
        var result = [Float](repeating: 0, count: batch * outputChannels * output.height * output.width)
        let weights = convolution.weight.scalars
        let source = input.scalars
        let outputPlane = output.height * output.width
        let inputPlane = height * width
        for image in 0..<batch {
            for outputChannel in 0..<outputChannels {
                let group = outputChannel / groupOutputs
                let outputBase = (image * outputChannels + outputChannel) * outputPlane
                let bias = convolution.bias?.scalars[outputChannel] ?? 0
                for index in 0..<outputPlane { result[outputBase + index] = bias }
                for localInput in 0..<groupInputs {
                    let inputChannel = group * groupInputs + localInput
                    let inputBase = (image * channels + inputChannel) * inputPlane
                    for kernelRow in 0..<kernel.height {
                        for kernelColumn in 0..<kernel.width {
                            let weight = weights[((outputChannel * groupInputs + localInput) * kernel.height + kernelRow) * kernel.width + kernelColumn]
                            for outputRow in 0..<output.height {
                                let inputRow = outputRow * stride.height - padding.top + kernelRow * dilation.height
                                if inputRow < 0 || inputRow >= height { continue }
                                for outputColumn in 0..<output.width {
                                    let inputColumn = outputColumn * stride.width - padding.left + kernelColumn * dilation.width
                                    if inputColumn < 0 || inputColumn >= width { continue }
                                    result[outputBase + outputRow * output.width + outputColumn] +=
                                        weight * source[inputBase + inputRow * width + inputColumn]
                                }
                            }
                        }
                    }
                }
                for index in 0..<outputPlane {
                    result[outputBase + index] = convolution.activation.apply(result[outputBase + index])
                }
            }
        }
        return Tensor(shape: [batch, outputChannels, output.height, output.width], scalars: result)
    }

    public static func maxPool(_ input: Tensor, _ pooling: Pooling) -> Tensor {
        pool(input, pooling) { window, _ in window.max() ?? -.infinity }
    }

    public static func averagePool(_ input: Tensor, _ pooling: Pooling) -> Tensor {
        pool(input, pooling) { window, paddedCount in
            let divisor = pooling.countIncludesPadding ? paddedCount : window.count
            return window.reduce(0, +) / Float(divisor)
        }
    }

    /// Visits every pooling window; `reduce` gets the in-bounds values and the window's size clipped to the
    /// padded input (PyTorch's divisor when padding counts).
    private static func pool(_ input: Tensor, _ pooling: Pooling, reduce: ([Float], Int) -> Float) -> Tensor {
        let (batch, channels, height, width) = dimensions(input)
        let output = pooling.outputSize(input: Size2D(height, width))
        var result = [Float](repeating: 0, count: batch * channels * output.height * output.width)
        var window: [Float] = []
        window.reserveCapacity(pooling.kernel.height * pooling.kernel.width)
        for plane in 0..<(batch * channels) {
            let inputBase = plane * height * width
            for outputRow in 0..<output.height {
                let rowStart = outputRow * pooling.stride.height - pooling.padding.top
                let rowEnd = min(rowStart + pooling.kernel.height, height + pooling.padding.bottom)
                for outputColumn in 0..<output.width {
                    let columnStart = outputColumn * pooling.stride.width - pooling.padding.left
                    let columnEnd = min(columnStart + pooling.kernel.width, width + pooling.padding.right)
                    let paddedCount = (rowEnd - rowStart) * (columnEnd - columnStart)
                    window.removeAll(keepingCapacity: true)
                    for row in max(rowStart, 0)..<min(rowEnd, height) {
                        for column in max(columnStart, 0)..<min(columnEnd, width) {
                            window.append(input.scalars[inputBase + row * width + column])
                        }
                    }
                    result[(plane * output.height + outputRow) * output.width + outputColumn] = reduce(window, paddedCount)
                }
            }
        }
        return Tensor(shape: [batch, channels, output.height, output.width], scalars: result)
    }

    public static func globalAveragePool(_ input: Tensor) -> Tensor {
        let (batch, channels, height, width) = dimensions(input)
        let plane = height * width
        var result = [Float](repeating: 0, count: batch * channels)
        for index in 0..<(batch * channels) {
            var sum: Float = 0
            for position in 0..<plane { sum += input.scalars[index * plane + position] }
            result[index] = sum / Float(plane)
        }
        return Tensor(shape: [batch, channels, 1, 1], scalars: result)
    }

    public static func concat(_ inputs: [Tensor]) -> Tensor {
        let batch = inputs[0].shape[0]
        let plane = inputs[0].shape.dropFirst(2).reduce(1, *)
        let channels = inputs.reduce(0) { $0 + $1.shape[1] }
        var result: [Float] = []
        result.reserveCapacity(batch * channels * plane)
        for image in 0..<batch {
            for input in inputs {
                let size = input.shape[1] * plane
                result.append(contentsOf: input.scalars[(image * size)..<((image + 1) * size)])
            }
        }
        return Tensor(shape: [batch, channels] + Array(inputs[0].shape.dropFirst(2)), scalars: result)
    }

    public static func add(_ left: Tensor, _ right: Tensor, activation: Activation) -> Tensor {
        precondition(left.shape == right.shape, "add inputs differ: \(left.shape) vs \(right.shape)")
        return binary(.add, left, right, activation: activation)
    }

    /// `left op right` with `right` broadcast along its dimensions of size 1 (including the batch).
    public static func binary(_ operator: BinaryOperator, _ left: Tensor, _ right: Tensor, activation: Activation) -> Tensor {
        precondition(left.rank == right.rank && zip(left.shape, right.shape).allSatisfy { $0 == $1 || $1 == 1 },
                     "\(right.shape) does not broadcast onto \(left.shape)")
        // Each left index maps to the right index whose broadcast dimensions are 0.
        var rightStrides = [Int](repeating: 0, count: right.rank)
        var step = 1
        for axis in (0..<right.rank).reversed() {
            rightStrides[axis] = right.shape[axis] == 1 ? 0 : step
            step *= right.shape[axis]
        }
        var result = [Float](repeating: 0, count: left.count)
        var index = [Int](repeating: 0, count: left.rank)
        for position in 0..<left.count {
            var rightPosition = 0
            for axis in 0..<left.rank { rightPosition += index[axis] * rightStrides[axis] }
            result[position] = activation.apply(`operator`.apply(left.scalars[position], right.scalars[rightPosition]))
            var axis = left.rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < left.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: left.shape, scalars: result)
    }

    public static func activation(_ input: Tensor, _ activation: Activation) -> Tensor {
        Tensor(shape: input.shape, scalars: input.scalars.map(activation.apply))
    }

    /// Constant padding of the last two dimensions of an NCHW tensor.
    public static func pad(_ input: Tensor, _ padding: Padding2D, value: Float) -> Tensor {
        let (batch, channels, height, width) = dimensions(input)
        let (paddedHeight, paddedWidth) = (height + padding.top + padding.bottom, width + padding.left + padding.right)
        var result = [Float](repeating: value, count: batch * channels * paddedHeight * paddedWidth)
        for plane in 0..<(batch * channels) {
            for row in 0..<height {
                for column in 0..<width {
                    result[(plane * paddedHeight + row + padding.top) * paddedWidth + column + padding.left] =
                        input.scalars[(plane * height + row) * width + column]
                }
            }
        }
        return Tensor(shape: [batch, channels, paddedHeight, paddedWidth], scalars: result)
    }

    /// [N, C] or [N, C, 1, 1] → [N, outputFeatures].
    public static func linear(_ input: Tensor, _ linear: Linear) -> Tensor {
        let batch = input.shape[0]
        let (outputs, features) = (linear.weight.shape[0], linear.weight.shape[1])
        precondition(input.count == batch * features, "linear expects \(features) features per image, got \(input.shape)")
        var result = [Float](repeating: 0, count: batch * outputs)
        for image in 0..<batch {
            for output in 0..<outputs {
                var sum = linear.bias?.scalars[output] ?? 0
                for feature in 0..<features {
                    sum += linear.weight.scalars[output * features + feature] * input.scalars[image * features + feature]
                }
                result[image * outputs + output] = linear.activation.apply(sum)
            }
        }
        return Tensor(shape: [batch, outputs], scalars: result)
    }

    /// Softmax over the last axis of [N, C], computed stably (the maximum is subtracted first).
    public static func softmax(_ input: Tensor) -> Tensor {
        let classes = input.shape[input.rank - 1]
        var result = input.scalars
        for row in 0..<(input.count / classes) {
            let range = (row * classes)..<((row + 1) * classes)
            let largest = result[range].max() ?? 0
            var sum: Float = 0
            for index in range {
                result[index] = exp(result[index] - largest)
                sum += result[index]
            }
            for index in range { result[index] /= sum }
        }
        return Tensor(shape: input.shape, scalars: result)
    }

    /// Normalisation over the channels at each position of an NCHW tensor, in Double: the mean, then the mean square
    /// of the deviations (the biased variance, as PyTorch's LayerNorm takes it).
    public static func layerNormalization(_ input: Tensor, _ normalization: LayerNormalization) -> Tensor {
        let (batch, channels, height, width) = dimensions(input)
        let plane = height * width
        var result = input.scalars
        for image in 0..<batch {
            for position in 0..<plane {
                let base = image * channels * plane + position
                var mean = 0.0
                for channel in 0..<channels { mean += Double(input.scalars[base + channel * plane]) }
                mean /= Double(channels)
                var variance = 0.0
                for channel in 0..<channels {
                    let deviation = Double(input.scalars[base + channel * plane]) - mean
                    variance += deviation * deviation
                }
                variance /= Double(channels)
                let scale = 1 / (variance + Double(normalization.epsilon)).squareRoot()
                for channel in 0..<channels {
                    let normalized = (Double(input.scalars[base + channel * plane]) - mean) * scale
                    result[base + channel * plane] = Float(normalized * Double(normalization.weight.scalars[channel]) + Double(normalization.bias.scalars[channel]))
                }
            }
        }
        return Tensor(shape: input.shape, scalars: result)
    }

    /// Multi-head self-attention on [N, 3C, T, 1], in Double: per image and head, scores Q Kᵀ / √d, a softmax over
    /// each query's row, and the values weighted by it.
    public static func attention(_ input: Tensor, _ attention: Attention) -> Tensor {
        let (batch, triple, tokens, width) = dimensions(input)
        precondition(width == 1 && triple % (3 * attention.heads) == 0, "attention needs [N, 3C, T, 1], got \(input.shape)")
        let channels = triple / 3
        let size = channels / attention.heads
        let scale = 1 / Double(size).squareRoot()
        var result = [Float](repeating: 0, count: batch * channels * tokens)
        // Element (image, channel, token) of the input.
        func at(_ image: Int, _ channel: Int, _ token: Int) -> Double { Double(input.scalars[(image * triple + channel) * tokens + token]) }
        var scores = [Double](repeating: 0, count: tokens)
        for image in 0..<batch {
            for head in 0..<attention.heads {
                let (query, key, value) = (head * size, channels + head * size, 2 * channels + head * size)
                for row in 0..<tokens {
                    for column in 0..<tokens {
                        var dot = 0.0
                        for index in 0..<size { dot += at(image, query + index, row) * at(image, key + index, column) }
                        scores[column] = dot * scale
                    }
                    let largest = scores.max() ?? 0
                    let weights = scores.map { exp($0 - largest) }
                    let total = weights.reduce(0, +)
                    for index in 0..<size {
                        var sum = 0.0
                        for column in 0..<tokens { sum += weights[column] * at(image, value + index, column) }
                        result[(image * channels + head * size + index) * tokens + row] = Float(sum / total)
                    }
                }
            }
        }
        return Tensor(shape: [batch, channels, tokens, 1], scalars: result)
    }

    private static func dimensions(_ tensor: Tensor) -> (Int, Int, Int, Int) {
        precondition(tensor.rank == 4, "expected an NCHW tensor, got \(tensor.shape)")
        return (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
    }
}
