// Scaling a whole picture down for people and probes (a probe's working copy), on top of the Pillow-exact
// resampler. Model input pipelines use Preprocessing instead.

extension RGBImage {
    /// This image scaled down, keeping its aspect ratio, so that its shorter side is at most `side` (unchanged if already).
    public func shrunk(toShorterSide side: Int, filter: ResamplingFilter = .bilinear) -> RGBImage {
        scaledDown(by: Double(side) / Double(min(width, height)), filter: filter)
    }

    /// This image scaled down, keeping its aspect ratio, so that its longer side is at most `side` (unchanged if already):
    /// thumbnails and display copies.
    public func shrunk(toLongerSide side: Int, filter: ResamplingFilter = .bicubic) -> RGBImage {
        scaledDown(by: Double(side) / Double(max(width, height)), filter: filter)
    }

    private func scaledDown(by scale: Double, filter: ResamplingFilter) -> RGBImage {
        guard scale < 1 else { return self }
        return resized(width: max(1, Int((Double(width) * scale).rounded())), height: max(1, Int((Double(height) * scale).rounded())),
                       filter: filter)
    }
}
