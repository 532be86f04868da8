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

