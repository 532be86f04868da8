// Scaling a whole picture down for people and probes (a probe's working copy), on top of the Pillow-exact
// resampler. Model input pipelines use Preprocessing instead.

extension RGBImage {
    /// This image scaled down, keeping its aspect ratio, so that its shorter side is at most `side` (unchanged if already).
    public func shrunk(toShorterSide side: Int, filter: ResamplingFilter = .bilinear) -> RGBImage {
        let shorter = min(width, height)
        guard shorter > side else { return self }
        let scale = Double(side) / Double(shorter)
        return resized(width: max(1, Int((Double(width) * scale).rounded())), height: max(1, Int((Double(height) * scale).rounded())),
                       filter: filter)
    }
}
