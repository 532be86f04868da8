// The `blindspot` command line: parses arguments and calls the libraries; no logic of its own.
import ArgumentParser

@main
struct Blindspot: AsyncParsableCommand {
    /// Printed by `--version` and recorded in reports.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "blindspot",
        abstract: "Find, show and document where image classifiers fail.",
        version: version,
        subcommands: [ClassifyCommand.self, ProbeCommand.self, ExplainCommand.self, EvalCommand.self, ReportCommand.self, ServeCommand.self, CatalogCommand.self,
                      ModelsCommand.self, BenchCommand.self, BenchChildCommand.self])
}
