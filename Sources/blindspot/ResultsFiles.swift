// The JSON files `eval` and `discover` write, read back by `report`, `eval merge` and `catalog import-slice`: a file
// that is not such JSON is named with why, and the folder of a discovery's images is found where its results say.
import Analysis
import Foundation

enum ResultsFile {
    /// The `Results` that `command` wrote to `path`; a file that is not such JSON is a FileProblem saying why.
    static func read<Results: Decodable>(_ type: Results.Type, from path: String, writtenBy command: String) throws -> Results {
        try FileCheck.readable(path, expected: "a results file")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(Results.self, from: data)
        } catch {
            throw FileProblem(path: path, problem: "is not the JSON of `\(command)`: \(UserErrors.message(for: error))")
        }
    }
}

extension EvaluationResults {
    /// The results `blindspot eval --out FILE.json` wrote to `path`.
    static func read(from path: String) throws -> EvaluationResults {
        try ResultsFile.read(EvaluationResults.self, from: path, writtenBy: "blindspot eval")
    }
}

extension DiscoveryResults {
    /// The results `blindspot discover --out FILE.json` wrote to `path`.
    static func read(from path: String) throws -> DiscoveryResults {
        try ResultsFile.read(DiscoveryResults.self, from: path, writtenBy: "blindspot discover")
    }

    /// The places `dataset` (the folder as given to `discover`) may be, in order: as written when absolute, else
    /// relative to the working directory, then to the folder of the results file at `resultsPath`.
    func datasetCandidates(resultsPath: String) -> [URL] {
        guard !dataset.isEmpty else { return [] }
        if dataset.hasPrefix("/") { return [URL(fileURLWithPath: dataset, isDirectory: true)] }
        return [URL(fileURLWithPath: dataset, isDirectory: true),
                URL(fileURLWithPath: resultsPath).deletingLastPathComponent().appendingPathComponent(dataset, isDirectory: true)]
    }

    /// The first of `datasetCandidates` that is a folder this process may list; nil when none is.
    func datasetFolder(resultsPath: String) -> URL? {
        datasetCandidates(resultsPath: resultsPath).first { (try? FileCheck.listableDirectory($0.path)) != nil }
    }

    /// "discover.json: the dataset folder 'photos' was not found (looked at photos and results/photos)".
    func datasetNotFound(resultsPath: String) -> String {
        let places = datasetCandidates(resultsPath: resultsPath).map(\.path)
        return "\(resultsPath): the dataset folder '\(dataset)' was not found" + (places.isEmpty ? "" : " (looked at \(places.joined(separator: " and ")))")
    }
}
