// Reading the reference's six frost photographs from a folder (`--frost-textures DIR`, e.g. the `frost` folder of an
// installed `imagecorruptions` wheel), by the names it ships them under. How frost uses them is frost's own file.
import Foundation
import Imaging

extension FrostTextures {
    /// The reference's file names, in its order (severity picks among them).
    public static let referenceFileNames = ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg", "frost6.jpg"]

    /// The six photographs in `folder`; a missing or unreadable one is an error naming it.
    public static func photographs(in folder: URL) throws -> FrostTextures {
        let decoder = ImageDecoder()
        let images = try referenceFileNames.map { name in
            let url = folder.appendingPathComponent(name)
            // Only a regular file is read: a FIFO under that name would block the read.
            let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
            guard type == .typeRegular, let bytes = FileManager.default.contents(atPath: url.path) else { throw MissingFrostPhotograph(path: url.path) }
            return try decoder.decode(bytes)
        }
        return .photographs(images, folder: folder.path)
    }
}

/// A frost photograph the folder lacks (or holds as something other than a readable regular file).
public struct MissingFrostPhotograph: Error, Equatable, CustomStringConvertible {
    public let path: String

    public var description: String {
        "\(path) is missing, unreadable or not a regular file: --frost-textures names a folder with the reference's "
            + FrostTextures.referenceFileNames.joined(separator: ", ")
    }
}
