// Moving a file vault's images into another ImageStore (PostgreSQL), for a catalog that moves to a shared database:
// each image checked against the SHA-256 it is named after, read back and checked again; one image per transaction,
// so a run that stops resumes where it was, and a second run copies nothing twice.
import Foundation
import Imaging

public enum ImageMove {
    public struct Summary: Sendable {
        public var copied = 0
        public var alreadyThere = 0
        /// Images whose files do not hold what their name says (a changed or truncated original), with why; not copied.
        public var refused: [(sha256: String, reason: String)] = []
    }

    public static func move(from vault: ImageVault, to target: any ImageStore, decoder: ImageDecoder = ImageDecoder(),
                            progress: @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }) async throws -> Summary {
        let hashes = vault.storedHashes()
        var summary = Summary()
        for (done, sha256) in hashes.enumerated() {
            defer { progress(done + 1, hashes.count) }
            if try await target.contains(sha256: sha256) {
                summary.alreadyThere += 1
                continue
            }
            guard let original = vault.originalFile(sha256: sha256), let display = FileManager.default.contents(atPath: vault.displayFile(sha256: sha256).path) else {
                summary.refused.append((sha256, "its original or its display copy is missing"))
                continue
            }
            guard ImageVault.sha256(of: original) == sha256 else {
                summary.refused.append((sha256, "the original's SHA-256 is \(ImageVault.sha256(of: original)), not the one it is named after"))
                continue
            }
            let stored: StoredImage
            let format: ImageFormat
            do {
                stored = try ImageVault.measure(original, decoder: decoder)
                format = try ImageFormat(sniffing: original)
                guard try ImageFormat(sniffing: display) == .png else { throw ImageError.unsupportedFormat(seen: "a display copy that is no PNG") }
            } catch {
                summary.refused.append((sha256, "it does not read as an image: \(error)"))
                continue
            }
            try await target.write(EncodedImage(stored: stored, original: original, originalExtension: format.fileExtension, display: display))
            guard let copy = try await target.original(sha256: sha256), ImageVault.sha256(of: copy) == sha256 else {
                throw CatalogError.storage(.failed, detail: "image \(sha256) read back from \(target.location) does not have its SHA-256")
            }
            summary.copied += 1
        }
        return summary
    }
}
