// Stopping without failing what was admitted: once draining (SIGTERM), /readyz answers 503 so a load balancer stops
// sending, new requests get 503 shutting_down with Retry-After, and the server waits for the requests it admitted.
import Hummingbird
import Synchronization

/// Which requests are in flight, and whether the server has begun to stop. One per server, passed in.
public final class ServerDrain: Sendable {
    private struct State {
        var draining = false
        var inFlight = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isDraining: Bool { state.withLock { $0.draining } }
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// From now on, nothing new is admitted.
    public func begin() {
        state.withLock { $0.draining = true }
    }

    /// Counts a request in; false (not counted) once draining.
    func admit() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    func finish() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Waits until no admitted request is in flight, or `grace` has passed; how many were still in flight.
    public func waitUntilIdle(within grace: Duration) async -> Int {
        let deadline = ContinuousClock.now + grace
        while inFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return inFlight
    }
}

/// Admits requests through `drain`; health and metrics answer while draining (/readyz with 503).
struct DrainMiddleware<Context: RequestContext>: RouterMiddleware {
    let drain: ServerDrain
    static var alwaysAnswered: Set<String> { ["/healthz", "/readyz", "/metrics"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.alwaysAnswered.contains(request.uri.path) { return try await next(request, context) }
        guard drain.admit() else {
            throw APIError(status: .serviceUnavailable, code: "shutting_down",
                           message: "this server is stopping; nothing was done: send the request again (another replica will take it)", retryAfter: 1)
        }
        defer { drain.finish() }
        return try await next(request, context)
    }
}
