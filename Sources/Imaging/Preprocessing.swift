// A model's input pipeline: the crop and resize of its reference (PIL), then per-channel normalisation,
// written as a [3, H, W] tensor or straight into one slot of an [N, 3, H, W] batch. Decoding is not here.
import Engine

public struct Preprocessing: Sendable, Equatable {
    public enum Geometry: Sendable, Equatable {
        /// torchvision's `Resize(resize)` then `CenterCrop(crop)` on a PIL image: the shorter side becomes `resize`
        /// and the other `int(resize × long / short)` (truncated), then the centred `crop × crop` is taken at
        /// `(round((w - crop) / 2), round((h - crop) / 2))`, rounding half to even as Python does.
        case resizeShorterSideThenCenterCrop(resize: Int, crop: Int, filter: ResamplingFilter)
        /// Take the centred square of side `c = int(numerator / denominator × min(w, h))` at
        /// `((w - c + 1) // 2, (h - c + 1) // 2)`, then resize it to `size × size` (EfficientNet-Lite's eval crop,
        /// numerator / denominator = size / (size + 32)). Below 2 pixels on the shorter side the reference's crop is
        /// empty and it fails; here `c` is then 1, so a 1×1 image is one pixel enlarged.
        case centerCropFractionThenResize(numerator: Int, denominator: Int, size: Int, filter: ResamplingFilter)
        /// No resampling: the image must already be `width × height`.
        case exactSize(width: Int, height: Int)
    }

    public var geometry: Geometry
    public var normalization: Normalization

    public init(geometry: Geometry, normalization: Normalization) {
        self.geometry = geometry
        self.normalization = normalization
    }

    public var outputWidth: Int {
        switch geometry {
        case let .resizeShorterSideThenCenterCrop(_, crop, _): crop
        case let .centerCropFractionThenResize(_, _, size, _): size
        case let .exactSize(width, _): width
        }
    }

    public var outputHeight: Int {
        switch geometry {
        case let .resizeShorterSideThenCenterCrop(_, crop, _): crop
        case let .centerCropFractionThenResize(_, _, size, _): size
        case let .exactSize(_, height): height
        }
    }

    /// `[3, outputHeight, outputWidth]`.
    public var tensorShape: [Int] { [3, outputHeight, outputWidth] }

    /// The same normalisation on images that already have the network's input size (`--no-resize`).
    public func withoutResizing() -> Preprocessing {
        Preprocessing(geometry: .exactSize(width: outputWidth, height: outputHeight), normalization: normalization)
    }

    /// The network input as 8-bit pixels: cropped and resized, not yet normalised.
    public func inputImage(from image: RGBImage) throws(ImageError) -> RGBImage {
        switch geometry {
        case let .resizeShorterSideThenCenterCrop(resize, crop, filter):
            precondition(crop <= resize, "crop \(crop) is larger than the resized shorter side \(resize)")
            return image.resizedThenCenterCropped(shorterSide: resize, crop: crop, filter: filter)
        case let .centerCropFractionThenResize(numerator, denominator, size, filter):
            let side = max(1, Int(Double(numerator) / Double(denominator) * Double(min(image.width, image.height))))
            let source = PixelRectangle(x: (image.width - side + 1) / 2, y: (image.height - side + 1) / 2,
                                        width: side, height: side)
            return image.resampled(from: source, width: size, height: size, filter: filter,
                                   keeping: PixelRectangle(x: 0, y: 0, width: size, height: size))
        case let .exactSize(width, height):
            guard image.width == width, image.height == height else {
                throw .sizeMismatch(width: image.width, height: image.height, expectedWidth: width, expectedHeight: height)
            }
            return image
        }
    }

    /// The network input, shape `[3, outputHeight, outputWidth]`.
    public func tensor(from image: RGBImage) throws(ImageError) -> Tensor {
        let input = try inputImage(from: image)
        let count = Tensor.count(of: tensorShape)
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer, from: input)
            initialized = count
        }
        return Tensor(shape: tensorShape, scalars: scalars)
    }

    /// Writes the network input of `image` into `batch[index]` of an `[N, 3, outputHeight, outputWidth]` tensor,
    /// in place (no intermediate float buffer).
    public func write(_ image: RGBImage, into batch: inout Tensor, at index: Int) throws(ImageError) {
        precondition(batch.rank == 4 && Array(batch.shape.dropFirst()) == tensorShape,
                     "batch shape \(batch.shape) does not hold inputs of shape \(tensorShape)")
        precondition((0 ..< batch.shape[0]).contains(index), "index \(index) is outside a batch of \(batch.shape[0])")
        let input = try inputImage(from: image)
        let slotSize = Tensor.count(of: tensorShape)
        batch.scalars.withUnsafeMutableBufferPointer { scalars in
            fill(UnsafeMutableBufferPointer(rebasing: scalars[index * slotSize ..< (index + 1) * slotSize]), from: input)
        }
    }

    /// Planar (channel-first) normalised values of an image of exactly the output size.
    private func fill(_ destination: UnsafeMutableBufferPointer<Float>, from input: RGBImage) {
        let table = normalization.lookupTable()
        let planeSize = input.width * input.height
        input.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                for channel in 0 ..< 3 {
                    let plane = channel * planeSize
                    let tableStart = channel * 256
                    for index in 0 ..< planeSize {
                        destination[plane + index] = table[tableStart + Int(pixels[index * 3 + channel])]
                    }
                }
            }
        }
    }
}

extension RGBImage {
    /// torchvision's `Resize(shorterSide)` then `CenterCrop(crop)` on a PIL image (see
    /// `Preprocessing.Geometry.resizeShorterSideThenCenterCrop`); `crop` is at most `shorterSide`.
    public func resizedThenCenterCropped(shorterSide resize: Int, crop: Int, filter: ResamplingFilter) -> RGBImage {
        let (short, long) = (min(width, height), max(width, height))
        let resizedLong = Int(Double(resize * long) / Double(short))
        let (newWidth, newHeight) = width <= height ? (resize, resizedLong) : (resizedLong, resize)
        func offset(_ side: Int) -> Int { Int((Double(side - crop) / 2).rounded(.toNearestOrEven)) }
        let window = PixelRectangle(x: offset(newWidth), y: offset(newHeight), width: crop, height: crop)
        return resampled(from: bounds, width: newWidth, height: newHeight, filter: filter, keeping: window)
    }
}
