// `blindspot explain`: occlusion sensitivity of one image (a sliding grey patch, or SLIC superpixels greyed out one at
// a time), as a heatmap PNG over the image the model sees.
import Analysis
import ArgumentParser
import Foundation
import Imaging

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what the model looks at: grey out parts of the image and map how much the class's probability drops.",
        discussion: """
            Example: blindspot explain car.png --class 'sports car' --out heat.png

            --method patches (default) slides a grey square over the image; --method superpixels greys out one SLIC \
            superpixel (a region of similar colour) at a time.
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case patches, superpixels
    }

    @Argument(help: "The image (JPEG, PNG, WebP or GIF).")
    var image: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("class"), help: "The class to explain: index, WordNet id or exact name (default: the model's first choice).")
    var className: String?

    @Option(help: "What to grey out: patches (a sliding square) or superpixels (regions of similar colour).")
    var method: Method = .patches

    @Option(help: "About how many superpixels to cut the image into (--method superpixels; default 50).")
    var segments: Int?

    @Option(help: "Side of the grey patch in input pixels (default: a fifth of the input side).")
    var patch: Int?

    @Option(help: "Step between patch positions (default: about 10 positions per side).")
    var stride: Int?

    @Option(help: "Where to write the heatmap PNG (the model's input with the heat over it and a colour scale on the right).")
    var out: String

    @Flag(help: "Print the map as JSON instead of a summary.")
    var json = false

    func validate() throws {
        // No model's input is larger than 4096 pixels a side, and there are fewer superpixels than pixels.
        try OptionCheck.require(patch, within: 1...4096, "--patch")
        try OptionCheck.require(stride, within: 1...4096, "--stride")
        try OptionCheck.require(segments, within: 1...10_000, "--segments")
        _ = try className.map { try OptionCheck.requireClass($0, "--class") }
        switch method {
        case .patches where segments != nil:
            throw ValidationError("--segments needs --method superpixels")
        case .superpixels where patch != nil || stride != nil:
            throw ValidationError("--patch and --stride are for --method patches, not superpixels")
        default:
            break
        }
    }

    func run() async throws {
        try FileCheck.oneImage(image, command: "explain")
        try FileCheck.writable(out)
        let environment = try CommandEnvironment()
        let classifier = try modelOptions.loadClassifier(environment)
        let classIndex = try className.map { try OptionCheck.requireClass($0, "--class") }
        let decoded = try ImageDecoder().decode(try Data(contentsOf: URL(fileURLWithPath: image)))
        let bar = ProgressBar(label: "occlusion", format: .items(method == .patches ? "positions" : "segments"))
        let update = { (done: Int, total: Int) in bar.update(completed: Int64(done), total: Int64(total)) }
        let (map, input) = switch method {
        case .patches: try classifier.occlusion(of: decoded, classIndex: classIndex, patch: patch, stride: stride, progress: update)
        case .superpixels: try classifier.superpixelOcclusion(of: decoded, classIndex: classIndex, segments: segments ?? 50, progress: update)
        }
        bar.finish()
        try map.overlay(on: input).pngData().write(to: URL(fileURLWithPath: out))
        if json {
            var object: [String: Any] = [
                "model": classifier.model.name, "class": ["index": map.classIndex, "label": map.label], "baseProbability": map.baseProbability,
                "method": method.rawValue, "drops": map.drops, "heatmap": out,
                "maxDrop": map.maxDrop, "scaleMaximum": map.scale.maximum, "muted": map.scale.isMuted, "caption": map.caption,
            ]
            switch map.regions {
            case let .patches(patch, stride, columns, rows):
                object.merge(["patch": patch, "stride": stride, "columns": columns, "rows": rows]) { $1 }
            case let .superpixels(_, count):
                object["segments"] = count
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(image) — \(classifier.model.name): '\(map.label)' at \(String(format: "%.1f", map.baseProbability * 100))%")
        switch map.regions {
        case let .patches(patch, stride, columns, rows):
            print("  \(columns)×\(rows) positions of a \(patch) px patch every \(stride) px on the \(map.width)×\(map.height) input")
        case let .superpixels(_, count):
            print("  \(count) superpixels on the \(map.width)×\(map.height) input")
        }
        for index in map.drops.indices.sorted(by: { map.drops[$0] > map.drops[$1] }).prefix(3) {
            let box = map.bounds(of: index)
            let corners = "(\(box.x), \(box.y))–(\(box.x + box.width), \(box.y + box.height))"
            let region = switch map.regions {
            case .patches: corners
            case .superpixels: "segment \(index) in \(corners), \(map.pixels(of: index).count) px,"
            }
            print("  hiding \(region) drops it by \(HeatScale.points(map.drops[index])) points")
        }
        print("  \(map.caption)")
        print("  heatmap: \(out)")
    }
}
