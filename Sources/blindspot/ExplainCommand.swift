// `blindspot explain`: occlusion sensitivity of one image, as a heatmap PNG over the image the model sees.
import ArgumentParser
import Core
import Foundation
import Imaging

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what the model looks at: slide a grey patch over the image and map how much the class's probability drops.",
        discussion: "Example: blindspot explain car.png --class 'sports car' --out heat.png")

    @Argument(help: "The image (JPEG, PNG, WebP or GIF).")
    var image: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("class"), help: "The class to explain: index, WordNet id or exact name (default: the model's first choice).")
    var className: String?

    @Option(help: "Side of the grey patch in input pixels (default: a fifth of the input side).")
    var patch: Int?

    @Option(help: "Step between patch positions (default: about 10 positions per side).")
    var stride: Int?

    @Option(help: "Where to write the heatmap PNG (the model's input with the heat over it and a colour scale on the right).")
    var out: String

    @Flag(help: "Print the map as JSON instead of a summary.")
    var json = false

    func validate() throws {
        if let patch, patch < 1 { throw ValidationError("--patch must be at least 1") }
        if let stride, stride < 1 { throw ValidationError("--stride must be at least 1") }
    }

    func run() async throws {
        let environment = try CommandEnvironment()
        let classifier = try modelOptions.loadClassifier(environment)
        let classIndex = try className.map { name in
            guard let index = environment.loader.labels.resolve(name) else {
                throw ValidationError("'\(name)' is not one of the 1000 ImageNet classes (give an index, a WordNet id or an exact name)")
            }
            return index
        }
        let decoded = try ImageDecoder().decode(try Data(contentsOf: URL(fileURLWithPath: image)))
        let bar = ProgressBar(label: "occlusion", format: .items("positions"))
        let (map, input) = try classifier.occlusion(of: decoded, classIndex: classIndex, patch: patch, stride: stride) { done, total in
            bar.update(completed: Int64(done), total: Int64(total))
        }
        bar.finish()
        try map.overlay(on: input).pngData().write(to: URL(fileURLWithPath: out))
        if json {
            let object: [String: Any] = [
                "model": classifier.model.name, "class": ["index": map.classIndex, "label": map.label], "baseProbability": map.baseProbability,
                "patch": map.patch, "stride": map.stride, "columns": map.columns, "rows": map.rows, "drops": map.drops, "heatmap": out,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(image) — \(classifier.model.name): '\(map.label)' at \(String(format: "%.1f", map.baseProbability * 100))%")
        print("  \(map.columns)×\(map.rows) positions of a \(map.patch) px patch every \(map.stride) px on the \(map.width)×\(map.height) input")
        for index in map.drops.indices.sorted(by: { map.drops[$0] > map.drops[$1] }).prefix(3) {
            let (x, y) = map.origin(of: index)
            print("  hiding (\(x), \(y))–(\(x + map.patch), \(y + map.patch)) drops it by \(String(format: "%.1f", map.drops[index] * 100)) points")
        }
        print("  heatmap: \(out)")
    }
}
