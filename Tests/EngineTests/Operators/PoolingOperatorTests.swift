import Testing
@testable import Engine

@Suite struct PoolingOperatorTests {
    /// The builds of max pooling's plane loop this CPU runs: portable, and AVX2 and AVX-512 when
    /// it reports them.
    #if arch(x86_64)
    static let poolingBuilds = [KernelSelection.Kernels.portable] + ActivationBuildTests.supported
    #else
    static let poolingBuilds = [KernelSelection.Kernels.portable]
    #endif

    private func run(_ op: any Operator, _ shape: TensorShape, _ input: [Float]) throws -> (TensorShape, [Float]) {
        let model = try CompiledModel(singleNodeGraph(op, inputShape: shape))
        let workspace = Workspace(model: model)
        try workspace.forward(input, batch: 1)
        return (model.tensorShapes[model.outputTensor], Array(workspace.outputs))
    }

    @Test func maxPoolTwoByTwoByHand() throws {
        let (shape, values) = try run(MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2)), [1, 4, 4],
                                      (0..<16).map(Float.init))
        #expect(shape == [1, 2, 2])
        #expect(values == [5, 7, 13, 15])
    }

    @Test func maxPoolCeilModeKeepsThePartialWindowByHand() throws {
        let (shape, values) = try run(MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2, ceilMode: true)),
                                      [1, 5, 5], (0..<25).map(Float.init))
        #expect(shape == [1, 3, 3])
        #expect(values == [6, 8, 9, 16, 18, 19, 21, 23, 24])
    }

    @Test func ceilModeDropsAWindowThatStartsInThePadding() throws {
        // 5 + 2·1 − 2 = 5 → ceil(5/2) + 1 = 4 windows, but the fourth starts at 6 − 1 = 5 ≥ 5.
        let g = try SpatialWindow(kernel: 2, stride: 2, padding: 1, ceilMode: true).geometry(inputHeight: 5, inputWidth: 5)
        #expect(g.outputHeight == 3)
        let floor = try SpatialWindow(kernel: 3, stride: 2).geometry(inputHeight: 6, inputWidth: 6)
        let ceil = try SpatialWindow(kernel: 3, stride: 2, ceilMode: true).geometry(inputHeight: 6, inputWidth: 6)
        #expect((floor.outputHeight, ceil.outputHeight) == (2, 3))
    }

    @Test func maxPoolPaddingNeverWins() throws {
        // All-negative input: zero padding must not become the maximum.
        let (_, values) = try run(MaxPoolOperator(window: SpatialWindow(kernel: 3, stride: 1, padding: 1)), [1, 2, 2],
                                  [-4, -3, -2, -1])
        #expect(values == [-1, -1, -1, -1])
    }

    /// A window of −∞ only keeps its first real pixel (value and argmax), as a per-window scan
    /// does; padding (also −∞ inside the kernel) never becomes the argmax.
    /// (Inputs must be finite, so the −∞ come from an overflowing multiply before the pool.)
    /// Every build of the plane loop leaves these windows to the scan.
    @Test(arguments: poolingBuilds)
    func maxPoolWindowOfMinusInfinityKeepsItsFirstPixel(_ kernels: KernelSelection.Kernels) throws {
        let huge = Float(1e30)
        var b = GraphBuilder(name: "overflow then pool", inputShape: [1, 2, 2])
        let overflowed = b.add(MultiplyOperator(operand: .constant(Tensor(shape: [1, 2, 2], values: [huge, 1, huge, huge]))),
                               b.input)
        var pool = MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2, padding: 1))
        pool.poolingLoops = .build(kernels)
        let pooled = b.add(pool, overflowed)
        let flat = b.add(FlattenOperator(), pooled)
        let model = try CompiledModel(b.build(output: flat))
        let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: 1)
        try workspace.forward([-1e10, 3, -1e10, -1e10], batch: 1)
        let minus = -Float.infinity
        #expect(Array(workspace.outputs) == [minus, 3, minus, minus])
        // Each window's one real pixel is its argmax: the cotangents come back to their pixels.
        try [Float](arrayLiteral: 1, 2, 4, 8).withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 1)) }
        #expect(Array(workspace.inputGradient) == [huge, 2, 4 * huge, 8 * huge])
    }

    @Test func averagePoolCountIncludePadByHand() throws {
        let ones = [Float](repeating: 1, count: 9)
        let window = SpatialWindow(kernel: 3, stride: 1, padding: 1)
        let (_, included) = try run(AveragePoolOperator(window: window, countIncludePad: true), [1, 3, 3], ones)
        expectClose(included, [4, 6, 4, 6, 9, 6, 4, 6, 4].map { Float($0) / 9 })
        let (_, excluded) = try run(AveragePoolOperator(window: window, countIncludePad: false), [1, 3, 3], ones)
        expectClose(excluded, ones)
    }

    @Test func averagePoolCeilModeDoesNotCountCellsPastThePadding() throws {
        // The last window covers one real column and one beyond the (zero) padding: divisor 2, not 4.
        let window = SpatialWindow(kernel: 2, stride: 2, ceilMode: true)
        let (shape, values) = try run(AveragePoolOperator(window: window, countIncludePad: true), [1, 5, 5],
                                      [Float](repeating: 1, count: 25))
        #expect(shape == [1, 3, 3])
        expectClose(values, [Float](repeating: 1, count: 9))
    }

    @Test func spatialMeanByHand() throws {
        let (shape, values) = try run(SpatialMeanOperator(), [2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40])
        #expect(shape == [2, 1, 1])
        expectClose(values, [2.5, 25] as [Float])
        let (flat, _) = try run(SpatialMeanOperator(keepDimensions: false, typeName: "ReduceMean"), [2, 2, 2],
                                [Float](repeating: 0, count: 8))
        #expect(flat == [2])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: TensorShape
        var window: SpatialWindow
        var testDescription: String { name }
    }

    static let windows: [Case] = [
        Case(name: "3/s2 pad 1 (the paper's stem pool)", input: [2, 7, 7], window: SpatialWindow(kernel: 3, stride: 2, padding: 1)),
        Case(name: "2/s2, odd size", input: [1, 5, 7], window: SpatialWindow(kernel: 2, stride: 2)),
        Case(name: "ceil mode", input: [2, 6, 6], window: SpatialWindow(kernel: 3, stride: 2, ceilMode: true)),
        Case(name: "ceil mode, pad 1", input: [1, 5, 6], window: SpatialWindow(kernel: 2, stride: 2, padding: 1, ceilMode: true)),
        Case(name: "stride 3 > kernel 2", input: [1, 8, 8], window: SpatialWindow(kernel: 2, stride: 3)),
        Case(name: "dilation 2", input: [2, 7, 6], window: SpatialWindow(kernel: 2, stride: 1, dilation: 2)),
        Case(name: "asymmetric pads, 3×2", input: [1, 6, 5], window: SpatialWindow(
            kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
            padding: .explicit(top: 0, left: 1, bottom: 1, right: 0))),
        Case(name: "SAME_UPPER", input: [1, 5, 5], window: SpatialWindow(
            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: .sameUpper)),
        // Rows of more than one block of sixteen outputs at stride 1 and 2.
        Case(name: "3×3 stride 2 pad 1, 37 wide (resnet's stem pool)", input: [2, 5, 37],
             window: SpatialWindow(kernel: 3, stride: 2, padding: 1)),
        Case(name: "stride 1, dilation 2, 21 wide", input: [1, 6, 21], window: SpatialWindow(kernel: 2, stride: 1, dilation: 2)),
        // Rows of 16 and 14 columns at stride 2: at 16 wide the last output's window reaches the
        // padded copy's columns past the multiples of eight.
        Case(name: "3×3 stride 2 pad 1, 16 wide (narrow rows)", input: [2, 5, 16],
             window: SpatialWindow(kernel: 3, stride: 2, padding: 1)),
        Case(name: "3×3 stride 2 pad 1, 14 wide (the bundled model's pool)", input: [1, 6, 14],
             window: SpatialWindow(kernel: 3, stride: 2, padding: 1)),
        // Rows of two and three blocks of sixteen outputs with a partial last one (max pooling's
        // vector loop), wider than the padded copy's eight-column steps.
        Case(name: "3×3 stride 2 pad 1, 70 wide (35 outputs per row)", input: [2, 4, 70],
             window: SpatialWindow(kernel: 3, stride: 2, padding: 1)),
        Case(name: "3×3 stride 1 pad 1, 48 wide (48 outputs per row)", input: [1, 3, 48],
             window: SpatialWindow(kernel: 3, stride: 1, padding: 1)),
    ]

    @Test(arguments: windows)
    func maxPoolMatchesReference(_ testCase: Case) throws {
        let op = MaxPoolOperator(window: testCase.window)
        try checkGraph(singleNodeGraph(op, inputShape: testCase.input)) { x in
            Reference.pool(x, testCase.input, testCase.window, max: true)
        }
    }

    /// Every build against the reference, forward and VJP through the argmaxes it keeps.
    @Test(arguments: windows, poolingBuilds)
    func maxPoolBuildMatchesReference(_ testCase: Case, kernels: KernelSelection.Kernels) throws {
        var op = MaxPoolOperator(window: testCase.window)
        op.poolingLoops = .build(kernels)
        try checkGraph(singleNodeGraph(op, inputShape: testCase.input)) { x in
            Reference.pool(x, testCase.input, testCase.window, max: true)
        }
    }

    @Test(arguments: windows, [false, true])
    func averagePoolMatchesReference(_ testCase: Case, countIncludePad: Bool) throws {
        let op = AveragePoolOperator(window: testCase.window, countIncludePad: countIncludePad)
        try checkGraph(singleNodeGraph(op, inputShape: testCase.input)) { x in
            Reference.pool(x, testCase.input, testCase.window, max: false, countIncludePad: countIncludePad)
        }
    }

    @Test(arguments: [true, false])
    func spatialMeanMatchesReference(keepDimensions: Bool) throws {
        let shape: TensorShape = [3, 5, 4]
        try checkGraph(singleNodeGraph(SpatialMeanOperator(keepDimensions: keepDimensions), inputShape: shape)) { x in
            Reference.spatialMean(x, shape)
        }
    }

    /// The plane sum's vector partial sums, on lengths around its 32- and 8-wide steps: integers
    /// below 2²⁴ add exactly in any order, so the sums must be exact.
    @Test(arguments: [0, 1, 7, 8, 9, 31, 32, 33, 49, 100, 196, 1000, 3136])
    func planeSumIsExactOnIntegers(count: Int) {
        let values = (0..<count).map { Float($0 % 13) - 6 + Float($0 / 13) }
        let expected = values.reduce(0, +)
        #expect(values.withUnsafeBufferPointer { SpatialMeanOperator.sum($0.baseAddress!, count: count) } == expected)
    }

    /// Planes of 1×1 to 112×112 on two threads, the means against the reference in double
    /// precision, the VJP against its formula `dx[c, h, w] = dy[c] / (H·W)` for every cotangent
    /// row, and threads against one. Passes of at least 1 Mi floats are spread over the threads:
    /// [128, 64, 64] in both passes (2 frames of 512 Ki floats, 6 cotangent rows).
    @Test(arguments: [[512, 7, 7], [2, 112, 112], [3000, 1, 1], [96, 29, 31], [128, 64, 64]] as [TensorShape])
    func spatialMeanOnLargeMapsOverThreads(shape: TensorShape) throws {
        let model = try CompiledModel(singleNodeGraph(SpatialMeanOperator(), inputShape: shape))
        let (batch, cotangents, channels, plane) = (2, 3, shape[0], shape[1] * shape[2])
        let workspace = Workspace(model: model, maxBatch: batch, maxCotangents: cotangents, threads: 2)
        var random = SeededGenerator(seed: 11)
        let input = random.uniform(count: batch * shape.elementCount, in: -1...1)
        try workspace.forward(input, batch: batch)
        for b in 0..<batch {
            let frame = input[(b * shape.elementCount)..<((b + 1) * shape.elementCount)].map(Double.init)
            expectCloseRelativeToMax(Array(workspace.outputs[(b * channels)..<((b + 1) * channels)]),
                                     Reference.spatialMean(frame, shape), tolerance: 1e-6, "frame \(b)")
        }
        let seeds = random.uniform(count: batch * cotangents * channels, in: -1...1)
        try seeds.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: cotangents)) }
        let gradient = Array(workspace.inputGradient)
        let expected = (0..<(batch * cotangents * channels)).flatMap { index in
            [Float](repeating: seeds[index] / Float(plane), count: plane)
        }
        #expect(gradient.count == expected.count)
        let mismatches = zip(gradient, expected).filter { abs($0 - $1) > 1e-7 * max(1, abs($1)) }.count
        #expect(mismatches == 0, "\(mismatches) of \(gradient.count) gradient entries differ")
        try expectThreadsMatchOneThread(model, "\(shape): ")
    }

    /// Max pooling's VJP over the threads, one plane per item, on an input that a max pool and an
    /// average pool (2×2/2) both read, so that its gradient accumulates from both: every entry is
    /// `s[c]/256 · ([the window's maximum] + 1/4)` for the 32 cotangent rows of `.allClasses`
    /// (logits: the mean of the pools' sum per channel), with the max pool's VJP running first
    /// (writing) or second (adding), on 1 thread and on 2; and threads give one thread's result.
    @Test(arguments: [false, true])
    func maxPoolVJPOverThreadsAccumulates(maxPoolFirst: Bool) throws {
        let shape: TensorShape = [32, 32, 32]
        let window = SpatialWindow(kernel: 2, stride: 2)
        var b = GraphBuilder(name: "two-pools", inputShape: shape)
        let pools: [String]
        if maxPoolFirst {
            let maximum = b.add(MaxPoolOperator(window: window), b.input)
            pools = [maximum, b.add(AveragePoolOperator(window: window), b.input)]
        } else {
            let average = b.add(AveragePoolOperator(window: window), b.input)
            pools = [b.add(MaxPoolOperator(window: window), b.input), average]
        }
        var x = b.add(AddOperator(), pools[0], pools[1])
        x = b.add(SpatialMeanOperator(), x)
        x = b.add(FlattenOperator(), x)
        let model = try CompiledModel(b.build(output: x))
        var random = SeededGenerator(seed: 17)
        let input = random.uniform(count: shape.elementCount, in: -1...1)
        for threads in [1, 2] {
            let workspace = Workspace(model: model, maxBatch: 1, maxCotangents: 32, threads: threads)
            try workspace.forward(input, batch: 1)
            try workspace.backward(.allClasses)
            let gradient = Array(workspace.inputGradient)
            #expect(gradient.count == 32 * shape.elementCount)
            var mismatches = 0
            for row in 0..<32 {
                for c in 0..<32 {
                    for h in 0..<32 {
                        for w in 0..<32 {
                            let plane = c * 1024, top = (h / 2) * 2 * 32 + (w / 2) * 2
                            let windowValues = [top, top + 1, top + 32, top + 33].map { input[plane + $0] }
                            let isMaximum = input[plane + h * 32 + w] == windowValues.max()!
                            let seed: Float = row == c ? 1 : 0
                            let expected = seed / 256 * ((isMaximum ? 1 : 0) + 0.25)
                            let got = gradient[(row * 32 + c) * 1024 + h * 32 + w]
                            if abs(got - expected) > 1e-7 { mismatches += 1 }
                        }
                    }
                }
            }
            #expect(mismatches == 0, "\(mismatches) gradient entries differ on \(threads) thread(s)")
        }
        try expectThreadsMatchOneThread(model)
    }

    /// The argmaxes are kept per frame: in a batch, each cotangent row must route to its own
    /// frame's maxima.
    @Test func maxPoolRoutesEachCotangentToItsOwnFramesMaximum() throws {
        let model = try CompiledModel(singleNodeGraph(MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2)),
                                                      inputShape: [1, 2, 2]))
        let workspace = Workspace(model: model, maxBatch: 2, maxCotangents: 2)
        try workspace.forward([4, 1, 2, 3, 0, 1, 9, 2], batch: 2)
        let seeds: [Float] = [1, 2, 10, 20]
        try seeds.withUnsafeBufferPointer { try workspace.backward(.vectors($0, perFrame: 2)) }
        #expect(Array(workspace.inputGradient) == [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 10, 0, 0, 0, 20, 0])
    }

    /// Mean over arbitrary frame axes, kept or dropped, against a direct reference.
    @Test(arguments: [([0], true), ([1], false), ([0, 2], true), ([2], false)] as [([Int], Bool)])
    func reduceMeanOverFrameAxes(axes: [Int], keep: Bool) throws {
        let shape: TensorShape = [3, 4, 2]
        let op = ReduceMeanOperator(axes: Set(axes), keepDimensions: keep)
        try checkGraph(singleNodeGraph(op, inputShape: shape)) { x in
            var sums: [Int: (Double, Int)] = [:]
            for a in 0..<3 {
                for b in 0..<4 {
                    for c in 0..<2 {
                        let key = [a, b, c].enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
                        let flat = (key[0] * 4 + key[1]) * 2 + key[2]
                        let entry = sums[flat] ?? (0, 0)
                        sums[flat] = (entry.0 + x[(a * 4 + b) * 2 + c], entry.1 + 1)
                    }
                }
            }
            return sums.keys.sorted().map { sums[$0]!.0 / Double(sums[$0]!.1) }
        }
    }
}
