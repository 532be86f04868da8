// Places buffers with known lifetimes in one arena so that buffers alive at the same time never overlap.
// Greedy by size, lowest fitting offset first (as TensorFlow Lite's arena planner); pure arithmetic, no oneDNN.

struct ArenaPlanner {
    struct Request {
        let byteCount: Int
        /// The first and last step that touch the buffer, inclusive; a buffer no step touches has first > last.
        let firstStep: Int
        let lastStep: Int

        func overlapsInTime(_ other: Request) -> Bool {
            firstStep <= other.lastStep && other.firstStep <= lastStep
        }
    }

    static let alignment = 64

    /// Byte offsets, one per request, and the arena size they need.
    static func place(_ requests: [Request]) -> (offsets: [Int], arenaSize: Int) {
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        let order = requests.indices.filter { requests[$0].firstStep <= requests[$0].lastStep }.sorted { requests[$0].byteCount > requests[$1].byteCount || (requests[$0].byteCount == requests[$1].byteCount && $0 < $1) }
        var arenaSize = 0
        for index in order {
            let size = aligned(requests[index].byteCount)
            let neighbours = placed.filter { requests[$0].overlapsInTime(requests[index]) }.sorted { offsets[$0] < offsets[$1] }
            var candidate = 0
            for neighbour in neighbours {
                if candidate + size <= offsets[neighbour] { break }
                candidate = max(candidate, offsets[neighbour] + aligned(requests[neighbour].byteCount))
            }
            offsets[index] = candidate
            arenaSize = max(arenaSize, candidate + size)
            placed.append(index)
        }
        return (offsets, arenaSize)
    }

    static func aligned(_ byteCount: Int) -> Int {
        (byteCount + alignment - 1) / alignment * alignment
    }
}
