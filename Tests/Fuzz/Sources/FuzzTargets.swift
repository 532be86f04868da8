// libFuzzer entry points for what strangers' bytes go through: image ingestion and each weights reader. Built with
// -sanitize=fuzzer -DFUZZING (`make fuzz`) the target is $BLINDSPOT_FUZZ_TARGET; built normally, the executable replays
// files (`blindspot-fuzz TARGET FILE…`), so crashes found once stay regression tests.
import Engine
import Foundation
import Imaging
import Onnx
import Weights

enum FuzzTarget: String, CaseIterable {
    case image, pytorchZip = "pytorch-zip", pytorchLegacy = "pytorch-legacy", safetensors, onnx

    static let decoder = ImageDecoder(limits: DecodeLimits(maximumMegapixels: 50))
    static let preprocessing = Preprocessing(geometry: .centerCropFractionThenResize(numerator: 224, denominator: 256, size: 224, filter: .bicubic),
                                             normalization: .standardize(mean: SIMD3(repeating: 127), standardDeviation: SIMD3(repeating: 128)))

    /// Runs one input; every error is a correct outcome, only a crash, a hang or a leak is a finding.
    func run(_ data: Data) {
        switch self {
        case .image:
            if let image = try? Self.decoder.decode(data, minimumShorterSide: 256) { _ = try? Self.preprocessing.tensor(from: image) }
        case .pytorchZip: _ = try? WeightsFile.load(data, as: .pyTorchZip)
        case .pytorchLegacy: _ = try? WeightsFile.load(data, as: .pyTorchLegacy)
        case .safetensors: _ = try? WeightsFile.load(data, as: .safeTensors)
        case .onnx:
            if let network = try? OnnxImporter.network(from: data, name: "fuzz", inputSize: Size2D(32, 32)),
               network.graph.nodes.count < 64, network.graph.inputShape.reduce(1, *) <= 3 * 64 * 64 {
                // Small imported graphs also run, on the reference backend: what import accepts must not trap.
                _ = try? ReferenceBackend().prepare(network.graph).run(Tensor(zeros: [1] + network.graph.inputShape))
            }
        }
    }
}

let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["BLINDSPOT_FUZZ_TARGET"] ?? "image"
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("BLINDSPOT_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")), not '\(name)'")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    fuzzTarget.run(Data(bytes: bytes, count: count))
    return 0
}

#if FUZZING
// SwiftPM names an executable's entry point after its target and links `main` to it: hand over to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("blindspot_fuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
#else
@main
enum Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: blindspot-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE|DIR…")
            throw ExitCodeError()
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                target.run(try Data(contentsOf: URL(fileURLWithPath: file)))
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs replayed without a crash")
    }

    struct ExitCodeError: Error {}
}
#endif
