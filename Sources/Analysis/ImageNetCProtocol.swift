// How an evaluation feeds a model ImageNet-C's images: cut as ImageNet-C cut its files (shorter side 256, PIL
// bilinear; centre 224), corrupted with a seed from the file's name, then the model's normalisation only (or a bilinear
// resize to its input size first). The Evaluator runs these steps; the pixel work is Transforms' and Imaging's.
import Imaging

public enum ImageNetCProtocol {
    /// torchvision's `Resize(256)` then `CenterCrop(224)` on a PIL image, which made ImageNet-C's files.
    static let cutting = Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: 256, crop: 224, filter: .bilinear),
                                   normalization: .standardize(mean: .zero, standardDeviation: .one))

    /// The protocol in one sentence, for the card.
    public static let sentence = "Each image is cut as ImageNet-C cut its files (shorter side resized to 256 with PIL's bilinear filter, "
        + "centre 224 × 224 crop), corrupted, and given to the model with only its normalisation; a model whose input is not "
        + "224 × 224 (Inception v3 299, EfficientNet-Lite1 240, Lite2 260) gets the 224 image resized to its input size "
        + "(bilinear) first. The corrupted images are not re-encoded as JPEG (quality 85) as ImageNet-C's files were."

    /// ImageNet-C's 224 × 224 cut of `image`.
    public static func cut(_ image: RGBImage) throws -> RGBImage {
        try cutting.inputImage(from: image)
    }

    /// What a model does with a 224 × 224 cut: only its normalisation when its input is 224 × 224, else a bilinear resize
    /// to its (square) input first. A model with a non-square input keeps its own pipeline.
    public static func preprocessing(for model: Preprocessing) -> Preprocessing {
        let (width, height) = (model.outputWidth, model.outputHeight)
        if width == 224 && height == 224 { return model.withoutResizing() }
        guard width == height else { return model }
        return Preprocessing(geometry: .resizeShorterSideThenCenterCrop(resize: width, crop: width, filter: .bilinear),
                             normalization: model.normalization)
    }

    /// The seed of a file's corruptions: FNV-1a (64 bits) of its path relative to the dataset folder, in UTF-8.
    public static func seed(of file: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in file.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
