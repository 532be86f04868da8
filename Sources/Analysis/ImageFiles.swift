// Turns command-line paths into the image files to read: directories are listed (sorted, images only), `-` is
// standard input. The label of a file named like ImageNet's `WNID_name.JPEG` is its WordNet id.
import Foundation

/// A folder that holds no file with an image extension: "no images in photos (looked for .jpg, .jpeg, …)".
public struct NoImagesError: Error, Equatable, CustomStringConvertible {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var description: String {
        "no images in \(directory) (looked for \(ImageFiles.orderedExtensions.map { "." + $0 }.joined(separator: ", ")))"
    }
}

public enum ImageFiles {
    /// The extensions of the accepted formats, in the order messages list them.
    static let orderedExtensions = ["jpg", "jpeg", "png", "webp", "gif"]
    static let extensions = Set(orderedExtensions)

    /// The files `path` names: a directory's image files (by extension) sorted by name, else `path` itself (a file,
    /// or `-`). A directory without any image file is a `NoImagesError`.
    public static func expand(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .map { (path as NSString).appendingPathComponent($0) }
        guard !files.isEmpty else { throw NoImagesError(directory: path) }
        return files
    }

    /// The bytes of `path`, or of standard input for `-`.
    public static func read(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// The WordNet id a file name starts with (`n01440764_tench.JPEG` → `n01440764`), if any.
    public static func wordNetID(of path: String) -> String? {
        let name = (path as NSString).lastPathComponent
        guard let prefix = name.split(separator: "_").first, prefix.count == 9, prefix.first == "n",
              prefix.dropFirst().allSatisfy(\.isNumber) else { return nil }
        return String(prefix)
    }
}
