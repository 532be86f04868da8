// A folder of images whose true classes are known: an ImageFolder (one sub-folder per WordNet id or exact class
// name) or flat files named `WNID_*.JPEG`. Labels are read, never guessed: files it cannot label are listed
// with the reason. Sharding picks a deterministic subset, so N machines can split one dataset.
import Foundation
import Models

/// One image and its true class; `file` is relative to the dataset's root.
public struct LabelledImage: Sendable, Equatable, Codable {
    public let file: String
    public let classIndex: Int

    public init(file: String, classIndex: Int) {
        self.file = file
        self.classIndex = classIndex
    }
}

/// A file the dataset could not label, and why.
public struct UnlabelledFile: Sendable, Equatable, Codable {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}

public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case notAFolder(String)
    case empty(String)

    public var description: String {
        switch self {
        case .notAFolder(let path): "\(path) is not a folder"
        case .empty(let path): "\(path) has no labelled images (an ImageFolder of WordNet ids or class names, or files named WNID_*.JPEG)"
        }
    }
}

public struct LabelledDataset: Sendable {
    public let root: URL
    /// Sorted by file.
    public let images: [LabelledImage]
    public let unlabelled: [UnlabelledFile]

    public init(root: URL, images: [LabelledImage], unlabelled: [UnlabelledFile]) {
        self.root = root
        self.images = images.sorted { $0.file < $1.file }
        self.unlabelled = unlabelled
    }

    /// Reads `root`: sub-folders make an ImageFolder (each named by a WordNet id or an exact class name), image
    /// files directly inside are labelled by their `WNID_` prefix.
    public init(scanning root: URL, labels: ImageNetLabels) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.notAFolder(root.path)
        }
        var images: [LabelledImage] = []
        var unlabelled: [UnlabelledFile] = []
        for name in try manager.contentsOfDirectory(atPath: root.path).sorted() where !name.hasPrefix(".") {
            var nested: ObjCBool = false
            manager.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &nested)
            if nested.boolValue {
                let files = try manager.contentsOfDirectory(atPath: root.appendingPathComponent(name).path).sorted()
                    .filter { ImageFiles.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                guard let index = Self.classIndex(folder: name, labels: labels) else {
                    unlabelled += files.map { UnlabelledFile(file: "\(name)/\($0)", reason: "folder '\(name)' is neither a WordNet id nor a class name") }
                    continue
                }
                images += files.map { LabelledImage(file: "\(name)/\($0)", classIndex: index) }
            } else if ImageFiles.extensions.contains((name as NSString).pathExtension.lowercased()) {
                if let index = Self.classIndex(of: name, labels: labels) {
                    images.append(LabelledImage(file: name, classIndex: index))
                } else {
                    unlabelled.append(UnlabelledFile(file: name, reason: "the name does not start with a known WordNet id (WNID_…)"))
                }
            }
        }
        // A folder without any image file says so in the words `classify` uses; one with images it cannot label says why.
        if images.isEmpty && unlabelled.isEmpty { throw NoImagesError(directory: root.relativePath) }
        guard !images.isEmpty else { throw DatasetError.empty(root.relativePath) }
        self.init(root: root, images: images, unlabelled: unlabelled)
    }

    /// The class of `file` (relative to the root) as a scan labels it: "FOLDER/NAME" by its folder (a WordNet id or
    /// a class name), "NAME" by its `WNID_` prefix; nil when neither gives a class.
    public static func classIndex(of file: String, labels: ImageNetLabels) -> Int? {
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return ImageFiles.wordNetID(of: file).flatMap(labels.index(ofWordNetID:))
        case 2: return classIndex(folder: String(parts[0]), labels: labels)
        default: return nil
        }
    }

    /// A WordNet id ("n01440764") or an exact class name ("tench", "tench_fish" with underscores for spaces).
    static func classIndex(folder: String, labels: ImageNetLabels) -> Int? {
        if let index = labels.index(ofWordNetID: folder) { return index }
        return labels.index(ofName: folder) ?? labels.index(ofName: folder.replacingOccurrences(of: "_", with: " "))
    }

    /// The first `count` images.
    public func limited(to count: Int) -> LabelledDataset {
        LabelledDataset(root: root, images: Array(images.prefix(count)), unlabelled: unlabelled)
    }

    /// Shard `index` of `count` (0-based): every image whose position in the sorted list is `index` modulo `count`.
    /// The shards are disjoint and together hold every image.
    public func shard(_ index: Int, of count: Int) -> LabelledDataset {
        precondition(count >= 1 && (0..<count).contains(index), "shard \(index) of \(count)")
        return LabelledDataset(root: root, images: images.enumerated().filter { $0.offset % count == index }.map(\.element),
                               unlabelled: index == 0 ? unlabelled : [])
    }

    public func url(of image: LabelledImage) -> URL {
        root.appendingPathComponent(image.file)
    }
}
