// Long analyses (probes, explanations: hundreds of inferences each) run here, a few at a time on their own threads,
// with a bounded line of waiting jobs; beyond it a caller is refused at once with an estimate of when to retry.
// It keeps them off network event loops and Swift's cooperative threads. Not HTTP: the web app maps its errors.
import Foundation

public enum AnalysisQueueError: Error, Equatable, CustomStringConvertible {
    /// Every running slot and waiting place is taken; try again after about `retryAfterSeconds`.
    case busy(inProgress: Int, retryAfterSeconds: Int)

    public var description: String {
        switch self {
        case let .busy(inProgress, retryAfterSeconds):
            "the server is busy with \(inProgress) analyses; retry in \(retryAfterSeconds) s"
        }
    }
}

public final class AnalysisQueue: @unchecked Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Analyses that run at the same time.
        public var concurrent: Int
        /// Analyses that may wait for a slot; more are refused.
        public var waiting: Int

        public init(concurrent: Int = 1, waiting: Int = 4) {
            precondition(concurrent >= 1 && waiting >= 0)
            self.concurrent = concurrent
            self.waiting = waiting
        }
    }

    public let configuration: Configuration
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    // Guarded by `lock`.
    private var inProgress = 0
    private var secondsPerJob = 5.0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        slots = DispatchSemaphore(value: configuration.concurrent)
    }

    /// Analyses admitted (running or waiting).
    public var depth: Int {
        lock.withLock { inProgress }
    }

    /// Runs `work` on a thread of its own once a slot is free, or refuses at once when the line is full.
    public func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try admit()
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { [self] in
                WorkPriority.lowerCurrentThread()
                slots.wait()
                let start = ContinuousClock.now
                let outcome = Result { try work() }
                slots.signal()
                lock.withLock {
                    secondsPerJob = 0.7 * secondsPerJob + 0.3 * (ContinuousClock.now - start).seconds
                    inProgress -= 1
                }
                continuation.resume(with: outcome)
            }
            thread.name = "blindspot.analysis"
            thread.start()
        }
    }

    private func admit() throws(AnalysisQueueError) {
        lock.lock()
        defer { lock.unlock() }
        guard inProgress < configuration.concurrent + configuration.waiting else {
            let rounds = Double(inProgress) / Double(configuration.concurrent)
            throw .busy(inProgress: inProgress, retryAfterSeconds: max(1, Int((rounds * secondsPerJob).rounded(.up))))
        }
        inProgress += 1
    }
}
