// What the pages are drawn from: the models the server knows and the limits it enforces.
// Plain values; the routes fill them in, the page functions only read them.

/// One model as `GET /api/v1/models` describes it.
struct ModelSummary: Codable, Sendable, Equatable {
    let name: String
    let inputSize: Int
    /// Weights are present and the model is loaded (or loading).
    let available: Bool
    let isDefault: Bool
    /// Where the weights come from: a file name in the cache, a path, or "not present".
    let source: String

    enum CodingKeys: String, CodingKey {
        case name, inputSize, available, source
        case isDefault = "default"
    }
}

extension [ModelSummary] {
    /// The model that answers when none is named: the server's default if it is available, otherwise the first
    /// available one; nil when none is.
    var answeringByDefault: ModelSummary? {
        first { $0.isDefault && $0.available } ?? first(where: \.available)
    }
}

/// Limits the page tells the user about before they hit them.
struct UploadLimits: Sendable, Equatable {
    /// Largest request body accepted, in bytes.
    let maximumBodyBytes: Int
    /// Largest image accepted, in megapixels.
    let maximumMegapixels: Double

    /// The longest side the page sends: a bigger photo is scaled down in the browser first (the models see at most
    /// 300 px a side, so nothing they use is lost, and the upload stays small).
    static let sentLongestSide = 4096
}
