import Engine
import Foundation

/// Per-image times of the three passes `bench` and `demo` report, on one workspace and input.
struct EngineTimings {
    /// Median and 10th/90th percentiles, in milliseconds per image.
    struct Sample {
        var median: Double
        var p10: Double
        var p90: Double
    }

    var forward: Sample
    var gradient: Sample
    var jacobian: Sample

    /// Times forward; forward + one gradient (predicted class); forward + the whole Jacobian —
    /// each `repeats` times after two warm-up runs.
    static func measure(_ workspace: Workspace, input: [Float], batch: Int, repeats: Int,
                        clock: TimingClock = .wall) throws -> EngineTimings {
        func sample(_ body: () throws -> Void) throws -> Sample {
            try body()
            try body()
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = clock.nanoseconds()
                try body()
                times.append(Double(clock.nanoseconds() - start) / 1e6 / Double(batch))
            }
            times.sort()
            func quantile(_ q: Double) -> Double { times[min(times.count - 1, Int((Double(times.count - 1) * q).rounded()))] }
            return Sample(median: quantile(0.5), p10: quantile(0.1), p90: quantile(0.9))
        }
        return EngineTimings(
            forward: try sample { try workspace.forward(input, batch: batch) },
            gradient: try sample {
                try workspace.forward(input, batch: batch)
                try workspace.backward(.predictedClass)
            },
            jacobian: try sample {
                try workspace.forward(input, batch: batch)
                try workspace.backward(.allClasses)
            })
    }
}
