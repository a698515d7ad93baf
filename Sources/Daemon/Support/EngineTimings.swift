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

    /// The paper's five maps: `bench`'s and `demo`'s default.
    static let paperMethods: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive]

    /// Times forward; forward + one gradient (predicted class) + the selected one-gradient maps
    /// of every frame; forward + the whole Jacobian + all selected maps of every frame — each
    /// `repeats` times after two warm-up runs.
    static func measure(_ workspace: Workspace, input: [Float], batch: Int, repeats: Int,
                        methods: [SaliencyMethod] = paperMethods, clock: TimingClock = .wall) throws -> EngineTimings {
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
        /// Every frame's maps of `methods`; a map the pass cannot give is an error, not a skip.
        func maps(_ methods: [SaliencyMethod]) throws {
            for frame in 0..<batch {
                for method in methods where SaliencyMaps.compute(method, workspace: workspace, frame: frame) == nil {
                    throw EngineTimingsError.mapUnavailable(method)
                }
            }
        }
        let oneGradient = methods.filter { !$0.needsJacobian }
        let forward = try sample { try workspace.forward(input, batch: batch) }
        let gradient = oneGradient.isEmpty ? nil : try sample {
            try workspace.forward(input, batch: batch)
            try workspace.backward(.predictedClass)
            try maps(oneGradient)
        }
        let jacobian = !methods.contains(where: \.needsJacobian) ? nil : try sample {
            try workspace.forward(input, batch: batch)
            try workspace.backward(.allClasses)
            try maps(methods)
        }
        return EngineTimings(forward: forward, gradient: gradient, jacobian: jacobian)
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
