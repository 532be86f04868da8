// `blindspot bench-child` (hidden): what the memory section runs in a fresh process: load one model, classify
// one image as `classify` does, then print the process's peak resident memory. Its own process, because a child
// started from the bench inherits the bench's high-water mark in wait4's ru_maxrss.
import Analysis
import ArgumentParser
import Bench
import Foundation
import Imaging

struct BenchChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-child",
        abstract: "Load a model, classify one image and print the peak resident memory in bytes (used by bench's memory section).",
        shouldDisplay: false)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "The image to classify.")
    var image: String

    func run() throws {
        try FileCheck.readable(image, expected: "an image file")
        let environment = try CommandEnvironment()
        let classifier = try modelOptions.loadClassifier(environment)
        let prepared = try classifier.prepare(ImageFiles.read(image), decoder: ImageDecoder())
        _ = try classifier.classify([prepared], top: 5)
        guard let bytes = ResidentMemory.peakBytes() else { throw CommandFailure(description: "VmHWM is not in /proc/self/status on this system") }
        print(bytes)
    }
}
