// The README's picture of the targets is the package's real graph: every target of Package.swift is listed there with
// exactly its dependencies on other targets, and no target depends on one listed below it (dependencies go one way).
import Foundation
import Testing

@Suite struct PackageGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Target name → the targets of this package it depends on (products of other packages left out), from Package.swift.
    static func packageGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var graph: [String: Set<String>] = [:]
        let declaration = /\.(target|executableTarget|systemLibrary)\(name: "([^"]+)"/
        for match in text.matches(of: declaration) {
            let rest = text[match.range.upperBound...]
            // This target's own arguments end where the next target begins.
            let end = rest.firstMatch(of: /\n\s*\.(target|executableTarget|systemLibrary|testTarget)\(/)?.range.lowerBound ?? rest.endIndex
            let arguments = rest[..<end]
            var dependencies: Set<String> = []
            if let list = arguments.firstMatch(of: /dependencies: \[([^\]]*)\]/) {
                let withoutProducts = String(list.1).replacing(/\.product\([^)]*\)/, with: "")
                dependencies = Set(withoutProducts.matches(of: /"([^"]+)"/).map { String($0.1) })
            }
            graph[String(match.2)] = dependencies
        }
        return graph
    }

    /// The README's list under "How it is built": target name → dependencies, in the order listed.
    static func readmeGraph() throws -> [(name: String, dependencies: Set<String>)] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(text.range(of: "## How it is built"), "README.md has a 'How it is built' section")
        let lines = text[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var entries: [(name: String, dependencies: Set<String>)] = []
        var index = 0
        while index < lines.count, !lines[index].hasPrefix("Tests/") {
            if let match = lines[index].wholeMatch(of: /\ \ (\S+)\s+← (.*)/) {
                // The dependencies run to the first gap of three spaces; a list ending in a comma goes on below.
                var list = String(match.2.split(separator: "   ", maxSplits: 1).first ?? "")
                while list.hasSuffix(","), index + 1 < lines.count {
                    index += 1
                    list += " " + (lines[index].trimmingCharacters(in: .whitespaces).split(separator: "   ", maxSplits: 1).first ?? "")
                }
                let names = list == "(none)" ? [] : list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                entries.append((String(match.1), Set(names)))
            }
            index += 1
        }
        return entries
    }

    @Test func theReadmeListsEveryTargetWithItsDependencies() throws {
        let package = try Self.packageGraph()
        let readme = try Self.readmeGraph()
        #expect(package.count >= 20, "Package.swift was read: \(package.keys.sorted())")
        #expect(Set(readme.map(\.name)) == Set(package.keys), "targets listed in README.md vs Package.swift")
        #expect(readme.count == Set(readme.map(\.name)).count, "each target listed once")
        for entry in readme {
            #expect(entry.dependencies == package[entry.name], "\(entry.name): README says \(entry.dependencies.sorted()), Package.swift \(package[entry.name]?.sorted() ?? [])")
        }
    }

    @Test func dependenciesGoOneWay() throws {
        let readme = try Self.readmeGraph()
        let position = Dictionary(uniqueKeysWithValues: readme.enumerated().map { ($1.name, $0) })
        for (index, entry) in readme.enumerated() {
            for dependency in entry.dependencies {
                let at = try #require(position[dependency], "\(entry.name) depends on \(dependency), which README.md does not list")
                #expect(at < index, "\(entry.name) depends on \(dependency), listed below it")
            }
        }
    }

    @Test func noTargetIsCalledCoreAgain() throws {
        // Core held five jobs; each now has a target named after it.
        let package = try Self.packageGraph()
        #expect(package["Core"] == nil)
        for job in ["Inference", "ModelRegistry", "Analysis", "Bench", "Curation"] { #expect(package[job] != nil, "\(job)") }
    }
}
