import Testing
@testable import Engine

/// Active and inactive maps compared only against the N highest-scoring other classes: on a
/// model with 100 classes, measure how many pixels the approximation changes, and check what
/// must hold whatever the numbers: fewer comparisons can only add winning elements, so the
/// approximate map is ≥ the exact one everywhere, shrinks as N grows, and is exact at N = K
/// (up to float rounding: each N is a separate backward pass, so values agree to ~1e-7).
@Suite struct TopClassApproximationTests {
    @Test(arguments: [SaliencyMethod.active, .inactive])
    func approximationOnAHundredClasses(_ method: SaliencyMethod) throws {
        let model = try CompiledModel(PaperCNN.graph(channels: 3, height: 32, width: 32, classes: 100, seed: 5))
        let batch = 2
        let workspace = Workspace(model: model, maxBatch: batch)
        var random = SeededGenerator(seed: 6)
        try workspace.forward(random.uniform(count: batch * model.inputCount, in: 0...1), batch: batch)
        try workspace.backward(.allClasses)
        let exact = (0..<batch).map { SaliencyMaps.compute(method, workspace: workspace, frame: $0)! }

        var previous: [[Float]]? = nil
        var report: [String] = []
        for n in [2, 5, 10, 25, 50, 100] {
            try workspace.backward(.topClasses(n))
            #expect(SaliencyMaps.compute(method, workspace: workspace, frame: 0) == nil || n == 100,
                    "an approximate map must be asked for explicitly")
            let approximate = (0..<batch).map { SaliencyMaps.compute(method, workspace: workspace, frame: $0, approximate: true)! }
            var changed = 0
            for frame in 0..<batch {
                let slack = 1e-5 * (exact[frame].max() ?? 0)
                for p in exact[frame].indices {
                    #expect(approximate[frame][p] >= exact[frame][p] - slack, "N = \(n): the approximation removed a pixel")
                    if let previous {
                        #expect(approximate[frame][p] <= previous[frame][p] + slack, "N = \(n) added a pixel over a smaller N")
                    }
                    if abs(approximate[frame][p] - exact[frame][p]) > slack { changed += 1 }
                }
            }
            let pixels = batch * exact[0].count
            report.append("N = \(n): \(changed) of \(pixels) pixels (\(String(format: "%.1f", 100 * Double(changed) / Double(pixels))) %) differ")
            if n == 100 { #expect(changed == 0) }
            previous = approximate
        }
        print("top-N approximation of \(method) on a 100-class model: " + report.joined(separator: "; "))
    }
}
