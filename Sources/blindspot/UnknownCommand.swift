// "unknown command 'classfy'; did you mean 'classify'?": the usage error for a mistyped subcommand, at any depth
// (`catalog imprt`), found by edit distance over the names the parser knows. Only consulted once parsing failed.
import ArgumentParser
import Models

enum UnknownCommand {
    /// The message for `arguments` (without the program name) when their first word that should name a subcommand
    /// names none; nil when the arguments fail for another reason.
    static func message(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        var typed: [String] = []
        for argument in arguments {
            let configuration = command.configuration
            // Options, and commands that take arguments of their own or run a default subcommand, are the parser's to judge.
            guard !argument.hasPrefix("-"), !configuration.subcommands.isEmpty, configuration.defaultSubcommand == nil else { return nil }
            if let next = configuration.subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) {
                command = next
                typed.append(argument)
                continue
            }
            guard argument != "help" else { return nil }
            let names = configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            let unknown = (typed + [argument]).joined(separator: " ")
            let ranked = names.map { (name: $0, distance: EditDistance.between(argument.lowercased(), $0)) }.min { $0.distance < $1.distance }
            if let best = ranked, best.distance <= max(1, min(3, argument.count / 3)) {
                return "unknown command '\(unknown)'; did you mean '\((typed + [best.name]).joined(separator: " "))'?"
            }
            let prefix = typed.isEmpty ? "" : typed.joined(separator: " ") + " "
            return "unknown command '\(unknown)'; the commands are \(names.map { "'\(prefix)\($0)'" }.joined(separator: ", "))"
        }
        return nil
    }
}
