// The queue of long analyses: at most `concurrent` run at once, at most `waiting` more wait, and the next is
// refused at once with a Retry-After estimate; answers and errors come back to their callers.
import Foundation
import Inference
import Testing

@Suite struct AnalysisQueueTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private(set) var most = 0
        func enter() { lock.withLock { running += 1; most = max(most, running) } }
        func leave() { lock.withLock { running -= 1 } }
        var peak: Int { lock.withLock { most } }
    }

    struct Failure: Error {}

    @Test func boundsRunningAndWaitingAndRefusesTheRestAtOnce() async throws {
        let queue = AnalysisQueue(configuration: .init(concurrent: 2, waiting: 1))
        let gate = DispatchSemaphore(value: 0)
        let counter = Counter()
        let jobs = (0..<3).map { number in
            Task {
                try await queue.run { () -> String in
                    counter.enter()
                    defer { counter.leave() }
                    gate.wait()
                    return "job \(number)"
                }
            }
        }
        while queue.depth < 3 { try await Task.sleep(for: .milliseconds(5)) }
        let started = ContinuousClock.now
        await #expect(throws: AnalysisQueueError.self) { try await queue.run { 42 } }
        #expect(ContinuousClock.now - started < .milliseconds(50))
        do {
            _ = try await queue.run { 42 }
        } catch let AnalysisQueueError.busy(inProgress, retryAfterSeconds) {
            #expect(inProgress == 3 && retryAfterSeconds >= 1)
        }
        // Two start at once; the third waits for a slot.
        let deadline = ContinuousClock.now + .seconds(10)
        while counter.peak < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(counter.peak == 2, "two run at the same time")
        for _ in 0..<3 { gate.signal() }
        var answers: [String] = []
        for job in jobs { answers.append(try await job.value) }
        #expect(answers == ["job 0", "job 1", "job 2"])
        #expect(counter.peak == 2, "never more than two at once")
        #expect(queue.depth == 0)
        await #expect(throws: Failure.self) { try await queue.run { throw Failure() } }
        #expect(try await queue.run { 7 } == 7)
    }
}
