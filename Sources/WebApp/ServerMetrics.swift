// The server's Prometheus metrics: requests by route and status, request latency, and per model the queue
// depth, batch sizes and inference time; every series names its replica. One registry per application.
import Foundation
import Hummingbird
import Inference
import Prometheus

public final class ServerMetrics: BatchSchedulerObserver, Sendable {
    /// This server's name, the `replica` label of every series, so that a dashboard over several replicas can tell
    /// them apart even where the scraper adds no pod or instance label.
    let replica: String

    public init(replica: String = "local") {
        self.replica = replica
    }

    let registry = PrometheusCollectorRegistry()
    private static let latencyBuckets: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { .microseconds(Int64($0 * 1000)) }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "blindspot", metricName: metric, unitName: unit, helpText: help)
    }

    private static var requests: MetricNameDescriptor { name("http_requests", unit: "total", help: "HTTP requests answered, by route, method and status") }
    private static var requestDuration: MetricNameDescriptor { name("http_request_duration", unit: "seconds", help: "Time from request to response head, by route") }
    private static var batchSize: MetricNameDescriptor { name("batch_size", unit: "images", help: "Images per inference batch") }
    private static var inferenceDuration: MetricNameDescriptor { name("inference_duration", unit: "seconds", help: "Inference time of one batch") }
    private static var draining: MetricNameDescriptor { name("draining", unit: "", help: "1 once the server received SIGTERM and admits nothing new") }
    private static var inFlight: MetricNameDescriptor { name("requests_in_flight", unit: "", help: "Requests admitted and not yet answered") }
    private static var queueDepth: MetricNameDescriptor { name("queue_depth", unit: "images", help: "Images admitted and not yet answered (decoding, waiting or in inference)") }

    func requestCompleted(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("replica", replica), ("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: [("replica", replica), ("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// The drain's state, read when /metrics is asked for.
    func serverState(draining: Bool, inFlight: Int) {
        registry.makeGauge(descriptor: Self.draining, labels: [("replica", replica)]).set(draining ? 1.0 : 0.0)
        registry.makeGauge(descriptor: Self.inFlight, labels: [("replica", replica)]).set(Double(inFlight))
    }

    public func batchCompleted(model: String, size: Int, milliseconds: Double) {
        registry.makeValueHistogram(descriptor: Self.batchSize, labels: [("replica", replica), ("model", model)], buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32])
            .record(Double(size))
        registry.makeDurationHistogram(descriptor: Self.inferenceDuration, labels: [("replica", replica), ("model", model)], buckets: Self.latencyBuckets)
            .record(.microseconds(Int64(milliseconds * 1000)))
    }

    public func queueDepthChanged(model: String, depth: Int) {
        registry.makeGauge(descriptor: Self.queueDepth, labels: [("replica", replica), ("model", model)]).set(Double(depth))
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
