// The `blindspot` command line: parses arguments and calls the libraries; no logic of its own. Every error ends
// here: usage errors exit with status 2, everything else prints one plain line and exits with status 1.
import ArgumentParser
import Foundation

@main
struct Blindspot: AsyncParsableCommand {
    /// Printed by `--version` and recorded in reports.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "blindspot",
        abstract: "Find, show and document where image classifiers fail.",
        discussion: "Exit status: 0 on success, 1 when the work failed (a file, a model, the network), 2 for a usage error.",
        version: version,
        subcommands: [ClassifyCommand.self, ProbeCommand.self, ExplainCommand.self, EvalCommand.self, ReportCommand.self, ServeCommand.self, CatalogCommand.self,
                      ModelsCommand.self, DiscoverCommand.self, CorruptCommand.self, BenchCommand.self, LoadCommand.self, BenchChildCommand.self])

    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if let message = UnknownCommand.message(for: Array(CommandLine.arguments.dropFirst()), root: Blindspot.self) {
                printError("Error: \(message)")
                Foundation.exit(2)
            }
            finish(with: error)
        }
        do {
            var command = command
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            // A usage error found while running: ArgumentParser would add the usage of `blindspot`, not of the command.
            printError("Error: \(error.message)")
            Foundation.exit(2)
        } catch let error where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // ExitCode, CleanExit, and the internal error by which `--help` and `help COMMAND` print help.
            finish(with: error)
        } catch {
            printError("error: \(UserErrors.message(for: error))")
            Foundation.exit(1)
        }
    }

    /// ArgumentParser's own ending for its errors (help, version, a usage error, an exit code), with usage errors
    /// exiting with status 2, the convention of command-line tools, instead of 64.
    private static func finish(with error: any Error) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        printError(fullMessage(for: error))
        Foundation.exit(2)
    }
}
