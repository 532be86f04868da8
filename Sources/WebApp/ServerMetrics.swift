// The server's Prometheus metrics: requests by route and status, request latency, and per model the queue
// depth, batch sizes and inference time. One registry per application (no global metrics system).
import Foundation
import Hummingbird
import Inference
import Prometheus

public final class ServerMetrics: BatchSchedulerObserver, Sendable {
    public init() {}

    let registry = PrometheusCollectorRegistry()
    private static let latencyBuckets: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { .microseconds(Int64($0 * 1000)) }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "blindspot", metricName: metric, unitName: unit, helpText: help)
    }

    private static var requests: MetricNameDescriptor { name("http_requests", unit: "total", help: "HTTP requests answered, by route, method and status") }
    private static var requestDuration: MetricNameDescriptor { name("http_request_duration", unit: "seconds", help: "Time from request to response head, by route") }
    private static var batchSize: MetricNameDescriptor { name("batch_size", unit: "images", help: "Images per inference batch") }
    private static var inferenceDuration: MetricNameDescriptor { name("inference_duration", unit: "seconds", help: "Inference time of one batch") }
    private static var queueDepth: MetricNameDescriptor { name("queue_depth", unit: "images", help: "Images admitted and not yet answered (decoding, waiting or in inference)") }

    func requestCompleted(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    public func batchCompleted(model: String, size: Int, milliseconds: Double) {
        registry.makeValueHistogram(descriptor: Self.batchSize, labels: [("model", model)], buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32])
            .record(Double(size))
        registry.makeDurationHistogram(descriptor: Self.inferenceDuration, labels: [("model", model)], buckets: Self.latencyBuckets)
            .record(.microseconds(Int64(milliseconds * 1000)))
    }

    public func queueDepthChanged(model: String, depth: Int) {
        registry.makeGauge(descriptor: Self.queueDepth, labels: [("model", model)]).set(Double(depth))
    }
}

/// Counts and times every request under the route pattern that answered it (not the raw path, so that
/// /examples/1 and /examples/2 share one series).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.requestCompleted(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                                     status: response.status.code, duration: .now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.requestCompleted(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                                     status: status, duration: .now - start)
            throw error
        }
    }
}
