// Per-client rate limiting: a token bucket for each client address, refilled at a steady rate up to a burst.
// Requests that compute or write (every method but GET, HEAD and OPTIONS) take a token; beyond the burst they
// get 429 with Retry-After. Pages, health probes and metrics stay reachable while a client is refused.
import Foundation
import HTTPTypes
import Hummingbird
import Inference
import Synchronization

/// How many requests a client may make: `perSecond` on average, `burst` at once.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        precondition(perSecond > 0 && burst >= 1, "a rate limit needs a positive rate and a burst of at least 1")
        self.perSecond = perSecond
        self.burst = burst
    }
}

final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: RateLimit
    /// Buckets kept at most; beyond it, those of clients that are back to a full burst are forgotten.
    let maximumClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(limit: RateLimit, maximumClients: Int = 100_000) {
        self.limit = limit
        self.maximumClients = maximumClients
    }

    /// Takes one token from `client`'s bucket; nil when admitted, else how long until a token is there.
    func admit(_ client: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + limit.perSecond * (now - bucket.updated).seconds)
            bucket.updated = now
            defer {
                buckets[client] = bucket
                if buckets.count > maximumClients { prune(&buckets, now: now) }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .seconds((1 - bucket.tokens) / limit.perSecond)
        }
    }

    var clientCount: Int { buckets.withLock { $0.count } }

    private func prune(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { $0.value.tokens + limit.perSecond * (now - $0.value.updated).seconds < limit.burst }
    }
}

struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let limiter: RateLimiter

    /// Reading is never limited: pages, images, health probes and metrics.
    static func isExempt(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !Self.isExempt(request.method), let wait = limiter.admit(context.clientKey) else {
            return try await next(request, context)
        }
        throw APIError.rateLimited(retryAfter: max(1, Int(wait.seconds.rounded(.up))), limit: limiter.limit)
    }
}
