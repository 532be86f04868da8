// The `blindspot` command line: parses arguments and calls the libraries; no logic of its own.
import ArgumentParser

@main
struct Blindspot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blindspot",
        abstract: "Find, show and document where image classifiers fail.",
        subcommands: [ClassifyCommand.self, ProbeCommand.self, ExplainCommand.self, ServeCommand.self, CatalogCommand.self, ModelsCommand.self, BenchCommand.self])
}
