import Testing
@testable import Engine

@Suite struct WorkspaceTests {
    static let models: [String] = ["mixed", "paper-cnn"]

    private func model(_ name: String) throws -> CompiledModel {
        name == "mixed" ? try CompiledModel(TestGraphs.mixed())
            : try CompiledModel(PaperCNN.graph(channels: 1, height: 28, width: 28, classes: 10))
    }

    private func input(_ model: CompiledModel, batch: Int, seed: UInt64 = 3) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return random.uniform(count: batch * model.inputCount, in: 0...1)
    }

    /// The whole Jacobian from one backward pass equals `K` backward passes of one class each.
    @Test(arguments: models)
    func jacobianEqualsOneBackwardPassPerClass(_ name: String) throws {
        let model = try model(name)
        let batch = 2, classes = model.classCount, frame = model.inputCount
        let workspace = Workspace(model: model, maxBatch: batch)
        try workspace.forward(input(model, batch: batch), batch: batch)
        try workspace.backward(.allClasses)
        let jacobian = Array(workspace.inputGradient)
        #expect(jacobian.count == batch * classes * frame)
        for k in 0..<classes {
            try workspace.backward(.classes([k]))
            for b in 0..<batch {
                let single = Array(workspace.inputGradient[(b * frame)..<((b + 1) * frame)])
                let row = jacobian[((b * classes + k) * frame)..<((b * classes + k + 1) * frame)]
                expectCloseRelativeToMax(row, single, tolerance: 1e-5, "class \(k), frame \(b)")
            }
        }
    }

    /// A batch of frames gives the same logits and Jacobians as the frames one at a time.
    @Test(arguments: models)
    func aBatchEqualsSingleFrames(_ name: String) throws {
        let model = try model(name)
        let batch = 3, classes = model.classCount, frame = model.inputCount
        let frames = input(model, batch: batch, seed: 8)
        let batched = Workspace(model: model, maxBatch: batch)
        try batched.forward(frames, batch: batch)
        try batched.backward(.allClasses)
        let single = Workspace(model: model, maxBatch: 1)
        for b in 0..<batch {
            try single.forward(Array(frames[(b * frame)..<((b + 1) * frame)]), batch: 1)
            try single.backward(.allClasses)
            expectCloseRelativeToMax(batched.logits[(b * classes)..<((b + 1) * classes)], Array(single.logits),
                                     tolerance: 1e-5, "logits, frame \(b)")
            expectCloseRelativeToMax(batched.inputGradient[(b * classes * frame)..<((b + 1) * classes * frame)],
                                     Array(single.inputGradient), tolerance: 1e-5, "Jacobian, frame \(b)")
        }
    }

    /// The single-cotangent path carries exactly the predicted class's row of the Jacobian.
    @Test func predictedClassPathEqualsItsJacobianRow() throws {
        let model = try model("mixed")
        let batch = 3, classes = model.classCount, frame = model.inputCount
        let workspace = Workspace(model: model, maxBatch: batch)
        try workspace.forward(input(model, batch: batch, seed: 5), batch: batch)
        try workspace.backward(.allClasses)
        let jacobian = Array(workspace.inputGradient)
        try workspace.backward(.predictedClass)
        #expect(workspace.cotangentsPerFrame == 1)
        for b in 0..<batch {
            let k = workspace.predictedClass(frame: b)
            #expect(workspace.cotangentClass(frame: b, cotangent: 0) == k)
            let logits = workspace.logits[(b * classes)..<((b + 1) * classes)]
            #expect(logits[b * classes + k] == logits.max())
            expectCloseRelativeToMax(workspace.inputGradient[(b * frame)..<((b + 1) * frame)],
                                     jacobian[((b * classes + k) * frame)..<((b * classes + k + 1) * frame)],
                                     tolerance: 1e-5)
        }
    }

    /// End to end: the Jacobian applied to a direction equals the central difference of the
    /// float forward pass along it (a wiring check across every operator of the mixed graph).
    @Test func jacobianMatchesDirectionalFiniteDifferences() throws {
        let model = try model("mixed")
        let frame = model.inputCount, classes = model.classCount
        let workspace = Workspace(model: model)
        let x = input(model, batch: 1, seed: 12)
        var random = SeededGenerator(seed: 13)
        let direction = random.uniform(count: frame, in: -1...1)
        try workspace.forward(x, batch: 1)
        try workspace.backward(.allClasses)
        let jacobian = Array(workspace.inputGradient)
        let predicted = (0..<classes).map { k in (0..<frame).reduce(Float(0)) { $0 + jacobian[k * frame + $1] * direction[$1] } }
        let h: Float = 1e-2
        try workspace.forward(zip(x, direction).map { $0 + h * $1 }, batch: 1)
        let plus = Array(workspace.logits)
        try workspace.forward(zip(x, direction).map { $0 - h * $1 }, batch: 1)
        let minus = Array(workspace.logits)
        let numeric = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        expectCloseRelativeToMax(predicted, numeric, tolerance: 2e-2)
    }

    /// Forward + Jacobian twice on one workspace: nothing is allocated after creation.
    @Test func steadyStateRunsAllocateNothing() throws {
        let model = try model("paper-cnn")
        let workspace = Workspace(model: model, maxBatch: 4)
        let allocations = workspace.allocationCount, bytes = workspace.allocatedBytes
        #expect(allocations > 0)
        for batch in [4, 2] {
            try workspace.forward(input(model, batch: batch), batch: batch)
            try workspace.backward(.allClasses)
            try workspace.backward(.predictedClass)
        }
        #expect(workspace.allocationCount == allocations)
        #expect(workspace.allocatedBytes == bytes)
    }

    /// Gradient buffers whose lifetimes do not overlap share memory: the arena is far smaller
    /// than one buffer per tensor.
    @Test func gradientBuffersShareMemory() {
        let requests: [BufferPlanner.Request] = [
            .init(count: 100, first: 0, last: 1), .init(count: 100, first: 1, last: 2),
            .init(count: 100, first: 2, last: 3), .init(count: 50, first: 0, last: 3), .init(count: 30, first: 3, last: 4),
        ]
        let (offsets, size) = BufferPlanner.plan(requests)
        for i in requests.indices {
            for j in requests.indices where i < j {
                let a = requests[i], b = requests[j]
                guard a.first <= b.last && b.first <= a.last else { continue }
                let disjoint = offsets[i] + a.count <= offsets[j] || offsets[j] + b.count <= offsets[i]
                #expect(disjoint, "requests \(i) and \(j) are alive together and overlap in memory")
            }
        }
        #expect(size < requests.reduce(0) { $0 + $1.count })
        #expect(offsets.allSatisfy { $0 % BufferPlanner.alignment == 0 })
    }

    @Test func badInputsAreErrorsNamingTheProblem() throws {
        let model = try model("mixed")
        let workspace = Workspace(model: model, maxBatch: 2, maxCotangents: 5)
        #expect(throws: EngineError.backwardWithoutForward) { try workspace.backward(.predictedClass) }
        #expect(throws: EngineError.inputShapeMismatch(expected: "1×3×12×12 (432 values)", actual: "431 values")) {
            try workspace.forward([Float](repeating: 0, count: 431), batch: 1)
        }
        var frames = [Float](repeating: 0.5, count: 2 * 432)
        frames[432 + 17] = .nan
        let nanError = #expect(throws: EngineError.self) { try workspace.forward(frames, batch: 2) }
        #expect(nanError?.description == "input frame 1 has a non-finite value (nan) at element 17")
        frames[432 + 17] = -.infinity
        let error = #expect(throws: EngineError.self) { try workspace.forward(frames, batch: 2) }
        #expect(error?.description == "input frame 1 has a non-finite value (-inf) at element 17")
        #expect(throws: EngineError.capacityExceeded(what: "batch", requested: 3, capacity: 2)) {
            try workspace.forward([Float](repeating: 0, count: 3 * 432), batch: 3)
        }
        try workspace.forward([Float](repeating: 0.5, count: 432), batch: 1)
        #expect(throws: EngineError.classOutOfRange(index: 5, classCount: 5)) { try workspace.backward(.classes([5])) }
        #expect(throws: EngineError.capacityExceeded(what: "cotangents per frame", requested: 6, capacity: 5)) {
            try workspace.backward(.classes([0, 1, 2, 3, 4, 0]))
        }
    }
}
