// How applying a transformation can fail: the family does not fit the image, or libvips refused.
// A level that is not one of the family's is a programmer error (a precondition), not a case here.

public enum TransformError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The family does not apply to this image (background: the border is not near-uniform), with the reason.
    case notApplicable(family: TransformFamily, reason: String)
    /// libvips failed, with its message.
    case failed(family: TransformFamily, reason: String)

    public var description: String {
        switch self {
        case let .notApplicable(family, reason):
            "\(family.title) does not apply to this image: \(reason)"
        case let .failed(family, reason):
            "\(family.title) failed: \(reason)"
        }
    }
}
