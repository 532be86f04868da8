// Work on a chunk of images started on background threads (decoding while the previous chunk is classified), its
// results collected in chunk order. Evaluation and discovery read folders this way.
import Foundation

final class PendingResults<Value: Sendable>: @unchecked Sendable {
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var results: [Result<Value, any Error>?]

    private init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    /// Runs `work` for items 0..<count on `lanes` threads; `wait()` gives every outcome in item order.
    static func start(count: Int, lanes: Int = 2, _ work: @escaping @Sendable (Int) throws -> Value) -> PendingResults<Value> {
        let pending = PendingResults(count: count)
        let queue = DispatchQueue(label: "blindspot.background-decode", attributes: .concurrent)
        for lane in 0..<lanes {
            pending.group.enter()
            queue.async {
                for index in stride(from: lane, to: count, by: lanes) {
                    let outcome = Result { try work(index) }
                    pending.lock.withLock { pending.results[index] = outcome }
                }
                pending.group.leave()
            }
        }
        return pending
    }

    /// Every outcome, in item order, once all are done.
    func wait() -> [Result<Value, any Error>] {
        group.wait()
        return lock.withLock { results.map { $0 ?? .failure(CancellationError()) } }
    }
}
