// From encoded bytes to a model's input: decode (with shrink-on-load where the model's pipeline allows it),
// then crop, resize and normalise. Timed, so callers can report decode and inference latency separately.
import Engine
import Foundation
import Imaging
import Models

/// One image ready for a model: its input tensor [3, H, W] and what it took to make it.
public struct PreparedImage: Sendable {
    public let tensor: Tensor
    public let originalWidth: Int
    public let originalHeight: Int
    /// Decoding plus preprocessing, in milliseconds.
    public let milliseconds: Double
}

extension Preprocessing {
    /// The shorter side the source needs so that this pipeline never upsamples what it keeps; decoding may
    /// shrink larger images toward it.
    public var sourceShorterSide: Int? {
        switch geometry {
        case .resizeShorterSideThenCenterCrop(let resize, _, _): return resize
        case .centerCropFractionThenResize(let numerator, let denominator, let size, _): return size * denominator / numerator
        case .exactSize: return nil
        }
    }

    /// Decodes `bytes` (shrinking on load as far as this pipeline allows) and turns them into its input.
    public func prepare(_ bytes: Data, decoder: ImageDecoder) throws -> PreparedImage {
        let start = ContinuousClock.now
        let image = try decoder.decode(bytes, minimumShorterSide: sourceShorterSide)
        let tensor = try tensor(from: image)
        return PreparedImage(tensor: tensor, originalWidth: image.width, originalHeight: image.height,
                             milliseconds: (ContinuousClock.now - start).milliseconds)
    }
}

extension Classifier {
    /// Decodes `bytes` and turns them into this model's input; `resize: false` requires the exact input size.
    public func prepare(_ bytes: Data, decoder: ImageDecoder, resize: Bool = true) throws -> PreparedImage {
        try (resize ? model.preprocessing : model.preprocessing.withoutResizing()).prepare(bytes, decoder: decoder)
    }

    /// Classifies prepared images as one batch; also returns the inference time of the batch in milliseconds.
    public func classify(_ images: [PreparedImage], top: Int) throws -> (classifications: [Classification], milliseconds: Double) {
        precondition(!images.isEmpty, "nothing to classify")
        var scalars: [Float] = []
        scalars.reserveCapacity(images.count * images[0].tensor.count)
        for image in images { scalars += image.tensor.scalars }
        let batch = Tensor(shape: [images.count] + images[0].tensor.shape, scalars: scalars)
        let start = ContinuousClock.now
        let classifications = try classify(batch, top: top)
        return (classifications, (ContinuousClock.now - start).milliseconds)
    }
}
