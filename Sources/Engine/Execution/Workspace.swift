/// The memory one worker runs a ``CompiledModel`` in, and the runner itself.
///
/// Everything is allocated when the workspace is made, sized for `maxBatch` frames and
/// `maxCotangents` cotangents per frame: the forward value of every tensor
/// (`maxBatch×frame shape`, kept for the backward pass), one arena for the gradients
/// (`maxBatch·maxCotangents×frame shape`, buffers with disjoint lifetimes share memory), the
/// operators' shared scratch, and max-pool argmaxes. Steady-state `forward`/`backward` calls
/// allocate nothing; ``allocationCount`` counts every allocation the workspace makes, so tests
/// can check that.
///
/// Not thread-safe: one workspace belongs to one worker thread at a time.
public final class Workspace {
    public let model: CompiledModel
    public let maxBatch: Int
    public let maxCotangents: Int
    /// The threads operators spread their work over (convolutions' GEMM blocks); with more
    /// than one, OpenBLAS should run one thread per call (``BLAS/threadCount`` = 1).
    public let team: ThreadTeam
    /// Number of heap allocations made by this workspace (all at creation).
    public private(set) var allocationCount = 0
    /// Bytes those allocations hold.
    public private(set) var allocatedBytes = 0

    /// Frames in the last forward pass (0 before the first).
    public private(set) var batch = 0
    /// Cotangents per frame in the last backward pass (0 when none is current).
    public private(set) var cotangentsPerFrame = 0
    /// When set, every node's forward and backward calls are timed into it (for `bench --profile`).
    public var profile: OperatorProfile?

    private let values: UnsafeMutablePointer<Float>
    private let gradients: UnsafeMutablePointer<Float>
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchStride: Int
    private let indices: UnsafeMutablePointer<Int32>
    private let cotangentClassTable: UnsafeMutablePointer<Int32>
    private let pointerTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let optionalPointerTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let flagTable: UnsafeMutablePointer<Bool>

    /// Per tensor: its forward values, and its gradient (nil if the backward pass never forms it).
    private let valuePointers: [UnsafeMutablePointer<Float>]
    private let gradientPointers: [UnsafeMutablePointer<Float>?]
    private let forwardCalls: [BoundForward]
    private let backwardCalls: [BoundBackward]

    private struct BoundForward {
        let inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
        let output: UnsafeMutablePointer<Float>
        let indices: UnsafeMutablePointer<Int32>
    }

    private struct BoundBackward {
        let node: Int
        let inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
        let inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>
        let accumulate: UnsafeBufferPointer<Bool>
        let outputGradient: UnsafeMutablePointer<Float>
    }

    /// Allocates a workspace for up to `maxBatch` frames and `maxCotangents` cotangents per frame
    /// (default: every class, enough for the whole Jacobian), whose operators use up to
    /// `threads` threads.
    public init(model: CompiledModel, maxBatch: Int = 1, maxCotangents: Int? = nil, threads: Int = 1) {
        precondition(maxBatch > 0, "Workspace: maxBatch must be positive")
        let maxCotangents = max(1, maxCotangents ?? model.classCount)
        self.model = model
        self.maxBatch = maxBatch
        self.maxCotangents = maxCotangents
        let shapes = model.tensorShapes
        let rows = maxBatch * maxCotangents

        // Forward values: one buffer per tensor, all alive for the backward pass.
        var valueOffsets: [Int] = []
        var valueSize = 0
        for shape in shapes {
            valueOffsets.append(valueSize)
            valueSize += (maxBatch * shape.elementCount + BufferPlanner.alignment - 1)
                / BufferPlanner.alignment * BufferPlanner.alignment
        }

        // Gradient lifetimes, in backward steps: the logits' gradient is seeded at step 0; node
        // visit s (1-based) reads its output's gradient and writes its inputs'.
        let steps = model.backwardOrder.count
        var first = [Int?](repeating: nil, count: shapes.count)
        var last = [Int](repeating: 0, count: shapes.count)
        first[model.logitsTensor] = 0
        for (step, position) in model.backwardOrder.enumerated() {
            let node = model.nodes[position]
            last[node.output] = step + 1
            for input in node.inputs where first[input] == nil && model.requiresGradient[input] { first[input] = step + 1 }
        }
        last[0] = steps + 1
        var requestedTensors: [Int] = []
        var requests: [BufferPlanner.Request] = []
        for tensor in shapes.indices {
            guard let start = first[tensor] else { continue }
            // A tensor whose gradient only flows into constants-only paths still gets a buffer.
            requestedTensors.append(tensor)
            requests.append(.init(count: rows * shapes[tensor].elementCount, first: start, last: max(last[tensor], start)))
        }
        let (gradientOffsets, gradientSize) = BufferPlanner.plan(requests)

        let team = ThreadTeam(count: threads)
        let scratchStride = ((model.nodes.map {
            $0.op.scratchCount(inputShapes: $0.inputShapes, outputShape: $0.outputShape)
        }.max() ?? 0) + BufferPlanner.alignment - 1) / BufferPlanner.alignment * BufferPlanner.alignment
        let scratchCount = scratchStride * team.count
        var indexOffsets: [Int] = []
        var indexSize = 0
        for node in model.nodes {
            indexOffsets.append(indexSize)
            if node.op.keepsIndices { indexSize += maxBatch * node.outputShape.elementCount }
        }
        let pointerCount = model.nodes.reduce(0) { $0 + $1.inputs.count }

        var count = 0, bytes = 0
        func allocate<T>(_ type: T.Type, _ elements: Int) -> UnsafeMutablePointer<T> {
            count += 1
            bytes += max(elements, 1) * MemoryLayout<T>.stride
            return UnsafeMutablePointer<T>.allocate(capacity: max(elements, 1))
        }
        let values = allocate(Float.self, valueSize)
        let gradients = allocate(Float.self, gradientSize)
        let scratch = allocate(Float.self, scratchCount)
        let indices = allocate(Int32.self, indexSize)
        let cotangentClassTable = allocate(Int32.self, rows)
        let pointerTable = allocate(UnsafeMutablePointer<Float>.self, 2 * pointerCount)
        let optionalPointerTable = allocate(UnsafeMutablePointer<Float>?.self, pointerCount)
        let flagTable = allocate(Bool.self, pointerCount)
        values.initialize(repeating: 0, count: valueSize)
        gradients.initialize(repeating: 0, count: max(gradientSize, 1))

        let valuePointers = valueOffsets.map { values + $0 }
        var gradientPointers = [UnsafeMutablePointer<Float>?](repeating: nil, count: shapes.count)
        for (request, tensor) in requestedTensors.enumerated() {
            gradientPointers[tensor] = gradients + gradientOffsets[request]
        }

        // Bind every call's pointer tables once.
        var cursor = 0
        var forwardCalls: [BoundForward] = []
        for (position, node) in model.nodes.enumerated() {
            let table = pointerTable + cursor
            for (slot, input) in node.inputs.enumerated() { (table + slot).initialize(to: valuePointers[input]) }
            forwardCalls.append(BoundForward(
                inputs: UnsafeBufferPointer(start: table, count: node.inputs.count),
                output: valuePointers[node.output], indices: indices + indexOffsets[position]))
            cursor += node.inputs.count
        }
        var backwardCalls: [BoundBackward] = []
        var written = Set([model.logitsTensor])
        var optionalCursor = 0
        for position in model.backwardOrder {
            let node = model.nodes[position]
            let gradientTable = optionalPointerTable + optionalCursor
            let flags = flagTable + optionalCursor
            for (slot, input) in node.inputs.enumerated() {
                (gradientTable + slot).initialize(to: gradientPointers[input])
                (flags + slot).initialize(to: written.contains(input))
                written.insert(input)
            }
            optionalCursor += node.inputs.count
            backwardCalls.append(BoundBackward(
                node: position, inputs: forwardCalls[position].inputs,
                inputGradients: UnsafeBufferPointer(start: gradientTable, count: node.inputs.count),
                accumulate: UnsafeBufferPointer(start: flags, count: node.inputs.count),
                outputGradient: gradientPointers[node.output]!))
        }
        self.values = values
        self.gradients = gradients
        self.scratch = scratch
        self.scratchStride = scratchStride
        self.team = team
        self.indices = indices
        self.cotangentClassTable = cotangentClassTable
        self.pointerTable = pointerTable
        self.optionalPointerTable = optionalPointerTable
        self.flagTable = flagTable
        self.valuePointers = valuePointers
        self.gradientPointers = gradientPointers
        self.forwardCalls = forwardCalls
        self.backwardCalls = backwardCalls
        self.allocationCount = count
        self.allocatedBytes = bytes
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
        scratch.deallocate()
        indices.deallocate()
        cotangentClassTable.deallocate()
        pointerTable.deallocate()
        optionalPointerTable.deallocate()
        flagTable.deallocate()
    }

    // MARK: Forward

    /// Runs the forward pass on `batch` frames: `input` holds `batch×C×H×W` floats, and each of
    /// `auxiliary` `batch×frame shape` floats of the corresponding auxiliary input.
    /// Throws for a wrong element count, a batch over capacity, or a NaN/infinite input value.
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int,
                        auxiliary: [UnsafeBufferPointer<Float>] = []) throws(EngineError) {
        guard batch > 0, batch <= maxBatch else {
            throw .capacityExceeded(what: "batch", requested: batch, capacity: maxBatch)
        }
        let frame = model.inputCount
        guard input.count == batch * frame else {
            throw .inputShapeMismatch(expected: "\(batch)×\(model.inputShape) (\(batch * frame) values)",
                                      actual: "\(input.count) values")
        }
        for index in 0..<input.count where !input[index].isFinite {
            throw .nonFiniteInput(frame: index / frame, element: index % frame, value: input[index])
        }
        guard auxiliary.count == model.auxiliaryInputCount else {
            throw .inputShapeMismatch(expected: "\(model.auxiliaryInputCount) auxiliary input(s)", actual: "\(auxiliary.count)")
        }
        for (offset, values) in auxiliary.enumerated() {
            let tensor = offset + 1
            let count = batch * model.tensorShapes[tensor].elementCount
            guard values.count == count else {
                throw .inputShapeMismatch(expected: "\(batch)×\(model.tensorShapes[tensor]) values for '\(model.tensorNames[tensor])'",
                                          actual: "\(values.count) values")
            }
            valuePointers[tensor].update(from: values.baseAddress!, count: count)
        }
        self.batch = 0
        cotangentsPerFrame = 0
        valuePointers[0].update(from: input.baseAddress!, count: input.count)
        for (position, node) in model.nodes.enumerated() {
            let call = forwardCalls[position]
            let start = profile?.now() ?? 0
            node.op.forward(ForwardInvocation(
                inputs: call.inputs, inputShapes: node.inputShapes, output: call.output,
                outputShape: node.outputShape, batch: batch, scratch: scratch, scratchStride: scratchStride,
                indices: call.indices, team: team))
            profile?.addForward(node: position, since: start)
        }
        self.batch = batch
    }

    /// Convenience for ``forward(_:batch:)`` with an array.
    public func forward(_ input: [Float], batch: Int) throws(EngineError) {
        try input.withUnsafeBufferPointer { (buffer) throws(EngineError) in try forward(buffer, batch: batch) }
    }

    /// The logits of the last forward pass, `batch×classCount`.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: valuePointers[model.logitsTensor], count: batch * model.classCount)
    }

    /// The graph's output of the last forward pass (probabilities if it ends in a softmax).
    public var outputs: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: valuePointers[model.outputTensor],
                            count: batch * model.tensorShapes[model.outputTensor].elementCount)
    }

    /// The forward values of a tensor for the last batch, `batch×frame shape`.
    public func values(ofTensor tensor: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: valuePointers[tensor], count: batch * model.tensorShapes[tensor].elementCount)
    }

    /// The predicted class of `frame`: the index of its largest logit (the first on ties).
    public func predictedClass(frame: Int) -> Int {
        let row = valuePointers[model.logitsTensor] + frame * model.classCount
        var best = 0
        for k in 1..<max(model.classCount, 1) where row[k] > row[best] { best = k }
        return best
    }

    // MARK: Backward

    /// Carries `cotangents` from the logits back to the input through the last forward pass's
    /// activations, for every frame at once: one walk over the graph whose every operator
    /// handles `batch·K` rows. The result is ``inputGradient``.
    public func backward(_ cotangents: Cotangents) throws(EngineError) {
        guard batch > 0 else { throw .backwardWithoutForward }
        let classes = model.classCount
        let seed = gradientPointers[model.logitsTensor]!
        let perFrame: Int
        switch cotangents {
        case .predictedClass:
            perFrame = 1
            for frame in 0..<batch { cotangentClassTable[frame] = Int32(predictedClass(frame: frame)) }
        case .allClasses:
            perFrame = classes
            for frame in 0..<batch { for k in 0..<classes { cotangentClassTable[frame * classes + k] = Int32(k) } }
        case let .classes(list):
            perFrame = list.count
            for k in list where k < 0 || k >= classes { throw .classOutOfRange(index: k, classCount: classes) }
            for frame in 0..<batch { for (slot, k) in list.enumerated() { cotangentClassTable[frame * list.count + slot] = Int32(k) } }
        case let .topClasses(count):
            perFrame = min(count, classes)
            guard perFrame > 0, perFrame <= maxCotangents else {
                throw .capacityExceeded(what: "cotangents per frame", requested: count, capacity: maxCotangents)
            }
            for frame in 0..<batch {
                let row = valuePointers[model.logitsTensor] + frame * classes
                // Partial selection: repeatedly take the best class not yet taken (n is small).
                for slot in 0..<perFrame {
                    var best = -1
                    for k in 0..<classes {
                        var taken = false
                        for previous in 0..<slot where cotangentClassTable[frame * perFrame + previous] == Int32(k) { taken = true }
                        if !taken && (best < 0 || row[k] > row[best]) { best = k }
                    }
                    cotangentClassTable[frame * perFrame + slot] = Int32(best)
                }
            }
        case let .vectors(vectors, count):
            perFrame = count
            guard vectors.count == batch * count * classes else {
                throw .inputShapeMismatch(expected: "\(batch)×\(count)×\(classes) cotangent values",
                                          actual: "\(vectors.count) values")
            }
        }
        guard perFrame > 0, perFrame <= maxCotangents else {
            throw .capacityExceeded(what: "cotangents per frame", requested: perFrame, capacity: maxCotangents)
        }
        let rows = batch * perFrame
        if case let .vectors(vectors, _) = cotangents {
            seed.update(from: vectors.baseAddress!, count: rows * classes)
            for row in 0..<rows { cotangentClassTable[row] = -1 }
        } else {
            seed.update(repeating: 0, count: rows * classes)
            for row in 0..<rows { seed[row * classes + Int(cotangentClassTable[row])] = 1 }
        }

        for call in backwardCalls {
            let node = model.nodes[call.node]
            let forward = forwardCalls[call.node]
            let start = profile?.now() ?? 0
            defer { profile?.addBackward(node: call.node, since: start) }
            node.op.backward(BackwardInvocation(
                inputs: call.inputs, inputShapes: node.inputShapes, output: forward.output,
                outputShape: node.outputShape, outputGradient: call.outputGradient,
                inputGradients: call.inputGradients, accumulate: call.accumulate,
                batch: batch, cotangentsPerFrame: perFrame, scratch: scratch, scratchStride: scratchStride,
                indices: forward.indices, team: team))
        }
        cotangentsPerFrame = perFrame
    }

    /// The gradient of the last backward pass with respect to the input:
    /// `batch×K×C×H×W`, row `n·K + k` the cotangent `k` of frame `n`.
    public var inputGradient: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: gradientPointers[0], count: batch * cotangentsPerFrame * model.inputCount)
    }

    /// The class whose one-hot cotangent row `n·K + k` carried (−1 for ``Cotangents/vectors(_:perFrame:)``).
    public func cotangentClass(frame: Int, cotangent: Int) -> Int {
        Int(cotangentClassTable[frame * cotangentsPerFrame + cotangent])
    }
}
