import ArgumentParser
import Engine
import Foundation

/// `saliencyd demo`: builds the paper's CNN in code, runs forward + Jacobian on a synthetic input
/// and prints the prediction, timings and map statistics.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the paper's CNN (built in code, seeded weights) on a synthetic input.")

    @Option(help: "Input channels.") var channels = 1
    @Option(help: "Input height and width.") var size = 28
    @Option(help: "Number of classes.") var classes = 10
    @Option(help: "Frames per batch.") var batch = 1
    @Option(help: "Timed repetitions (after one warm-up).") var repeats = 20

    func validate() throws {
        guard channels > 0, size >= 16, classes > 0, batch > 0, repeats > 0 else {
            throw ValidationError("channels, classes, batch and repeats must be positive and size at least 16")
        }
    }

    func run() throws {
        let graph = PaperCNN.graph(channels: channels, height: size, width: size, classes: classes)
        let model = try CompiledModel(graph)
        let workspace = Workspace(model: model, maxBatch: batch)
        let input = DemoInput.pattern(batch: batch, channels: channels, size: size)
        let parameters = model.nodes.reduce(0) { $0 + DemoInput.parameterCount($1.op) }
        print("model      \(model.name): \(model.nodes.count) nodes, \(parameters) parameters, input \(model.inputShape), \(model.classCount) classes")
        print("workspace  \(workspace.allocationCount) allocations, \(workspace.allocatedBytes / 1024) KiB for batch \(batch) × \(workspace.maxCotangents) cotangents")

        let timings = try EngineTimings.measure(workspace, input: input, batch: batch, repeats: repeats)
        try workspace.forward(input, batch: batch)
        try workspace.backward(.allClasses)

        for frame in 0..<batch {
            let logits = Array(workspace.logits[(frame * classes)..<((frame + 1) * classes)])
            let predicted = workspace.predictedClass(frame: frame)
            let maximum = logits.max()!
            let probability = 1 / logits.reduce(Float(0)) { $0 + expf($1 - maximum) }
            print("frame \(frame)    predicted class \(predicted), logit \(String(format: "%.4f", logits[predicted])), softmax \(String(format: "%.4f", probability))")
        }
        let perImage = { (sample: EngineTimings.Sample) in String(format: "%8.3f ms", sample.median) }
        print("timing     median per image over \(repeats) runs (batch \(batch)):")
        print("           forward             \(perImage(timings.forward))")
        // The default methods (the paper's five maps) time both passes.
        if let gradient = timings.gradient { print("           forward + gradient  \(perImage(gradient))   (+ vanilla, positive, negative maps)") }
        if let jacobian = timings.jacobian {
            print("           forward + Jacobian  \(perImage(jacobian))   (\(classes) classes, one backward pass, + the five maps)")
        }

        print("maps       frame 0, raw values (H×W = \(size)×\(size)):")
        print("           method        min          max          mean      non-zero")
        for method in SaliencyMethod.allCases {
            guard let map = SaliencyMaps.compute(method, workspace: workspace, frame: 0) else { continue }
            let mean = map.reduce(0, +) / Float(map.count)
            let nonZero = Double(map.filter { $0 != 0 }.count) / Double(map.count) * 100
            print("           " + method.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%12.4e %12.4e %12.4e %8.1f %%", map.min()!, map.max()!, mean, nonZero))
        }
    }
}

/// The demo's synthetic input and small helpers.
enum DemoInput {
    /// A smooth, deterministic pattern in [0, 1]: a bright ring around the centre on a dark
    /// background, shifted per frame and channel.
    static func pattern(batch: Int, channels: Int, size: Int) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(batch * channels * size * size)
        for frame in 0..<batch {
            for channel in 0..<channels {
                for y in 0..<size {
                    for x in 0..<size {
                        let dx = Float(x) - Float(size) / 2 + Float(frame), dy = Float(y) - Float(size) / 2 + Float(channel)
                        let radius = (dx * dx + dy * dy).squareRoot() / Float(size)
                        values.append(max(0, 1 - abs(radius - 0.3) * 6))
                    }
                }
            }
        }
        return values
    }

    static func parameterCount(_ op: any Operator) -> Int {
        switch op {
        case let conv as ConvolutionOperator: conv.weights.values.count + (conv.bias?.count ?? 0)
        case let gemm as GemmOperator: gemm.weights.values.count + (gemm.bias?.values.count ?? 0)
        case let matmul as MatMulOperator: matmul.weights.values.count
        default: 0
        }
    }

}
