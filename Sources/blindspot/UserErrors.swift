// Errors in the user's words: the one line `blindspot` prints for any error (Foundation's and the system's become
// "FILE: no such file"), and the up-front checks of the files a command reads or writes. Not ArgumentParser's errors.
import Foundation

/// A file a command cannot use, and why: "photos: is a directory, not an image file", or, for a file to write,
/// "cannot write out/x.png: the folder out does not exist".
struct FileProblem: Error, CustomStringConvertible {
    let path: String
    let problem: String
    let description: String

    init(path: String, problem: String) {
        self.init(path: path, problem: problem, sentence: "\(path.isEmpty ? "''" : path): \(problem)")
    }

    /// The problem an operating-system error number names.
    init(path: String, errorNumber: Int32) {
        self.init(path: path, problem: Self.words(errorNumber: errorNumber))
    }

    private init(path: String, problem: String, sentence: String) {
        self.path = path
        self.problem = problem
        self.description = sentence
    }

    /// A file that cannot be written, said before any work starts.
    static func cannotWrite(_ path: String, _ problem: String) -> FileProblem {
        FileProblem(path: path, problem: problem, sentence: "cannot write \(path): \(problem)")
    }

    /// A folder given where a command takes one image: "photos is a folder; probe takes one image file".
    static func folderGiven(_ path: String, command: String) -> FileProblem {
        FileProblem(path: path, problem: "is a folder", sentence: "\(path) is a folder; \(command) takes one image file")
    }

    static func words(errorNumber: Int32) -> String {
        switch errorNumber {
        case ENOENT: "no such file or directory"
        case EACCES, EPERM: "permission denied"
        case EISDIR: "is a directory, not a file"
        case ENOTDIR: "a part of the path is not a directory"
        case ENOSPC: "no space left on the device"
        case EDQUOT: "disk quota exceeded"
        case EROFS: "the file system is read-only"
        case EEXIST: "already exists"
        case ENAMETOOLONG: "the name is too long"
        case ELOOP: "too many symbolic links"
        case EIO: "input/output error"
        default: String(cString: strerror(errorNumber)).lowercased()
        }
    }
}

enum FileCheck {
    /// Throws unless `path` is a regular file this process may read: a directory, a FIFO (whose reading would wait
    /// for a writer), a socket or a device is refused before anything opens it. `expected` names what the file
    /// should be, for the message.
    static func readable(_ path: String, expected: String = "a file") throws(FileProblem) {
        let kind = try existingKind(of: path, missing: "no such file")
        if kind != "regular file" { throw FileProblem(path: path, problem: "is a \(kind), not \(expected)") }
        guard access(path, R_OK) == 0 else { throw FileProblem(path: path, errorNumber: errno) }
    }

    /// Throws unless `path` is a directory this process may list.
    static func listableDirectory(_ path: String) throws(FileProblem) {
        let kind = try existingKind(of: path, missing: "no such directory")
        if kind != "directory" { throw FileProblem(path: path, problem: "is a \(kind), not a directory") }
        guard access(path, R_OK | X_OK) == 0 else { throw FileProblem(path: path, errorNumber: errno) }
    }

    /// Throws unless `path` is an image file this process may read; a folder is named as such, since `command`
    /// (probe, explain) takes one image where `classify` would take a folder.
    static func oneImage(_ path: String, command: String) throws(FileProblem) {
        if (try? existingKind(of: path, missing: "")) == "directory" { throw .folderGiven(path, command: command) }
        try readable(path, expected: "an image file")
    }

    /// Throws unless a file (or, with `directory`, a folder) can be written at `path`, checked before any work
    /// starts: what is there must be a regular file (a directory would fail the write, a FIFO wait for a reader)
    /// this process may write, and a missing file's folder must exist and take files. A folder to write is created
    /// with its parents, so its nearest existing ancestor must be a folder this process may write into.
    static func writable(_ path: String, directory: Bool = false) throws(FileProblem) {
        guard !path.isEmpty else { throw FileProblem(path: path, problem: "no file name given") }
        let wanted = directory ? "directory" : "regular file"
        if let kind = try? existingKind(of: path, missing: "") {
            if kind != wanted { throw FileProblem(path: path, problem: "is a \(kind), not a \(directory ? "directory" : "file") to write") }
            guard access(path, directory ? W_OK | X_OK : W_OK) == 0 else { throw .cannotWrite(path, FileProblem.words(errorNumber: errno)) }
            return
        }
        var folder = folder(of: path)
        while true {
            let shown = folder.isEmpty ? "." : folder
            switch try? existingKind(of: shown, missing: "") {
            case "directory"?:
                guard access(shown, W_OK | X_OK) == 0 else { throw .cannotWrite(path, "the folder \(shown) is not writable (\(FileProblem.words(errorNumber: errno)))") }
                return
            case let kind? where kind != "directory":
                throw .cannotWrite(path, "\(shown) is a \(kind), not a folder")
            default:
                guard directory, !folder.isEmpty, folder != "/" else { throw .cannotWrite(path, "the folder \(shown) does not exist") }
                folder = self.folder(of: folder)
            }
        }
    }

    /// The folder part of `path`: what comes before its last "/" (trailing ones aside), "/" at the root, "" for a
    /// bare name. (Not NSString's deletingLastPathComponent, which traps on some short paths such as "r".)
    private static func folder(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// What is at `path`, in words ("regular file", "directory", "FIFO (named pipe)", …), following symbolic links;
    /// `missing` is the problem when nothing is there.
    private static func existingKind(of path: String, missing: String) throws(FileProblem) -> String {
        guard !path.isEmpty else { throw FileProblem(path: path, problem: "no file name given") }
        var status = stat()
        guard stat(path, &status) == 0 else {
            let error = errno
            throw error == ENOENT ? FileProblem(path: path, problem: missing) : FileProblem(path: path, errorNumber: error)
        }
        return switch status.st_mode & S_IFMT {
        case S_IFREG: "regular file"
        case S_IFDIR: "directory"
        case S_IFIFO: "FIFO (named pipe)"
        case S_IFSOCK: "socket"
        default: "device"
        }
    }
}

/// A command that cannot do its work for a reason of its own (no model present, nothing to read), said plainly.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

enum UserErrors {
    /// One line saying what went wrong, without the "error: " prefix: for Foundation's and the system's errors the
    /// file and the problem in plain words, for the project's errors their own description.
    static func message(for error: any Error) -> String {
        if let problem = fileProblem(error) { return problem.description }
        if let cocoa = error as? CocoaError { return problem(cocoa) }
        if let posix = error as? POSIXError { return FileProblem.words(errorNumber: posix.code.rawValue) }
        if let decoding = error as? DecodingError { return message(for: decoding) }
        let bridged = error as NSError
        if bridged.domain == NSPOSIXErrorDomain { return FileProblem.words(errorNumber: Int32(truncatingIfNeeded: bridged.code)) }
        let description = String(describing: error)
        // Another Foundation error ("Error Domain=… Code=… UserInfo={…}"): its sentence instead.
        return description.hasPrefix("Error Domain=") ? bridged.localizedDescription : description
    }

    /// `message(for:)`, about `file`: the file is named once, by the error if it names one.
    static func message(for error: any Error, about file: String) -> String {
        if let problem = fileProblem(error) { return problem.description }
        return "\(file): \(message(for: error))"
    }

    /// The error as a file and its problem, when it names a file.
    private static func fileProblem(_ error: any Error) -> FileProblem? {
        if let problem = error as? FileProblem { return problem }
        guard let cocoa = error as? CocoaError else { return nil }
        // The URL keeps the path as typed (relative to the working directory); NSFilePath has it made absolute.
        guard let path = (cocoa.userInfo[NSURLErrorKey] as? URL)?.relativePath ?? cocoa.userInfo[NSFilePathErrorKey] as? String else { return nil }
        return FileProblem(path: path, problem: problem(cocoa))
    }

    /// What went wrong with the file of a Foundation error, from the system's error number where there is one.
    private static func problem(_ error: CocoaError) -> String {
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return error.code == .fileReadNoSuchFile ? "no such file" : FileProblem.words(errorNumber: Int32(truncatingIfNeeded: underlying.code))
        }
        return switch error.code {
        case .fileReadNoSuchFile: "no such file"
        case .fileNoSuchFile: "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
        case .fileReadInvalidFileName, .fileWriteInvalidFileName: "not a valid file name"
        case .fileReadTooLarge: "too large to read"
        case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding: "is not UTF-8 text"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileWriteVolumeReadOnly: "the file system is read-only"
        case .fileWriteFileExists: "already exists"
        case .fileReadCorruptFile: "is not in the expected format"
        case .fileReadUnknown: "could not be read"
        case .fileWriteUnknown: "could not be written"
        default: error.localizedDescription
        }
    }

    /// What a JSON decoder found wrong, at which key: "'dataset' is not a String".
    private static func message(for error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String { path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context): return "the key '\(place(context.codingPath + [key]))' is missing"
        case let .typeMismatch(type, context): return "'\(place(context.codingPath))' is not a \(type)"
        case let .valueNotFound(type, context): return "'\(place(context.codingPath))' is null where a \(type) belongs"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "'\(place(context.codingPath))': \(context.debugDescription)"
        @unknown default: return "the JSON is not what was expected"
        }
    }
}
