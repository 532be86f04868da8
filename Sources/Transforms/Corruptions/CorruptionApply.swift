// `Corruption.apply`: checks the image and the severity, then sends the image to its corruption's code with the
// reference's parameters for that severity and a generator seeded from the seed, the corruption and the severity.
import Engine
import Imaging

extension Corruption {
    /// The image corrupted at `severity` (1...5), the same size. The same image, severity and seed always give
    /// the same bytes; a deterministic corruption ignores the seed. `frost` says where frost's ice comes from.
    public func apply(to image: RGBImage, severity: Int, seed: UInt64 = 0,
                      frost: FrostTextures = .procedural) throws(CorruptionError) -> RGBImage {
        guard Self.severities.contains(severity) else { throw .badSeverity(severity) }
        guard image.width >= 32, image.height >= 32 else { throw .tooSmall(width: image.width, height: image.height) }
        let number = UInt64(Self.allCases.firstIndex(of: self) ?? 0)
        var mixer = SplitMix64(seed: number << 8 | UInt64(severity))
        var run = CorruptionRun(corruption: self, image: image, random: SplitMix64(seed: seed ^ mixer.next()))
        let level = severity - 1
        switch self {
        case .gaussianNoise: return run.gaussianNoise([0.08, 0.12, 0.18, 0.26, 0.38][level])
        case .shotNoise: return run.shotNoise([60, 25, 12, 5, 3][level])
        case .impulseNoise: return run.impulseNoise([0.03, 0.06, 0.09, 0.17, 0.27][level])
        case .speckleNoise: return run.speckleNoise([0.15, 0.2, 0.35, 0.45, 0.6][level])
        case .defocusBlur:
            let (radius, aliasBlur) = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)][level]
            return run.defocusBlur(radius: radius, aliasBlur: aliasBlur)
        case .glassBlur:
            let (sigma, reach, iterations) = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)][level]
            return run.glassBlur(sigma: sigma, reach: reach, iterations: iterations)
        case .motionBlur:
            let (radius, sigma) = [(10, 3.0), (15, 5), (15, 8), (15, 12), (20, 15)][level]
            return run.motionBlur(radius: radius, sigma: sigma)
        case .zoomBlur:
            let (stop, step) = [(1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03)][level]
            return run.zoomBlur(Self.numpyRange(from: 1, to: stop, by: step))
        case .gaussianBlur: return run.gaussianBlur([1, 2, 3, 4, 6][level])
        case .snow:
            let settings = [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
                            (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)][level]
            return run.snow(.init(mean: settings.0, deviation: settings.1, zoom: settings.2, threshold: settings.3,
                                  blurRadius: settings.4, blurSigma: Double(settings.5), keep: settings.6))
        case .frost:
            let (factor, weight) = [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)][level]
            return try run.frost(factor: factor, weight: weight, textures: frost)
        case .fog:
            let (strength, decay) = [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)][level]
            return run.fog(strength: strength, decay: decay)
        case .spatter:
            let settings = [(0.65, 0.3, 4, 0.69, 0.6, false), (0.65, 0.3, 3, 0.68, 0.6, false), (0.65, 0.3, 2, 0.68, 0.5, false),
                            (0.65, 0.3, 1, 0.65, 1.5, true), (0.67, 0.4, 1, 0.65, 1.5, true)][level]
            return run.spatter(.init(mean: settings.0, deviation: settings.1, sigma: Double(settings.2), threshold: settings.3,
                                     intensity: settings.4, isMud: settings.5))
        case .brightness: return run.brightness([0.1, 0.2, 0.3, 0.4, 0.5][level])
        case .contrast: return run.contrast([0.4, 0.3, 0.2, 0.1, 0.05][level])
        case .saturate:
            let (factor, offset) = [(0.3, 0.0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)][level]
            return run.saturate(factor, offset)
        case .elasticTransform: return run.elasticTransform([250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12][level])
        case .pixelate: return run.pixelate([0.6, 0.5, 0.4, 0.3, 0.25][level])
        case .jpegCompression: return try run.jpeg([25, 18, 15, 10, 7][level])
        }
    }

    /// NumPy's `arange(start, stop, step)`: ⌈(stop − start) / step⌉ values start + i · step (so 1 to 1.11 by
    /// 0.01 gives twelve, up to 1.11, as the reference's zoom blur uses them).
    static func numpyRange(from start: Double, to stop: Double, by step: Double) -> [Double] {
        let count = Int(((stop - start) / step).rounded(.up))
        return (0 ..< max(count, 0)).map { start + Double($0) * step }
    }
}

/// One corruption about to be applied to one image, with its generator.
struct CorruptionRun {
    let corruption: Corruption
    let image: RGBImage
    var random: SplitMix64
}
