import ArgumentParser
import Engine
import Foundation

/// Per-image times of the three passes `bench` and `demo` report, on one workspace and input,
/// each including the saliency maps it serves (computed as the serve workers compute them).
struct EngineTimings {
    /// Median and 10th/90th percentiles, in milliseconds per image.
    struct Sample {
        var median: Double
        var p10: Double
        var p90: Double
    }

    var forward: Sample
    /// Forward + the predicted class's gradient + the selected maps that need only it; `nil`
    /// when every selected map needs the Jacobian.
    var gradient: Sample?
    /// Forward + the whole Jacobian + every selected map; `nil` when no selected map needs it.
    var jacobian: Sample?
    /// The median time of the maps alone within ``gradient`` and ``jacobian`` (ms per image;
    /// computed on the calling thread after the backward pass, part of the pass's time).
    var gradientMaps: Double?
    var jacobianMaps: Double?

    /// The paper's five maps: `bench`'s and `demo`'s default.
    static let paperMethods: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive]

    /// Times forward; forward + one gradient (predicted class) + the selected one-gradient maps
    /// of every frame; forward + the whole Jacobian + all selected maps of every frame — each
    /// `repeats` times after two warm-up runs.
    static func measure(_ workspace: Workspace, input: [Float], batch: Int, repeats: Int,
                        methods: [SaliencyMethod] = paperMethods, clock: TimingClock = .wall) throws -> EngineTimings {
        /// The pass's times, and the median of the part `body` reports (its maps' nanoseconds).
        func sample(_ body: () throws -> UInt64) throws -> (times: Sample, part: Double) {
            _ = try body()
            _ = try body()
            var times: [Double] = [], parts: [Double] = []
            for _ in 0..<repeats {
                let start = clock.nanoseconds()
                let part = try body()
                times.append(Double(clock.nanoseconds() - start) / 1e6 / Double(batch))
                parts.append(Double(part) / 1e6 / Double(batch))
            }
            times.sort()
            parts.sort()
            func quantile(_ values: [Double], _ q: Double) -> Double {
                values[min(values.count - 1, Int((Double(values.count - 1) * q).rounded()))]
            }
            return (Sample(median: quantile(times, 0.5), p10: quantile(times, 0.1), p90: quantile(times, 0.9)),
                    quantile(parts, 0.5))
        }
        /// Every frame's maps of `methods`, and the nanoseconds they took; a map the pass cannot
        /// give is an error, not a skip.
        func maps(_ methods: [SaliencyMethod]) throws -> UInt64 {
            let start = clock.nanoseconds()
            for frame in 0..<batch {
                for method in methods where SaliencyMaps.compute(method, workspace: workspace, frame: frame) == nil {
                    throw EngineTimingsError.mapUnavailable(method)
                }
            }
            return clock.nanoseconds() - start
        }
        let oneGradient = methods.filter { !$0.needsJacobian }
        let forward = try sample {
            try workspace.forward(input, batch: batch)
            return 0
        }.times
        let gradient = oneGradient.isEmpty ? nil : try sample {
            try workspace.forward(input, batch: batch)
            try workspace.backward(.predictedClass)
            return try maps(oneGradient)
        }
        let jacobian = !methods.contains(where: \.needsJacobian) ? nil : try sample {
            try workspace.forward(input, batch: batch)
            try workspace.backward(.allClasses)
            return try maps(methods)
        }
        return EngineTimings(forward: forward, gradient: gradient?.times, jacobian: jacobian?.times,
                             gradientMaps: gradient?.part, jacobianMaps: jacobian?.part)
    }
}

enum EngineTimingsError: Error, CustomStringConvertible {
    case mapUnavailable(SaliencyMethod)

    var description: String {
        switch self {
        case let .mapUnavailable(method): "the timed pass could not give the \(method.rawValue) map"
        }
    }
}
