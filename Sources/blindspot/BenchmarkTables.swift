// `blindspot bench`'s terminal form: each section of a BenchmarkDocument as a plain-text table, then every target
// with its measured value and met or missed. Rendering only; the numbers come from Bench.
import Bench
import Foundation

enum BenchmarkTables {
    static func render(_ document: BenchmarkDocument) -> String {
        let machine = document.machine
        var lines = ["oneDNN ISA \(machine.instructionSet), \(machine.cores) cores, \(machine.threads) threads"
            + (machine.onnxRuntime.map { ", ONNX Runtime \($0)" } ?? "") + ", medians of \(machine.runs) runs"]
        if let forward = document.forward {
            lines += section("Forward passes", header: ["model", "batch", "threads", "blindspot ms", "img/s", "onnxruntime ms", "img/s", "time ratio"],
                             forward.map { comparison in
                                 [comparison.model, "\(comparison.batch)", "\(comparison.threads)", number(comparison.blindspot.msPerBatch),
                                  number(comparison.blindspot.imagesPerSecond, 1), comparison.onnxruntime.map { number($0.msPerBatch) } ?? "–",
                                  comparison.onnxruntime.map { number($0.imagesPerSecond, 1) } ?? "–", comparison.timeRatio.map { number($0) + "×" } ?? "–"]
                             })
        }
        if let peak = document.peak {
            lines += section("Effective speed (batch of the server's largest batch)",
                             header: ["model", "GFLOP/image", "batch", "img/s", "GFLOP/s", "sgemm", "sgemm GFLOP/s", "fraction"],
                             peak.map { [$0.model, number($0.gflopPerImage), "\($0.batch)", number($0.imagesPerSecond, 1), number($0.effectiveGflops, 1),
                                         "\($0.sgemmSize)²", number($0.sgemmGflops, 1), percent($0.fractionOfPeak)] })
        }
        if let memory = document.memory {
            lines += section("Peak resident memory of a fresh process: model loaded, one image classified", header: ["model", "weights MB", "peak RSS MB", "bound MB"],
                             memory.map { [$0.model, number($0.weightsMB, 1), number($0.peakResidentMB, 1), number($0.boundMB, 1)] })
        }
        if let startup = document.startup {
            lines += section("Process start to exit of `classify` on one image", header: ["model", "weights", "median s", "runs s"],
                             startup.map { [$0.model, $0.syntheticWeights ? "synthetic" : "cached", number($0.medianSeconds, 3),
                                            $0.seconds.map { number($0, 3) }.joined(separator: " ")] })
        }
        if let image = document.image {
            lines += section("JPEG to input tensor (ms)", header: ["model", "image", "shrink", "total", "decode", "full decode", "resize", "normalise"],
                             image.map { ["\($0.model)", "\($0.width)×\($0.height)", "1/\($0.shrinkOnLoad)", number($0.totalMs), number($0.decodeMs),
                                          number($0.decodeFullSizeMs), number($0.resizeMs), number($0.normaliseMs)] })
        }
        if let transforms = document.transforms, let first = transforms.first {
            lines += section("Transformations on a \(first.width)×\(first.height) photo (ms per level, medians of at most 5 runs)", header: ["family", "levels", "median", "slowest", "slowest level"],
                             transforms.map { [$0.family, "\($0.levels)", number($0.medianMs), number($0.slowestMs), $0.slowestLevel] })
        }
        if let timings = document.corruptions {
            lines += section("ImageNet-C corruptions on \(timings.images) crops of \(timings.width)×\(timings.height) (ms per image, medians of at most 5 runs); "
                             + "\(timings.classifier) batch-1 forward: \(number(timings.classifyMs)) ms; mean of the 15: \(number(timings.commonMeanMs)) ms",
                             header: ["corruption", "median", "slowest", "slowest severity", "÷ classify"],
                             timings.corruptions.map { [$0.corruption + ($0.common ? "" : " (held out)"), number($0.medianMs), number($0.slowestMs),
                                                        "\($0.slowestSeverity)", number($0.medianMs / timings.classifyMs)] })
        }
        if let servers = document.server {
            for server in servers {
                lines += section("`serve` \(server.model)\(server.syntheticWeights ? " (synthetic weights)" : ""), \(server.imageWidth)×\(server.imageHeight) JPEGs, "
                                 + "max batch \(server.maxBatch), queue \(server.queue); engine at batch \(server.engineBatch): \(number(server.engineImagesPerSecond, 1)) img/s",
                                 header: ["window ms", "clients", "img/s", "of engine", "p50 ms", "p99 ms", "mean batch", "failures"],
                                 server.runs.map(serverRow))
            }
        }
        if let scaling = document.scaling {
            lines += section("Cost by batch size", header: ["model", "batch", "ms/batch", "ms/image", "img/s"],
                             scaling.batch.map { [$0.model, "\($0.batch)", number($0.msPerBatch), number($0.msPerBatch / Double($0.batch)), number($0.imagesPerSecond, 1)] })
            lines += section("Cost by image size", header: ["model", "image", "prepare ms", "prepare + batch-1 forward ms"],
                             scaling.imageSize.map { [$0.model, "\($0.width)×\($0.height)", number($0.prepareMs), number($0.prepareAndForwardMs)] })
            lines += section("Cost by concurrent clients (server)", header: ["model", "window ms", "clients", "img/s", "of engine", "p50 ms", "p99 ms", "mean batch", "failures"],
                             scaling.clients.map { [$0.model] + serverRow($0.run) })
        }
        if !document.targets.isEmpty {
            lines += section("Targets", header: ["target", "measured", "goal", "result"],
                             document.targets.map { target in
                                 ["\(target.section.rawValue): \(target.name)", number(target.measured) + " " + target.unit,
                                  "\(target.comparison.rawValue) \(number(target.limit)) \(target.unit)", target.met ? "met" : "MISSED"]
                             })
        }
        return lines.joined(separator: "\n")
    }

    private static func serverRow(_ run: ServerRun) -> [String] {
        [number(run.batchWindowMs, 1), "\(run.load.clients)", number(run.load.answeredPerSecond, 1), percent(run.fractionOfEngine),
         number(run.load.p50Ms, 1), number(run.load.p99Ms, 1), number(run.load.meanBatchSize, 1), "\(run.load.failures)"]
    }

    /// A titled table with columns padded to their widest cell, the first left-aligned and the others right-aligned.
    private static func section(_ title: String, header: [String], _ rows: [[String]]) -> [String] {
        let table = [header] + rows
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        return ["", title] + table.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
    }

    private static func number(_ value: Double, _ decimals: Int = 2) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func percent(_ fraction: Double) -> String {
        String(format: "%.0f%%", fraction * 100)
    }
}
