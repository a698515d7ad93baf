/// Places buffers with known lifetimes in one arena so that buffers alive at the same time never
/// overlap and the others share memory (used for the backward pass's gradients, each of which
/// lives from its first write to its producer's VJP).
struct BufferPlanner {
    /// A request: `count` floats alive from step `first` through step `last` (inclusive).
    struct Request {
        var count: Int
        var first: Int
        var last: Int
    }

    /// Offsets are multiples of this many floats (64 bytes).
    static let alignment = 16

    /// The offset of each request and the arena size, placing larger buffers first at the lowest
    /// offset that is free for their whole lifetime.
    static func plan(_ requests: [Request]) -> (offsets: [Int], size: Int) {
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        let order = requests.indices.sorted { (requests[$0].count, $1) > (requests[$1].count, $0) }
        var size = 0
        for index in order {
            let request = requests[index]
            let length = (request.count + alignment - 1) / alignment * alignment
            // Intervals of memory already taken during this request's lifetime, by offset.
            let busy = placed
                .filter { requests[$0].first <= request.last && request.first <= requests[$0].last }
                .map { (start: offsets[$0], end: offsets[$0] + requests[$0].count) }
                .sorted { $0.start < $1.start }
            var candidate = 0
            for interval in busy {
                if candidate + length <= interval.start { break }
                candidate = max(candidate, (interval.end + alignment - 1) / alignment * alignment)
            }
            offsets[index] = candidate
            placed.append(index)
            size = max(size, candidate + length)
        }
        return (offsets, size)
    }
}
