// How an evaluation feeds a model ImageNet-C's images: cut as ImageNet-C cut its files (shorter side 256, PIL
// bilinear; centre 224: `Corruption.imageNetCrop`), corrupted with a seed from the file's name, then the model's
// normalisation only (or a bilinear resize to its input size first). The Evaluator runs these steps.
import Imaging

public enum ImageNetCProtocol {
    /// The protocol in one sentence, for the card.
    public static let sentence = "Each image is cut as ImageNet-C cut its files (shorter side resized to 256 with PIL's bilinear filter, "
        + "centre 224 × 224 crop), corrupted, and given to the model with only its normalisation; a model whose input is not "
        + "224 × 224 (Inception v3 299, EfficientNet-Lite1 240, Lite2 260) gets the 224 image resized to its input size "
        + "(bilinear) first. The corrupted images are not re-encoded as JPEG (quality 85) as ImageNet-C's files were."

    /// What a model does with a 224 × 224 cut: only its normalisation when its input is 224 × 224, else a bilinear resize
    /// to its (square) input first. A model with a non-square input keeps its own pipeline.
    public static func preprocessing(for model: Preprocessing) -> Preprocessing {
        let (width, height) = (model.outputWidth, model.outputHeight)
        if width == 224 && height == 224 { return model.withoutResizing() }
        guard width == height else { return model }
        return Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: width, crop: width, filter: .bilinear),
                             normalization: model.normalization)
    }
}
