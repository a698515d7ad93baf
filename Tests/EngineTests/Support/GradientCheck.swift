import Testing
@testable import Engine

/// Checks a graph against a double-precision reference of its forward pass:
///
/// 1. the forward output of a batch of random frames equals the reference, frame by frame;
/// 2. the VJP for `cotangents` random cotangent vectors per frame (one backward pass for the
///    whole batch) equals central finite differences of `⟨u, reference(x)⟩` computed in double.
///
/// Returns the input batch and the engine's gradient, for further checks.
@discardableResult
func checkGraph(
    _ graph: Graph, reference: ([Double]) -> [Double], batch: Int = 2, cotangents: Int = 3, seed: UInt64 = 1,
    inputRange: ClosedRange<Float> = -1...1, forwardTolerance: Double = 1e-5, gradientTolerance: Double = 1e-4,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (input: [Float], gradient: [Float]) {
    let model = try CompiledModel(graph)
    let workspace = Workspace(model: model, maxBatch: batch, maxCotangents: cotangents)
    var random = SeededGenerator(seed: seed)
    let frame = model.inputCount
    let input = random.uniform(count: batch * frame, in: inputRange)
    try workspace.forward(input, batch: batch)

    let outputCount = model.tensorShapes[model.outputTensor].elementCount
    for b in 0..<batch {
        let expected = reference(input[(b * frame)..<((b + 1) * frame)].map(Double.init))
        let actual = Array(workspace.outputs[(b * outputCount)..<((b + 1) * outputCount)])
        expectCloseRelativeToMax(actual, expected, tolerance: forwardTolerance, "forward, frame \(b)",
                                 sourceLocation: sourceLocation)
    }

    // Cotangents are taken at the logits (the output here: these graphs do not end in softmax).
    let classes = model.classCount
    #expect(model.logitsTensor == model.outputTensor, sourceLocation: sourceLocation)
    let vectors = random.uniform(count: batch * cotangents * classes, in: -1...1)
    try vectors.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: cotangents)) }
    let gradient = Array(workspace.inputGradient)
    #expect(gradient.count == batch * cotangents * frame, sourceLocation: sourceLocation)

    for b in 0..<batch {
        let x = input[(b * frame)..<((b + 1) * frame)].map(Double.init)
        for k in 0..<cotangents {
            let row = b * cotangents + k
            let u = vectors[(row * classes)..<((row + 1) * classes)].map(Double.init)
            func objective(_ point: [Double]) -> Double { zip(u, reference(point)).reduce(0) { $0 + $1.0 * $1.1 } }
            var numeric = [Double](repeating: 0, count: frame)
            var point = x
            for i in 0..<frame {
                let h = 1e-6 * max(1, abs(x[i]))
                point[i] = x[i] + h
                let plus = objective(point)
                point[i] = x[i] - h
                let minus = objective(point)
                point[i] = x[i]
                numeric[i] = (plus - minus) / (2 * h)
            }
            expectCloseRelativeToMax(gradient[(row * frame)..<((row + 1) * frame)], numeric,
                                     tolerance: gradientTolerance, "VJP, frame \(b), cotangent \(k)",
                                     sourceLocation: sourceLocation)
        }
    }
    return (input, gradient)
}

/// A graph of one operator applied to the input.
func singleNodeGraph(_ op: any Operator, inputShape: TensorShape) -> Graph {
    var builder = GraphBuilder(name: "\(op.typeName)-test", inputShape: inputShape)
    builder.add(op, builder.input, name: "node")
    return builder.build()
}

/// Random constants for test operators.
func randomTensor(_ shape: TensorShape, seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
    var random = SeededGenerator(seed: seed)
    return Tensor(shape: shape, values: random.uniform(count: shape.elementCount, in: range))
}

/// Runs `model` forward and backward (3 random cotangents per frame) on one thread and on 3, for
/// batches of 1 and 4, and expects the same outputs and input gradients (to 1e-6 of the largest).
func expectThreadsMatchOneThread(_ model: CompiledModel, _ comment: String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    var random = SeededGenerator(seed: 5)
    for batch in [1, 4] {
        let input = random.uniform(count: batch * model.inputCount, in: -1...1)
        let cotangents = random.uniform(count: batch * 3 * model.classCount, in: -1...1)
        var results: [[Float]] = []
        for threads in [1, 3] {
            let workspace = Workspace(model: model, maxBatch: batch, maxCotangents: 3, threads: threads)
            try workspace.forward(input, batch: batch)
            try cotangents.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 3)) }
            results.append(Array(workspace.outputs) + Array(workspace.inputGradient))
        }
        expectCloseRelativeToMax(results[1], results[0], tolerance: 1e-6, "\(comment)batch \(batch)",
                                 sourceLocation: sourceLocation)
    }
}
