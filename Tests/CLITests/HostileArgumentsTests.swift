// Every subcommand of `blindspot` given hostile arguments (empty, negative, zero, huge, NaN, infinite, unknown names,
// a folder, a FIFO or a missing file where a file belongs): each ends by exiting, never by a signal, with status 2 for
// a usage error or 1 for a failure, and one plain message. No case loads a model or starts a server.
import Foundation
import TestSupport
import Testing

/// One command line and how it must end: its exit status and a piece of its standard error.
struct HostileCase: Sendable, CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let message: String

    /// Refused by the parser or by a command's `validate()`: status 2.
    static func usage(_ arguments: [String], _ message: String) -> HostileCase {
        HostileCase(arguments: arguments, status: 2, message: message)
    }

    /// Accepted as typed, then failing on a file or a name: status 1.
    static func failure(_ arguments: [String], _ message: String) -> HostileCase {
        HostileCase(arguments: arguments, status: 1, message: message)
    }

    var description: String { (["blindspot"] + arguments.map { $0.isEmpty ? "''" : $0 }).joined(separator: " ") }
}

/// The working directory of every case: a FIFO, an empty folder, a folder named like a results file, a folder whose
/// examples.json is a FIFO, a file that is neither an image nor JSON nor a zip; `missing…` names are never created. BLINDSPOT_HOME, BLINDSPOT_DATA and
/// BLINDSPOT_SHARED point inside it, so no case finds a model to load or touches the user's catalog.
struct HostileFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("blindspot-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("folder"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("folder.json"), withIntermediateDirectories: true)
        try Data("not an image, not JSON, not a zip\n".utf8).write(to: url.appendingPathComponent("garbage.jpg"))
        try FileManager.default.createDirectory(at: url.appendingPathComponent("fifo-examples"), withIntermediateDirectories: true)
        for fifo in ["fifo", "fifo-examples/examples.json"] {
            try #require(mkfifo(url.appendingPathComponent(fifo).path, 0o644) == 0, "mkfifo \(fifo): \(String(cString: strerror(errno)))")
        }
    }

    var environment: [String: String] {
        ["BLINDSPOT_HOME": url.appendingPathComponent("home").path, "BLINDSPOT_DATA": url.appendingPathComponent("data").path,
         "BLINDSPOT_SHARED": url.appendingPathComponent("no-shared").path]
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

@Suite struct HostileArgumentsTests {
    /// What no message may hold: Foundation's raw errors, a trap's report, ArgumentParser's internals.
    static let forbidden = ["NSCocoaErrorDomain", "Error Domain=", "Fatal error", "Backtrace", "Program crashed", "CommandError(", "UserInfo="]

    /// Runs `cases` (a few at a time, each in the hostile folder, killed after 30 s) and checks how each ended.
    static func check(_ cases: [HostileCase]) async throws {
        let folder = try HostileFolder()
        defer { folder.remove() }
        for start in stride(from: 0, to: cases.count, by: 4) {
            let batch = Array(cases[start..<min(start + 4, cases.count)])
            let results = try await withThrowingTaskGroup(of: (Int, CommandResult).self) { group in
                for (index, hostile) in batch.enumerated() {
                    group.addTask {
                        (index, try await BlindspotBinary.run(hostile.arguments, environment: folder.environment, directory: folder.url, timeout: 30))
                    }
                }
                return try await group.reduce(into: [Int: CommandResult]()) { $0[$1.0] = $1.1 }
            }
            for (index, hostile) in batch.enumerated() {
                let result = try #require(results[index])
                expect(result, of: hostile)
            }
        }
    }

    static func expect(_ result: CommandResult, of hostile: HostileCase) {
        let context = Comment(rawValue: "\(hostile)\nstatus \(result.status)\nstandard error:\n\(result.errors)")
        #expect(!result.timedOut, "still running after 30 s: \(context)")
        #expect(result.exited, "ended by signal \(result.status): \(context)")
        #expect(result.status == hostile.status, context)
        #expect(!result.errors.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, context)
        #expect(result.errors.contains(hostile.message), "expected '\(hostile.message)': \(context)")
        for text in forbidden { #expect(!result.errors.contains(text), "'\(text)' in: \(context)") }
    }

    /// `--threads` where `command` takes it.
    static func threadCases(_ command: [String]) -> [HostileCase] {
        [.usage(command + ["--threads", "0"], "--threads must be 1…1024, not 0"),
         .usage(command + ["--threads=-1"], "--threads must be 1…1024, not -1"),
         .usage(command + ["--threads", "3000000000"], "--threads must be 1…1024, not 3000000000"),
         .usage(command + ["--threads", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--threads <threads>'"),
         .usage(command + ["--threads", ""], "The value '' is invalid for '--threads <threads>'")]
    }

    /// `--model` where `command` takes one model.
    static func modelCases(_ command: [String]) -> [HostileCase] {
        [.usage(command + ["--model", "alexnet"], "--model: unknown model 'alexnet'; known models: inception_v3, efficientnet_lite0"),
         .usage(command + ["--model", ""], "--model: unknown model ''")]
    }

    @Test func everySubcommandHasHostileCases() async throws {
        let root = try await BlindspotBinary.run(["--help"])
        #expect(root.status == 0)
        var commands = Self.subcommands(inHelp: root.output).map { [$0] } + [["bench-child"]]  // bench-child is hidden from help
        for command in commands {
            let help = try await BlindspotBinary.run(command + ["--help"])
            #expect(help.status == 0, "\(command) --help: \(help.errors)")
            commands += Self.subcommands(inHelp: help.output).map { command + [$0] }
        }
        #expect(commands.count >= 22, "\(commands)")
        let covered = Self.classifyCases + Self.probeCases + Self.explainCases + Self.evalCases + Self.reportCases + Self.serveCases
            + Self.catalogCases + Self.modelsCases + Self.benchCases + Self.loadCases + Self.discoverCases + Self.corruptCases + Self.rootCases
        for command in commands {
            #expect(covered.contains { Array($0.arguments.prefix(command.count)) == command }, "no hostile case runs `blindspot \(command.joined(separator: " "))`")
        }
    }

    /// The names of the SUBCOMMANDS section of a help screen ("run (default)" gives "run").
    static func subcommands(inHelp help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line in
            line.firstMatch(of: /^  ([a-z][a-z0-9-]*)(?: \(default\))?(?:\s{2,}|$)/).map { String($0.1) }
        }
    }

    @Test func exactMessages() async throws {
        let folder = try HostileFolder()
        defer { folder.remove() }
        func errors(_ arguments: [String]) async throws -> String {
            try await BlindspotBinary.run(arguments, environment: folder.environment, directory: folder.url, timeout: 30).errors
        }
        #expect(try await errors(["models", "add", "NAME", "missing.onnx"]) == "error: missing.onnx: no such file\n")
        #expect(try await errors(["probe", "folder"]) == "error: folder is a folder; probe takes one image file\n")
        #expect(try await errors(["classify", "fifo"]) == "error: fifo: is a FIFO (named pipe), not an image file\n")
        #expect(try await errors(["models", "synthesize", "efficientnet_lite0", "--out", "missing-folder/x.safetensors"])
            == "error: cannot write missing-folder/x.safetensors: the folder missing-folder does not exist\n", "checked before the work")
        #expect(try await errors(["eval", "merge", "garbage.jpg", "--out", "merged.json"])
            == "error: garbage.jpg: is not the JSON of `blindspot eval`: not valid JSON\n")
        #expect(try await errors(["serve", "--port", "0", "--rate-limit", "nan"])
            == "Error: --rate-limit (0: no limit) must be 0.001…1000000, not nan\nUsage: blindspot serve <options>\n  See 'blindspot serve --help' for more information.\n")
        #expect(try await errors(["eval", "folder", "--model", "efficientnet_lite0", "--model", "efficientnet_lite0"])
            .hasPrefix("Error: --model names efficientnet_lite0 twice\nUsage: blindspot eval run "))
    }

    static let rootCases: [HostileCase] = [
        .usage(["nope"], "unknown command 'nope'; the commands are 'classify', 'probe'"),
        .usage([""], "unknown command ''; the commands are"),
        .usage(["classfy", "x"], "unknown command 'classfy'; did you mean 'classify'?"),
        .usage(["--threads", "0"], "Unknown option '--threads'"),
    ]

    static let classifyCases: [HostileCase] = [
        .usage(["classify", "x.jpg", "--top", "0"], "--top must be 1…1000, not 0"),
        .usage(["classify", "x.jpg", "--top", "1001"], "--top must be 1…1000, not 1001"),
        .usage(["classify", "x.jpg", "--batch", "0"], "--batch must be 1…256, not 0"),
        .usage(["classify", "x.jpg", "--batch=-8"], "--batch must be 1…256, not -8"),
        .usage(["classify", "x.jpg", "--batch", "3000000000"], "--batch must be 1…256, not 3000000000"),
        .usage(["classify", "x.jpg", "--batch", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--batch <batch>'"),
        .usage(["classify", "x.jpg", "--top", "nan"], "The value 'nan' is invalid for '--top <top>'"),
        .usage(["classify", "x.jpg", "--weights", "w.pth"], "--weights needs --model"),
        .usage(["classify", "x.jpg", "--logits"], "--logits needs --json"),
        .usage(["classify"], "Missing expected argument '<files> ...'"),
        .failure(["classify", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["classify", ""], "error: '': no file name given"),
        .failure(["classify", "folder"], "error: no images in folder (looked for .jpg, .jpeg, .png, .webp, .gif)"),
        .failure(["classify", "fifo"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["classify", "fifo", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["classify", "garbage.jpg"], "error: no model weights in"),
        .failure(["classify", "garbage.jpg", "--model", "efficientnet_lite0", "--weights", "missing.pth"], "error: missing.pth: no such file"),
        .failure(["classify", "garbage.jpg", "--model", "efficientnet_lite0", "--weights", "folder"], "error: folder: is a directory, not a weights file"),
        .failure(["classify", "garbage.jpg", "--model", "efficientnet_lite0", "--weights", "fifo"], "error: fifo: is a FIFO (named pipe), not a weights file"),
    ] + threadCases(["classify", "x.jpg"]) + modelCases(["classify", "x.jpg"])

    static let probeCases: [HostileCase] = [
        .usage(["probe", "x.jpg", "--families", ""], "name at least one family"),
        .usage(["probe", "x.jpg", "--families", "rotate,sideways"], "unknown family 'sideways'"),
        .usage(["probe", "x.jpg", "--families", "imagenet-c:sideways"], "unknown family 'imagenet-c:sideways'"),
        .usage(["probe", "x.jpg", "--families", "imagenet-c"], "or the groups imagenet-c:all, imagenet-c:common, imagenet-c:held-out"),
        .usage(["probe", "x.jpg", "--frost-textures", "folder"], "--frost-textures serves ImageNet-C's frost; add imagenet-c:frost"),
        .failure(["probe", "garbage.jpg", "--families", "imagenet-c:frost", "--frost-textures", "missing"], "error: missing: no such directory"),
        .usage(["probe", "x.jpg", "--expected", "nope"], "--expected: 'nope' is not one of the 1000 ImageNet classes"),
        .usage(["probe", "x.jpg", "--expected", "1000"], "--expected: '1000' is not one of the 1000 ImageNet classes"),
        .usage(["probe", "x.jpg", "--expected=-1"], "--expected: '-1' is not one of the 1000 ImageNet classes"),
        .usage(["probe", "x.jpg", "--expected", "husky"], "Did you mean 'Eskimo dog' (also called husky) or 'Siberian husky'?"),
        .usage(["probe", "x.jpg", "--seed=-1"], "The value '-1' is invalid for '--seed <seed>'"),
        .usage(["probe", "x.jpg", "--seed", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--seed <seed>'"),
        .usage(["probe", "x.jpg", "--compare", "--model", "efficientnet_lite0"], "--compare uses every present model"),
        .failure(["probe", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["probe", ""], "error: '': no file name given"),
        .failure(["probe", "folder"], "error: folder is a folder; probe takes one image file"),
        .failure(["probe", "garbage.jpg", "--html", "missing-folder/p.html"], "error: cannot write missing-folder/p.html: the folder missing-folder does not exist"),
        .failure(["probe", "fifo"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["probe", "garbage.jpg", "--html", "folder"], "error: folder: is a directory, not a file to write"),
        .failure(["probe", "garbage.jpg", "--html", "fifo"], "error: fifo: is a FIFO (named pipe), not a file to write"),
    ] + threadCases(["probe", "x.jpg"]) + modelCases(["probe", "x.jpg"])

    static let explainCases: [HostileCase] = [
        .usage(["explain", "x.jpg", "--out", "y.png", "--patch", "0"], "--patch must be 1…4096, not 0"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--patch", "99999"], "--patch must be 1…4096, not 99999"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--stride=-3"], "--stride must be 1…4096, not -3"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--stride", "3000000000"], "--stride must be 1…4096, not 3000000000"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--method", "superpixels", "--segments", "0"], "--segments must be 1…10000, not 0"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--method", "superpixels", "--segments", "3000000000"], "--segments must be 1…10000, not 3000000000"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--segments", "5"], "--segments needs --method superpixels"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--method", "superpixels", "--patch", "5"], "--patch and --stride are for --method patches"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--method", "sideways"], "The value 'sideways' is invalid for '--method <method>'"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--class", "nope"], "--class: 'nope' is not one of the 1000 ImageNet classes"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--class", ""], "--class: '' is not one of the 1000 ImageNet classes"),
        .usage(["explain", "x.jpg", "--out", "y.png", "--class", "99999999999999999999"], "is not one of the 1000 ImageNet classes"),
        .usage(["explain", "x.jpg"], "Missing expected argument '--out <out>'"),
        .failure(["explain", "missing.jpg", "--out", "y.png"], "error: missing.jpg: no such file"),
        .failure(["explain", "folder", "--out", "y.png"], "error: folder is a folder; explain takes one image file"),
        .failure(["explain", "garbage.jpg", "--out", "missing-folder/y.png"], "error: cannot write missing-folder/y.png: the folder missing-folder does not exist"),
        .failure(["explain", "fifo", "--out", "y.png"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["explain", "garbage.jpg", "--out", "folder"], "error: folder: is a directory, not a file to write"),
        .failure(["explain", "garbage.jpg", "--out", "fifo"], "error: fifo: is a FIFO (named pipe), not a file to write"),
        .failure(["explain", "garbage.jpg", "--out", ""], "error: '': no file name given"),
    ] + threadCases(["explain", "x.jpg", "--out", "y.png"]) + modelCases(["explain", "x.jpg", "--out", "y.png"])

    static let evalCases: [HostileCase] = [
        .usage(["eval", "folder", "--limit", "0"], "--limit must be 1…1000000000, not 0"),
        .usage(["eval", "folder", "--limit=-5"], "--limit must be 1…1000000000, not -5"),
        .usage(["eval", "folder", "--limit", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--limit <limit>'"),
        .usage(["eval", "folder", "--batch", "0"], "--batch must be 1…256, not 0"),
        .usage(["eval", "folder", "--batch", "3000000000"], "--batch must be 1…256, not 3000000000"),
        .usage(["eval", "folder", "--shard", "3/3"], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--shard", "0/0"], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--shard=-1/3"], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--shard", "99999999999999999999/3"], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--shard", ""], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--shard", "1/2/3"], "--shard is K/N with 0 ≤ K < N"),
        .usage(["eval", "folder", "--transform", "blur:nan"], "'blur:nan' is not a transformation"),
        .usage(["eval", "folder", "--transform", "blur:inf"], "'blur:inf' is not a transformation"),
        .usage(["eval", "folder", "--transform", "sideways:2"], "'sideways:2' is not a transformation"),
        .usage(["eval", "folder", "--transform", ""], "'' is not a transformation"),
        .usage(["eval", "folder", "--transform", "blur:2", "--transform", "blur:2"], "--transform gives blur:2 twice"),
        .usage(["eval", "folder", "--transform", "blur:all", "--transform", "blur:2"], "--transform gives blur:2 twice"),
        .usage(["eval", "folder", "--model", "efficientnet_lite0", "--model", "efficientnet_lite0"], "--model names efficientnet_lite0 twice"),
        .usage(["eval", "folder", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .usage(["eval", "folder", "--out", "results.txt"], "--out must end in .json, .html, .md or .csv"),
        .usage(["eval", "folder", "--out", ""], "--out must end in .json, .html, .md or .csv"),
        .usage(["eval", "folder", "--resume"], "--resume needs --out"),
        .usage(["eval", "run", "folder", "--batch", "nan"], "The value 'nan' is invalid for '--batch <batch>'"),
        .usage(["eval", "folder", "--transform", "imagenet-c:fog:nan"], "'imagenet-c:fog:nan' is not a transformation"),
        .usage(["eval", "folder", "--transform", "imagenet-c:fog:99999999999999999999"], "ImageNet-C's severities are 1 to 5"),
        .usage(["eval", "folder", "--transform", "imagenet-c:"], "'imagenet-c:' is not a transformation"),
        .usage(["eval", "folder", "--subset", ""], "--subset is one of imagenet-a, imagenet-r"),
        .usage(["eval", "folder", "--robustness-card", "--reference-model", ""], "--reference-model: unknown model ''"),
        .usage(["eval", "folder", "--frost-textures", "folder"], "--frost-textures serves ImageNet-C's frost"),
        .failure(["eval", "folder", "--robustness-card", "--frost-textures", "missing"], "error: missing: no such directory"),
        .failure(["eval", "folder", "--robustness-card", "--frost-textures", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory"),
        .failure(["eval", "folder", "--robustness-card", "--frost-textures", "fifo-examples"], "error: fifo-examples/frost1.png: no such file"),
        .failure(["eval", "missing"], "error: missing: no such directory"),
        .failure(["eval", "folder"], "error: no images in folder (looked for .jpg, .jpeg, .png, .webp, .gif)"),
        .failure(["eval", "folder", "--out", "missing-folder/e.json"], "error: cannot write missing-folder/e.json: the folder missing-folder does not exist"),
        .failure(["eval", "merge", "garbage.jpg", "--out", "missing-folder/m.json"], "error: cannot write missing-folder/m.json: the folder missing-folder does not exist"),
        .failure(["eval", ""], "error: '': no file name given"),
        .failure(["eval", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory"),
        .failure(["eval", "run", "garbage.jpg"], "error: garbage.jpg: is a regular file, not a directory"),
        .failure(["eval", "folder", "--out", "folder.json"], "error: folder.json: is a directory, not a file to write"),
        .usage(["eval", "merge", "--out", "merged.json"], "Missing expected argument '<files> ...'"),
        .usage(["eval", "merge", "a.json", "--out", "merged.txt"], "--out must end in .json, .html, .md or .csv"),
        .failure(["eval", "merge", "missing.json", "--out", "merged.json"], "error: missing.json: no such file"),
        .failure(["eval", "merge", "", "--out", "merged.json"], "error: '': no file name given"),
        .failure(["eval", "merge", "garbage.jpg", "--out", "merged.json"], "error: garbage.jpg: is not the JSON of `blindspot eval`: not valid JSON"),
        .failure(["eval", "merge", "fifo", "--out", "merged.json"], "error: fifo: is a FIFO (named pipe), not a results file"),
        .failure(["eval", "merge", "folder", "--out", "merged.json"], "error: folder: is a directory, not a results file"),
        .failure(["eval", "merge", "garbage.jpg", "--out", "folder.json"], "error: folder.json: is a directory, not a file to write"),
    ] + threadCases(["eval", "folder"])

    static let discoverCases: [HostileCase] = [
        .usage(["discover", "folder", "--min-size", "0"], "--min-size must be 1…1000000, not 0"),
        .usage(["discover", "folder", "--max-slices", "0"], "--max-slices must be 1…1000, not 0"),
        .usage(["discover", "folder", "--holdout", "1"], "--holdout must be 0.05…0.95, not 1"),
        .usage(["discover", "folder", "--holdout", "nan"], "--holdout must be 0.05…0.95, not nan"),
        .usage(["discover", "folder", "--batch", "0"], "--batch must be 1…256, not 0"),
        .usage(["discover", "folder", "--seed", "-1"], "Missing value for '--seed <seed>'"),
        .usage(["discover", "folder", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .usage(["discover", "folder", "--out", "d.txt"], "--out must end in .json, .html or .md"),
        .usage(["discover", "folder", "--resume"], "--resume needs --out"),
        .usage(["discover"], "Missing expected argument '<directory>'"),
        .failure(["discover", "missing"], "error: missing: no such directory"),
        .failure(["discover", "folder"], "error: no images in folder (looked for .jpg, .jpeg, .png, .webp, .gif)"),
        .failure(["discover", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory"),
        .failure(["discover", "folder", "--out", "missing-folder/d.json"], "error: cannot write missing-folder/d.json: the folder missing-folder does not exist"),
        .failure(["discover", "folder", "--out", "folder.json"], "error: folder.json: is a directory, not a file to write"),
    ] + threadCases(["discover", "folder"])

    static let reportCases: [HostileCase] = [
        .usage(["report", "--out", "r", "--probe-families", ""], "name at least one family"),
        .usage(["report", "--out", "r", "--probe-families", "rotate,sideways"], "unknown family 'sideways'"),
        .usage(["report", "--out", "r", "--eval", "r.json", "--model", "efficientnet_lite0"], "add --catalog"),
        .usage(["report", "--out", "r", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .usage(["report", "--out", "r", "--model", "efficientnet_lite0", "--model", "efficientnet_lite0"], "--model names efficientnet_lite0 twice"),
        .usage(["report", "--out", "r", "--data", ""], "--data needs a directory"),
        .usage(["report", "--out", "r", "--database", "mysql://localhost/x"], "--database takes a postgres:// URL"),
        .usage(["report"], "Missing expected argument '--out <out>'"),
        .failure(["report", "--out", "r", "--eval", "missing.json"], "error: missing.json: no such file"),
        .failure(["report", "--out", "r", "--eval", "garbage.jpg"], "error: garbage.jpg: is not the JSON of `blindspot eval`"),
        .failure(["report", "--out", "r", "--eval", "fifo"], "error: fifo: is a FIFO (named pipe), not a results file"),
        .failure(["report", "--out", "r", "--eval", "folder"], "error: folder: is a directory, not a results file"),
        .failure(["report", "--out", "garbage.jpg", "--eval", "missing.json"], "error: garbage.jpg: is a regular file, not a directory to write"),
        .failure(["report", "--out", "garbage.jpg/r", "--eval", "missing.json"], "error: cannot write garbage.jpg/r: garbage.jpg is a regular file, not a folder"),
        .failure(["report", "--out", "r"], "error: the catalog has no approved blind spots; nothing to report"),
        .failure(["report", "--out", "fifo", "--eval", "missing.json"], "error: fifo: is a FIFO (named pipe), not a directory to write"),
        .failure(["report", "--out", "", "--eval", "missing.json"], "error: '': no file name given"),
        .usage(["report", "--out", "r", "--discover", "r.json", "--probe-families", "rotate"], "add --catalog"),
        .failure(["report", "--out", "r", "--discover", "missing.json"], "error: missing.json: no such file"),
        .failure(["report", "--out", "r", "--discover", "garbage.jpg"], "error: garbage.jpg: is not the JSON of `blindspot discover`: not valid JSON"),
        .failure(["report", "--out", "r", "--discover", "fifo"], "error: fifo: is a FIFO (named pipe), not a results file"),
        .failure(["report", "--out", "r", "--discover", "folder"], "error: folder: is a directory, not a results file"),
    ] + threadCases(["report", "--out", "r"])

    /// Every case is refused before the server listens; `--port 0` keeps a server that wrongly starts off real ports
    /// until the timeout kills it (and fails the case).
    static let serveCases: [HostileCase] = ([
        .usage(["--port", "70000"], "--port must be 0…65535, not 70000"),
        .usage(["--port=-1"], "--port must be 0…65535, not -1"),
        .usage(["--port", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--port <port>'"),
        .usage(["--host", ""], "--host must be an address or a host name, not ''"),
        .usage(["--max-batch", "0"], "--max-batch must be 1…256, not 0"),
        .usage(["--max-batch", "3000000000"], "--max-batch must be 1…256, not 3000000000"),
        .usage(["--batch-window-ms", "nan"], "--batch-window-ms must be 0…10000, not nan"),
        .usage(["--batch-window-ms", "1e300"], "--batch-window-ms must be 0…10000, not 1e+300"),
        .usage(["--batch-window-ms", "inf"], "--batch-window-ms must be 0…10000, not inf"),
        .usage(["--batch-window-ms=-1"], "--batch-window-ms must be 0…10000, not -1"),
        .usage(["--queue", "0"], "--queue must be 1…100000, not 0"),
        .usage(["--queue", "3000000000"], "--queue must be 1…100000, not 3000000000"),
        .usage(["--max-body-mb", "0"], "--max-body-mb must be 1…4096, not 0"),
        .usage(["--max-body-mb", "9000000000000"], "--max-body-mb must be 1…4096, not 9000000000000"),
        .usage(["--max-megapixels", "nan"], "--max-megapixels must be 0.001…10000, not nan"),
        .usage(["--max-megapixels", "inf"], "--max-megapixels must be 0.001…10000, not inf"),
        .usage(["--max-megapixels", "0"], "--max-megapixels must be 0.001…10000, not 0"),
        .usage(["--max-side", "0"], "--max-side must be 1…100000, not 0"),
        .usage(["--max-side", "3000000000"], "--max-side must be 1…100000, not 3000000000"),
        .usage(["--decode-timeout", "nan"], "--decode-timeout must be 0.001…3600, not nan"),
        .usage(["--decode-timeout", "inf"], "--decode-timeout must be 0.001…3600, not inf"),
        .usage(["--decode-timeout", "0"], "--decode-timeout must be 0.001…3600, not 0"),
        .usage(["--max-form-fields", "0"], "--max-form-fields must be 1…10000, not 0"),
        .usage(["--max-form-fields", "3000000000"], "--max-form-fields must be 1…10000, not 3000000000"),
        .usage(["--max-field-kb", "0"], "--max-field-kb must be 1…4194304, not 0"),
        .usage(["--max-field-kb", "9000000000000000"], "--max-field-kb must be 1…4194304, not 9000000000000000"),
        .usage(["--max-field-kb", "9e15"], "The value '9e15' is invalid for '--max-field-kb <max-field-kb>'"),
        .usage(["--max-json-depth", "0"], "--max-json-depth must be 1…256, not 0"),
        .usage(["--max-json-depth", "3000000000"], "--max-json-depth must be 1…256, not 3000000000"),
        .usage(["--rate-limit", "nan"], "--rate-limit (0: no limit) must be 0.001…1000000, not nan"),
        .usage(["--rate-limit", "1e-20"], "--rate-limit (0: no limit) must be 0.001…1000000, not 1e-20"),
        .usage(["--rate-limit", "inf"], "--rate-limit (0: no limit) must be 0.001…1000000, not inf"),
        .usage(["--rate-limit=-1"], "--rate-limit (0: no limit) must be 0.001…1000000, not -1"),
        .usage(["--rate-burst", "nan"], "--rate-burst must be 1…1000000, not nan"),
        .usage(["--rate-burst", "0"], "--rate-burst must be 1…1000000, not 0"),
        .usage(["--rate-burst", "inf"], "--rate-burst must be 1…1000000, not inf"),
        .usage(["--body-timeout", "inf"], "--body-timeout must be 0.001…86400, not inf"),
        .usage(["--body-timeout", "nan"], "--body-timeout must be 0.001…86400, not nan"),
        .usage(["--body-timeout", "0"], "--body-timeout must be 0.001…86400, not 0"),
        .usage(["--idle-timeout", "nan"], "--idle-timeout must be 0.001…86400, not nan"),
        .usage(["--idle-timeout", "inf"], "--idle-timeout must be 0.001…86400, not inf"),
        .usage(["--idle-timeout=-1"], "--idle-timeout must be 0.001…86400, not -1"),
        .usage(["--models", "alexnet"], "--models: unknown model 'alexnet'"),
        .usage(["--models", ""], "--models: unknown model ''"),
        .usage(["--models", "efficientnet_lite0,,efficientnet_lite1"], "--models: unknown model ''"),
        .usage(["--models", "efficientnet_lite0,efficientnet_lite0"], "--models names efficientnet_lite0 twice"),
        .usage(["--weights", ""], "--weights takes NAME=FILE, got ''"),
        .usage(["--weights", "alexnet=w.pth"], "--weights: unknown model 'alexnet'"),
        .usage(["--weights", "efficientnet_lite0=a.pth", "--weights", "efficientnet_lite0=b.pth"], "--weights names efficientnet_lite0 twice"),
        .usage(["--data", ""], "--data needs a directory"),
        .usage(["--database", "sqlite:///x"], "--database takes a postgres:// URL"),
        .failure(["--admin-token-file", "missing.txt"], "error: missing.txt: no such file"),
        .failure(["--admin-token-file", "fifo"], "error: fifo: is a FIFO (named pipe), not a token file"),
        .failure(["--admin-token-file", "folder"], "error: folder: is a directory, not a token file"),
        .failure(["--weights", "efficientnet_lite0=missing.pth"], "error: missing.pth: no such file"),
        .failure(["--weights", "efficientnet_lite0=fifo"], "error: fifo: is a FIFO (named pipe), not a weights file"),
        .failure(["--examples", "fifo-examples"], "fifo-examples/examples.json: is a FIFO (named pipe), not a JSON file"),
    ] + threadCases([])).map { HostileCase(arguments: ["serve", "--port", "0"] + $0.arguments, status: $0.status, message: $0.message) }

    static let corruptCases: [HostileCase] = [
        .usage(["corrupt"], "Missing expected argument '<images> ...'"),
        .usage(["corrupt", "garbage.jpg"], "Missing expected argument '--out <out>'"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--severity", "0"], "--severity is 1, 2, 3, 4, 5 or all, not '0'"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--severity=-1"], "--severity is 1, 2, 3, 4, 5 or all, not '-1'"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--severity", "NaN"], "--severity is 1, 2, 3, 4, 5 or all, not 'NaN'"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--corruption", "rain"], "--corruption: unknown corruption 'rain'; corruptions: gaussian_noise"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--corruption", ""], "--corruption: unknown corruption ''"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--seed=-1"], "The value '-1' is invalid for '--seed <seed>'"),
        .usage(["corrupt", "garbage.jpg", "--out", "o", "--seed", "99999999999999999999999"], "is invalid for '--seed <seed>'"),
        .failure(["corrupt", "missing.png", "--out", "o"], "error: missing.png: no such file"),
        .failure(["corrupt", "garbage.jpg", "--out", "o"], "error: garbage.jpg: text is not an accepted image"),
        .failure(["corrupt", "fifo", "--out", "o"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["corrupt", "folder", "--out", "o"], "error: no images in folder"),
        .failure(["corrupt", "garbage.jpg", "--out", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory to write"),
        .failure(["corrupt", "garbage.jpg", "--out", "garbage.jpg"], "error: garbage.jpg: is a regular file, not a directory to write"),
        .failure(["corrupt", "garbage.jpg", "--out", ""], "error: '': no file name given"),
        .failure(["corrupt", "garbage.jpg", "--out", "o", "--frost-textures", "missing"], "error: missing: no such directory"),
        .failure(["corrupt", "garbage.jpg", "--out", "o", "--frost-textures", "folder"], "error: folder/frost1.png: no such file"),
        .failure(["corrupt", "garbage.jpg", "--out", "o", "--frost-textures", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory"),
    ]

    static let catalogCases: [HostileCase] = [
        .usage(["catalog", "recheck", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .usage(["catalog", "recheck", "--model", "efficientnet_lite0", "--model", "efficientnet_lite0"], "--model names efficientnet_lite0 twice"),
        .usage(["catalog", "recheck", "--data", ""], "--data needs a directory"),
        .usage(["catalog", "recheck", "--database", "http://localhost/x"], "--database takes a postgres:// URL"),
        .usage(["catalog", "export"], "Missing expected argument '<file>'"),
        .failure(["catalog", "export", "folder"], "error: folder: is a directory, not a file to write"),
        .failure(["catalog", "export", "fifo"], "error: fifo: is a FIFO (named pipe), not a file to write"),
        .failure(["catalog", "export", ""], "error: '': no file name given"),
        .failure(["catalog", "import", "missing.zip"], "error: missing.zip: no such file"),
        .failure(["catalog", "import", "fifo"], "error: fifo: is a FIFO (named pipe), not a zip file"),
        .failure(["catalog", "import", "folder"], "error: folder: is a directory, not a zip file"),
        .failure(["catalog", "import", ""], "error: '': no file name given"),
        .failure(["catalog", "import", "garbage.jpg"], "is not a zip archive"),
        .usage(["catalog", "imprt"], "unknown command 'catalog imprt'; did you mean 'catalog import'?"),
        .usage(["catalog", "move-images", "--from-data", "folder"], "move-images copies into PostgreSQL: give --database postgres://"),
        .usage(["catalog", "move-images", "--database", "postgres://u@127.0.0.1:1/d"], "Missing expected argument '--from-data <from-data>'"),
        .failure(["catalog", "move-images", "--from-data", "folder", "--database", "postgres://u@127.0.0.1:1/d"],
                 "/images is not a folder of catalog images (--from-data takes the data directory that holds images/)"),
        .usage(["catalog", "import-examples", "folder", "--examples", "folder"], "give the examples folder once"),
        .failure(["catalog", "export", "missing-folder/c.zip"], "error: cannot write missing-folder/c.zip: the folder missing-folder does not exist"),
        .failure(["catalog", "import-examples", "missing"], "error: missing: no such directory"),
        .failure(["catalog", "import-examples", "--examples", "folder"], "error: folder: has no examples.json"),
        .failure(["catalog", "import-examples", "fifo"], "error: fifo: is a FIFO (named pipe), not a directory"),
        .failure(["catalog", "import-examples", "folder"], "error: folder: has no examples.json"),
        .failure(["catalog", "import-examples", "fifo-examples"], "error: fifo-examples/examples.json: is a FIFO (named pipe), not a JSON file"),
        .failure(["catalog", "import-examples", ""], "error: '': no file name given"),
        .usage(["catalog", "import-slice", "r.json", "--slice", "a1", "--limit", "0"], "--limit must be 1…1000, not 0"),
        .usage(["catalog", "import-slice", "r.json", "--slice", "a1", "--limit=-3"], "--limit must be 1…1000, not -3"),
        .usage(["catalog", "import-slice", "r.json", "--slice", "a1", "--limit", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--limit <limit>'"),
        .usage(["catalog", "import-slice", "r.json"], "Missing expected argument '--slice <id>'"),
        .usage(["catalog", "import-slice", "--slice", "a1"], "Missing expected argument '<results>'"),
        .usage(["catalog", "import-slice", "r.json", "--slice", "a1", "--data", ""], "--data needs a directory"),
        .failure(["catalog", "import-slice", "missing.json", "--slice", "a1"], "error: missing.json: no such file"),
        .failure(["catalog", "import-slice", "garbage.jpg", "--slice", "a1"], "error: garbage.jpg: is not the JSON of `blindspot discover`: not valid JSON"),
        .failure(["catalog", "import-slice", "folder", "--slice", "a1"], "error: folder: is a directory, not a results file"),
        .failure(["catalog", "import-slice", "fifo", "--slice", "a1"], "error: fifo: is a FIFO (named pipe), not a results file"),
        .failure(["catalog", "import-slice", "", "--slice", "a1"], "error: '': no file name given"),
    ] + threadCases(["catalog", "recheck"]) + threadCases(["catalog", "import-examples", "folder"]) + threadCases(["catalog", "import-slice", "r.json", "--slice", "a1"])

    static let modelsCases: [HostileCase] = [
        .usage(["models", "list", "extra"], "Unexpected argument 'extra'"),
        .usage(["models", "verify", "--threads", "0"], "Unknown option '--threads'"),
        .usage(["models", "fetch", "alexnet"], "models fetch: unknown model 'alexnet'"),
        .usage(["models", "fetch", ""], "models fetch: unknown model ''"),
        .usage(["models", "fetch", "efficientnet_lite1", "efficientnet_lite1"], "models fetch names efficientnet_lite1 twice"),
        .usage(["models", "path", "alexnet"], "models path: unknown model 'alexnet'"),
        .usage(["models", "path", ""], "models path: unknown model ''"),
        .usage(["models", "synthesize", "alexnet", "--out", "w.safetensors"], "models synthesize: unknown model 'alexnet'"),
        .failure(["models", "synthesize", "efficientnet_lite0", "--out", "folder"], "error: folder: is a directory, not a file to write"),
        .failure(["models", "synthesize", "efficientnet_lite0", "--out", "fifo"], "error: fifo: is a FIFO (named pipe), not a file to write"),
        .failure(["models", "synthesize", "efficientnet_lite0", "--out", ""], "error: '': no file name given"),
        .failure(["models", "synthesize", "efficientnet_lite0", "--out", "missing-folder/w.safetensors"],
                 "error: cannot write missing-folder/w.safetensors: the folder missing-folder does not exist"),
        .failure(["models", "export", "efficientnet_lite0", "--onnx", "missing-folder/m.onnx"],
                 "error: cannot write missing-folder/m.onnx: the folder missing-folder does not exist"),
        .usage(["models", "add", "", "m.onnx"], "a model name is 1–64 letters, digits, '_', '-' or '.', not ''"),
        .usage(["models", "add", "../escape", "m.onnx"], "a model name is 1–64 letters"),
        .usage(["models", "add", String(repeating: "m", count: 65), "m.onnx"], "a model name is 1–64 letters"),
        .usage(["models", "add", "mine", "m.onnx", "--input-size", "0"], "the input size must be 16…2048, not 0"),
        .usage(["models", "add", "mine", "m.onnx", "--input-size", "3000000000"], "the input size must be 16…2048, not 3000000000"),
        .usage(["models", "add", "mine", "m.onnx", "--input-size=-224"], "the input size must be 16…2048, not -224"),
        .usage(["models", "add", "mine", "m.onnx", "--input-size", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--input-size <input-size>'"),
        .usage(["models", "add", "mine", "m.onnx", "--crop-fraction", "nan"], "the crop fraction must be in (0.2, 1], not nan"),
        .usage(["models", "add", "mine", "m.onnx", "--crop-fraction", "inf"], "the crop fraction must be in (0.2, 1], not inf"),
        .usage(["models", "add", "mine", "m.onnx", "--crop-fraction", "0"], "the crop fraction must be in (0.2, 1], not 0"),
        .usage(["models", "add", "mine", "m.onnx", "--mean", "nan,0,0", "--std", "1,1,1"], "mean and standard deviation need 3 finite values each"),
        .usage(["models", "add", "mine", "m.onnx", "--mean", "0,0,0", "--std", "0,1,inf"], "mean and standard deviation need 3 finite values each"),
        .usage(["models", "add", "mine", "m.onnx", "--mean", "1,2", "--std", "1,1,1"], "--mean takes three comma-separated numbers"),
        .usage(["models", "add", "mine", "m.onnx", "--mean", "0,0,0"], "--mean needs --std"),
        .usage(["models", "add", "mine", "m.onnx", "--normalize", "sideways"], "--normalize is one of imagenet, inception, lite"),
        .failure(["models", "add", "mine", "missing.onnx"], "error: missing.onnx: no such file"),
        .failure(["models", "add", "mine", "folder"], "error: folder: is a directory, not an ONNX file"),
        .failure(["models", "add", "mine", "fifo"], "error: fifo: is a FIFO (named pipe), not an ONNX file"),
        .failure(["models", "add", "mine", ""], "error: '': no file name given"),
        .failure(["models", "add", "mine", "garbage.jpg"], "error: not a valid ONNX file"),
        .failure(["models", "add", "efficientnet_lite0", "garbage.jpg"], "error: 'efficientnet_lite0' is already a model name"),
        .usage(["models", "remove", "../escape"], "no imported model is called '../escape'"),
        .usage(["models", "remove", ""], "no imported model is called ''"),
        .failure(["models", "remove", "absent"], "error: no imported model is called 'absent'"),
        .usage(["models", "export", "alexnet", "--onnx", "m.onnx"], "models export: unknown model 'alexnet'"),
        .failure(["models", "export", "efficientnet_lite0", "--onnx", "m.onnx"], "error: efficientnet_lite0 has no weights here"),
        .failure(["models", "export", "efficientnet_lite0", "--onnx", "m.onnx", "--weights", "missing.pth"], "error: missing.pth: no such file"),
        .failure(["models", "export", "efficientnet_lite0", "--onnx", "m.onnx", "--weights", "fifo"], "error: fifo: is a FIFO (named pipe), not a weights file"),
        .failure(["models", "export", "efficientnet_lite0", "--onnx", "folder", "--weights", "garbage.jpg"], "error: folder: is a directory, not a file to write"),
    ]

    static let loadCases: [HostileCase] = [
        .usage(["load", "https://127.0.0.1/", "--image", "x.jpg"], "the URL must be http://host:port/path (got 'https://127.0.0.1/')"),
        .usage(["load", "not a url", "--image", "x.jpg"], "the URL must be http://host:port/path"),
        .usage(["load", "http://example.org/", "--image", "x.jpg"], "the URL's host must be an IPv4 address or localhost (got 'example.org')"),
        .usage(["load", "http://127.0.0.1:9/", "--image", "x.jpg", "--clients", "0"], "--clients must be 1…1024, not 0"),
        .usage(["load", "http://127.0.0.1:9/", "--image", "x.jpg", "--seconds", "nan"], "--seconds must be 0.1…3600, not nan"),
        .usage(["load", "http://127.0.0.1:9/", "--image", "x.jpg", "--seconds", "0"], "--seconds must be 0.1…3600, not 0"),
        .usage(["load", "http://127.0.0.1:9/"], "give either --image or --reports"),
        .usage(["load", "http://127.0.0.1:9/", "--image", "x.jpg", "--reports", "folder"], "give either --image or --reports"),
        .failure(["load", "http://127.0.0.1:9/", "--image", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["load", "http://127.0.0.1:9/", "--image", "fifo"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["load", "http://127.0.0.1:9/", "--reports", "folder"], "error: load: folder holds no JPEG, PNG, WebP or GIF image"),
        .failure(["load", "http://127.0.0.1:9/", "--reports", "missing"], "error: missing: no such directory"),
    ]

    static let benchCases: [HostileCase] = [
        .usage(["bench", "--server-seconds", "inf"], "--server-seconds must be 0.1…3600, not inf"),
        .usage(["bench", "--server-seconds", "nan"], "--server-seconds must be 0.1…3600, not nan"),
        .usage(["bench", "--server-seconds", "0"], "--server-seconds must be 0.1…3600, not 0"),
        .usage(["bench", "--server-seconds", "1e300"], "--server-seconds must be 0.1…3600, not 1e+300"),
        .usage(["bench", "--sgemm-size", "4294967296"], "--sgemm-size must be 1…8192, not 4294967296"),
        .usage(["bench", "--sgemm-size", "0"], "--sgemm-size must be 1…8192, not 0"),
        .usage(["bench", "--runs", "0"], "--runs must be 1…10000, not 0"),
        .usage(["bench", "--runs", "3000000000"], "--runs must be 1…10000, not 3000000000"),
        .usage(["bench", "--warmup=-1"], "--warmup must be 0…10000, not -1"),
        .usage(["bench", "--startup-runs", "0"], "--startup-runs must be 1…1000, not 0"),
        .usage(["bench", "--scaling-runs", "0"], "--scaling-runs must be 1…1000, not 0"),
        .usage(["bench", "--batch", "0"], "--batch must be 1…256, not 0"),
        .usage(["bench", "--batch", "1", "3000000000"], "--batch must be 1…256, not 3000000000"),
        .usage(["bench", "--threads", "0"], "--threads must be 1…1024, not 0"),
        .usage(["bench", "--threads", "2", "3000000000"], "--threads must be 1…1024, not 3000000000"),
        .usage(["bench", "--threads", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--threads <threads>'"),
        .usage(["bench", "--clients", "0"], "--clients must be 1…1024, not 0"),
        .usage(["bench", "--clients", "3000000000"], "--clients must be 1…1024, not 3000000000"),
        .usage(["bench", "--batch-window-ms", "nan"], "--batch-window-ms must be 0…10000, not nan"),
        .usage(["bench", "--batch-window-ms", "5", "inf"], "--batch-window-ms must be 0…10000, not inf"),
        .usage(["bench", "--section", ""], "--section names no section"),
        .usage(["bench", "--section", "forward,sideways"], "unknown section 'sideways'"),
        .usage(["bench", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .usage(["bench", "--model", "efficientnet_lite0", "efficientnet_lite0"], "--model names efficientnet_lite0 twice"),
        .failure(["bench", "--no-peer", "--photo", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["bench", "--no-peer", "--photo", "fifo"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["bench", "--no-peer", "--photo", "folder"], "error: folder: is a directory, not an image file"),
        .usage(["bench-child", "x.jpg", "--model", "alexnet"], "--model: unknown model 'alexnet'"),
        .failure(["bench-child", "missing.jpg"], "error: missing.jpg: no such file"),
        .failure(["bench-child", "fifo"], "error: fifo: is a FIFO (named pipe), not an image file"),
        .failure(["bench-child", "folder"], "error: folder: is a directory, not an image file"),
        .failure(["bench-child", ""], "error: '': no file name given"),
    ] + threadCases(["bench-child", "x.jpg"])

    @Test func classify() async throws { try await Self.check(Self.classifyCases + Self.rootCases) }
    @Test func probe() async throws { try await Self.check(Self.probeCases) }
    @Test func explain() async throws { try await Self.check(Self.explainCases) }
    @Test func corrupt() async throws { try await Self.check(Self.corruptCases) }
    @Test func eval() async throws { try await Self.check(Self.evalCases) }
    @Test func discover() async throws { try await Self.check(Self.discoverCases) }
    @Test func report() async throws { try await Self.check(Self.reportCases) }
    @Test func serve() async throws { try await Self.check(Self.serveCases) }
    @Test func catalog() async throws { try await Self.check(Self.catalogCases) }
    @Test func models() async throws { try await Self.check(Self.modelsCases) }
    @Test func bench() async throws { try await Self.check(Self.benchCases + Self.loadCases) }

    /// As root, `chmod 000` does not stop reading, so the cases run as the user nobody through setpriv(1); a file
    /// and a folder nobody may read are refused with "permission denied".
    @Test(.enabled(if: getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs a user that chmod 000 stops: not root, or root with setpriv(1) to run as nobody"))
    func unreadableFiles() async throws {
        let asNobody = getuid() == 0
        let folder = try HostileFolder()
        defer { folder.remove() }
        let locked = folder.url.appendingPathComponent("locked.bin"), lockedFolder = folder.url.appendingPathComponent("locked")
        try Data("secret".utf8).write(to: locked)
        try FileManager.default.createDirectory(at: lockedFolder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: lockedFolder.path)
        // nobody must reach the folder itself.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.url.path)
        let cases: [HostileCase] = [
            .failure(["models", "add", "mine", "locked.bin"], "error: locked.bin: permission denied"),
            .failure(["classify", "locked.bin"], "error: locked.bin: permission denied"),
            .failure(["probe", "locked.bin"], "error: locked.bin: permission denied"),
            // The output goes where nobody may write (the folder is root's, and outputs are checked first); it is never written.
            .failure(["eval", "merge", "locked.bin", "--out", "/tmp/blindspot-merged-\(UUID().uuidString).json"], "error: locked.bin: permission denied"),
            .failure(["catalog", "import", "locked.bin"], "error: locked.bin: permission denied"),
            .failure(["eval", "locked"], "error: locked: permission denied"),
        ]
        for hostile in cases {
            let arguments = asNobody ? ["--reuid=65534", "--regid=65534", "--clear-groups", "--", BlindspotBinary.url.path] + hostile.arguments : hostile.arguments
            let result = try await BlindspotBinary.run(arguments, environment: folder.environment,
                                                       executable: asNobody ? URL(fileURLWithPath: "/usr/bin/setpriv") : nil,
                                                       directory: folder.url, timeout: 30)
            Self.expect(result, of: hostile)
        }
    }
}
