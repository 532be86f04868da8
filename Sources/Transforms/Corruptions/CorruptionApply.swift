// `Corruption.apply`: checks the image and the severity, then sends the image to its corruption's code with a
// generator seeded from the seed, the corruption and the severity. No pixel work here.
import Engine
import Imaging

extension Corruption {
    /// The image corrupted at `severity` (1...5), the same size. The same image, severity and seed always give
    /// the same bytes; a deterministic corruption ignores the seed. `frost` says where frost's ice comes from.
    public func apply(to image: RGBImage, severity: Int, seed: UInt64 = 0,
                      frost: FrostTextures = .procedural) throws(CorruptionError) -> RGBImage {
        guard Self.severities.contains(severity) else { throw .badSeverity(severity) }
        guard image.width >= 32, image.height >= 32 else { throw .tooSmall(width: image.width, height: image.height) }
        var random = SplitMix64(seed: seed ^ (UInt64(Self.allCases.firstIndex(of: self) ?? 0) << 8 | UInt64(severity)) &* 0x9E37_79B9_7F4A_7C15)
        _ = random.next()
        switch self {
        default: throw .failed(self, reason: "not built yet")
        }
    }
}

/// Where frost's ice comes from: the reference's six photographs of frost (read from the `imagecorruptions`
/// package's `frost` folder), or textures Blindspot draws itself.
public enum FrostTextures: Sendable, Equatable {
    case procedural
    case photographs([RGBImage], folder: String)

    /// How a results file or card names it.
    public var source: String {
        switch self {
        case .procedural: "procedural (Blindspot's own ice textures, not the reference's photographs)"
        case .photographs(_, let folder): "the reference's photographs in \(folder)"
        }
    }
}
