// `blindspot load`: many clients post to a running server for a while, then the answers by status, the latencies,
// the refusals without Retry-After and the batch sizes. The overload test and `bench`'s server section use the same.
import ArgumentParser
import Bench
import Foundation
import Imaging

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a running server: N clients post an image (or new reports) back to back for a fixed time.",
        discussion: """
        Example: blindspot load 'http://127.0.0.1:8080/api/v1/classify?model=efficientnet_lite0' --image photo.jpg --clients 16 --seconds 20
        Example: blindspot load http://127.0.0.1:8080/api/v1/blindspots --reports ../shared/imagenet-sample --seconds 20
        """)

    static let clientCounts = 1...1024
    static let durations = 0.1...3600.0

    @Argument(help: "The URL to post to (http://host:port/path?query).")
    var url: String

    @Option(help: "The image every request posts (JPEG, PNG, WebP or GIF).")
    var image: String?

    @Option(help: "File new blind-spot reports made of this folder's images instead (the URL is then …/api/v1/blindspots).")
    var reports: String?

    @Option(help: "Concurrent clients, each on its own keep-alive connection.")
    var clients = 16

    @Option(help: "Seconds of load.")
    var seconds = 20.0

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try OptionCheck.require(clients, within: Self.clientCounts, "--clients")
        try OptionCheck.require(seconds, within: Self.durations, "--seconds")
        _ = try target()
        if (image == nil) == (reports == nil) { throw ValidationError("give either --image or --reports") }
    }

    /// The URL, if it is one this plain HTTP/1.1 client can post to.
    func target() throws -> URL {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host, !host.isEmpty else {
            throw ValidationError("the URL must be http://host:port/path (got '\(url)')")
        }
        guard host == "localhost" || inet_addr(host) != INADDR_NONE else {
            throw ValidationError("the URL's host must be an IPv4 address or localhost (got '\(host)')")
        }
        return parsed
    }

    func run() async throws {
        let requests: LoadRequests
        if let image {
            try FileCheck.oneImage(image, command: "load")
            let body = try Data(contentsOf: URL(fileURLWithPath: image))
            requests = .same(body: body, contentType: try ImageFormat(sniffing: body).mediaType)
        } else if let reports {
            try FileCheck.listableDirectory(reports)
            let folder = URL(fileURLWithPath: reports, isDirectory: true)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            // Regular files only (a FIFO would wait for a writer), and only those whose bytes are an image.
            let photos = names.compactMap { name -> Data? in
                let path = folder.appendingPathComponent(name).path
                guard (try? FileCheck.readable(path)) != nil, let data = FileManager.default.contents(atPath: path),
                      (try? ImageFormat(sniffing: data)) != nil else { return nil }
                return data
            }
            guard !photos.isEmpty else { throw CommandFailure(description: "load: \(reports) holds no JPEG, PNG, WebP or GIF image") }
            requests = .reports(photos: photos)
        } else {
            throw ValidationError("give either --image or --reports")
        }
        let result = await ServerLoad.run(url: try target(), requests: requests, clients: clients, duration: .milliseconds(Int(seconds * 1000)))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print(Self.text(result))
    }

    static func text(_ result: LoadResult) -> String {
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var lines = ["\(result.clients) clients for \(number(result.seconds)) s: \(result.requests) requests, \(number(result.answeredPerSecond)) answered/s"]
        for (status, latencies) in result.byStatus.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(status): \(latencies.count) answers, p50 \(number(latencies.p50Ms)) ms, p99 \(number(latencies.p99Ms)) ms")
        }
        if result.transportErrors > 0 {
            lines.append("  no answer: \(result.transportErrors) (\(result.transportErrorSamples.joined(separator: "; ")))")
        }
        if result.missingRetryAfter > 0 { lines.append("  refusals without Retry-After: \(result.missingRetryAfter)") }
        if !result.batchSizes.isEmpty {
            let sizes = result.batchSizes.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map { "\($0.key): \($0.value)" }
            lines.append("  answers by batch size: \(sizes.joined(separator: ", ")); mean \(number(result.meanBatchSize))")
        }
        return lines.joined(separator: "\n")
    }
}
