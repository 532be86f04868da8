// Everything that can go wrong reading or checking a weights file, each with a message a person can act on.
// Thrown at the file boundary; nothing in this target traps on bad input.
import Foundation

public enum WeightsError: Error, Equatable, Sendable {
    /// The file could not be opened or mapped.
    case unreadableFile(path: String, reason: String)
    /// The first bytes match no supported format.
    case unrecognizedFormat(leadingBytes: [UInt8])
    /// The data ends before `reading` is complete.
    case truncated(reading: String)
    /// A pickle names a global outside the allow-list (`posix.system`, `builtins.eval`, …); nothing was run.
    case forbiddenGlobal(String)
    /// A pickle opcode outside the supported subset.
    case unsupportedOpcode(code: UInt8, offset: Int)
    /// A pickle that is well formed in places but breaks the rules of the opcodes it uses.
    case malformedPickle(String)
    /// A pickle that would exceed a safety bound (stack depth, memo size, string length, rank).
    case pickleLimitExceeded(String)
    /// The unpickled object is not a state_dict (nor a dict holding one under `state_dict` or `model`).
    case notAStateDict(String)
    /// A zip archive whose structure is broken.
    case malformedZip(String)
    /// A zip entry that is compressed; PyTorch stores checkpoint entries uncompressed, and so must these.
    case compressedZipEntry(name: String, method: Int)
    /// A PyTorch checkpoint whose layout is wrong (missing entries, bad magic number, big-endian, storage mix-ups).
    case malformedCheckpoint(String)
    /// A tensor reaching past the end of its storage (counts in elements).
    case storageOutOfBounds(tensor: String, needed: Int, available: Int)
    /// An element type the loader does not convert.
    case unsupportedScalarType(String)
    /// A safetensors file whose header or offsets are invalid.
    case malformedSafeTensors(String)
    /// Validation found missing, unexpected or mis-shaped keys; every problem is listed, sorted by key.
    case keyMismatch([KeyProblem])
    /// The model was imported from an ONNX file, which holds its weights; it reads no checkpoint.
    case notACheckpointModel(String)
}

extension WeightsError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            "cannot read weights file \(path): \(reason)"
        case let .unrecognizedFormat(leadingBytes):
            "not a PyTorch or safetensors file: starts with \(WeightsError.describe(leadingBytes))"
        case let .truncated(reading):
            "the file ends early, while reading \(reading) (truncated download?)"
        case let .forbiddenGlobal(name):
            "the pickle refers to \(name), which a weights file never needs; refusing to load it (nothing was run)"
        case let .unsupportedOpcode(code, offset):
            "the pickle uses opcode 0x\(String(code, radix: 16)) at byte \(offset), outside the subset a state_dict needs"
        case let .malformedPickle(detail):
            "malformed pickle: \(detail)"
        case let .pickleLimitExceeded(detail):
            "the pickle exceeds a safety limit: \(detail)"
        case let .notAStateDict(detail):
            "the checkpoint does not hold a state_dict: \(detail)"
        case let .malformedZip(detail):
            "malformed zip archive: \(detail)"
        case let .compressedZipEntry(name, method):
            "zip entry \(name) is compressed (method \(method)); PyTorch checkpoints store entries uncompressed, re-save it with torch.save"
        case let .malformedCheckpoint(detail):
            "malformed PyTorch checkpoint: \(detail)"
        case let .storageOutOfBounds(tensor, needed, available):
            "tensor \(tensor) needs \(needed) elements of its storage, which holds only \(available)"
        case let .unsupportedScalarType(name):
            "unsupported element type \(name)"
        case let .malformedSafeTensors(detail):
            "malformed safetensors file: \(detail)"
        case let .keyMismatch(problems):
            "the weights do not match the model (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        case let .notACheckpointModel(name):
            "\(name) was imported from an ONNX file, which holds its weights; it reads no checkpoint"
        }
    }

    public var errorDescription: String? { description }

    /// Hex bytes followed by their printable ASCII reading, e.g. `3c 21 44 4f ("<!DO")`.
    private static func describe(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "nothing (the file is empty)" }
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        let text = String(bytes.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
        return "\(hex) (\"\(text)\")"
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
