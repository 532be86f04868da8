// The one entry point for loading weights: maps the file and picks the reader from its first bytes
// (zip `PK\x03\x04`, legacy torch pickle, safetensors header), never from its name.
import Foundation

public enum WeightsFormat: String, Sendable, CaseIterable {
    case pyTorchZip, pyTorchLegacy, safeTensors
}

public enum WeightsFile {
    /// Loads every tensor of a PyTorch (zip or legacy) or safetensors file, converted to Float32.
    public static func load(contentsOf url: URL) throws -> StateDict {
        try load(MappedFile(url))
    }

    /// Loads every tensor of a mapped file, giving each stretch of the file back to the system once it has been
    /// copied into its tensor, so that the file and its tensors are never resident together.
    public static func load(_ file: MappedFile) throws -> StateDict {
        try load(file.data, as: format(of: file.data), copied: file.release)
    }

    /// Loads weights already in memory.
    public static func load(_ data: Data) throws -> StateDict {
        try load(data, as: format(of: data))
    }

    /// Reads `data` with the reader of `format`, whatever its first bytes say (fuzzing reaches each reader this way).
    /// `copied` is told of each stretch of `data` once its bytes are in a tensor.
    public static func load(_ data: Data, as format: WeightsFormat,
                            copied: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> StateDict {
        try data.withUnsafeBytes { bytes in
            switch format {
            case .pyTorchZip: try PyTorchZipCheckpoint.load(bytes, copied: copied)
            case .pyTorchLegacy: try PyTorchLegacyCheckpoint.load(bytes, copied: copied)
            case .safeTensors: try SafeTensors.read(bytes, copied: copied)
            }
        }
    }

    /// The format announced by the first bytes, or `WeightsError.unrecognizedFormat`.
    public static func format(of data: Data) throws -> WeightsFormat {
        try data.withUnsafeBytes { try format(of: $0) }
    }

    private static let zipSignature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// What a legacy checkpoint starts with: PROTO 2 and a 10-byte LONG1 (the magic number follows).
    private static let legacyPrefix = Array(PyTorchLegacyCheckpoint.header.prefix(4))

    static func format(of bytes: UnsafeRawBufferPointer) throws -> WeightsFormat {
        if bytes.starts(with: zipSignature) { return .pyTorchZip }
        if bytes.starts(with: legacyPrefix) { return .pyTorchLegacy }
        // safetensors: an 8-byte header length, then the JSON header's opening brace.
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{") { return .safeTensors }
        throw WeightsError.unrecognizedFormat(leadingBytes: Array(bytes.prefix(16)))
    }

}
