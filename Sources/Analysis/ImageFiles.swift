// Turns command-line paths into the image files to read: directories are listed (sorted, images only), `-` is
// standard input. The label of a file named like ImageNet's `WNID_name.JPEG` is its WordNet id.
import Foundation

public enum ImageFiles {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "webp", "gif"]

    /// Files in argument order; each directory contributes its image files (by extension) sorted by name.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                files += names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
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
