import Testing
@testable import Engine

/// Maps of a linear classifier, whose Jacobian is its weight matrix: `g_j = W[j]`, so every map
/// can be worked out by hand (PAPER.md's definitions), including ties and zero gradients.
@Suite struct SaliencyMapsTests {
    /// Rows `g_j` for a `2×1×3` input (channel-major: c0p0, c0p1, c0p2, c1p0, c1p1, c1p2).
    static let gradients: [[Float]] = [
        [1, -2, 0, 0.5, 3, -1],
        [0, 1, 0, -1, 3, -2],
        [-1, 0, 0, 2, -4, -3],
    ]

    private func maps(classes: Int, cotangents: Cotangents = .allClasses) throws -> [SaliencyMethod: [Float]] {
        var builder = GraphBuilder(name: "linear", inputShape: [2, 1, 3])
        let flat = builder.add(FlattenOperator(), builder.input)
        // A large bias on class 0 makes it the prediction whatever the input.
        let bias = Tensor(shape: [classes], values: (0..<classes).map { $0 == 0 ? 10 : 0 })
        builder.add(GemmOperator(weights: Tensor(shape: [classes, 6], values: Array(Self.gradients.prefix(classes).joined())),
                                 bias: bias, transposeWeights: true), flat)
        let workspace = Workspace(model: try CompiledModel(builder.build()))
        try workspace.forward([0.2, 0.4, 0.6, 0.8, 1.0, 0.0], batch: 1)
        #expect(workspace.predictedClass(frame: 0) == 0)
        try workspace.backward(cotangents)
        var result: [SaliencyMethod: [Float]] = [:]
        for method in SaliencyMethod.allCases {
            result[method] = SaliencyMaps.compute(method, workspace: workspace, frame: 0)
        }
        return result
    }

    @Test func threeClassesByHand() throws {
        let m = try maps(classes: 3)
        #expect(m[.vanilla] == [1, 3, 1])
        #expect(m[.positive] == [1, 3, 0])
        #expect(m[.negative] == [0, 2, 1])
        // p0: c0 wins (1 > 0, 1 > −1); p1: c1 ties with class 1 (3 = 3) → 0; p2: c1 wins (−1 > −2, −1 > −3).
        #expect(m[.active] == [1, 0, 1])
        // p1: c0 loses to both (−2 < 1, −2 < 0); p2: c0 ties (0 = 0), c1 is not below (−1 > −2).
        #expect(m[.inactive] == [0, 2, 0])
        #expect(m[.signed] == [1, 3, -1])
    }

    @Test func twoClassesByHand() throws {
        let m = try maps(classes: 2)
        #expect(m[.active] == [1, 0, 1])
        #expect(m[.inactive] == [0, 2, 0])
        #expect(m[.vanilla] == [1, 3, 1])
    }

    /// With one class the comparisons are vacuous: active and inactive equal vanilla.
    @Test func oneClassMakesActiveAndInactiveVanilla() throws {
        let m = try maps(classes: 1)
        #expect(m[.active] == m[.vanilla])
        #expect(m[.inactive] == m[.vanilla])
        #expect(m[.vanilla] == [1, 3, 1])
    }

    /// The cheap path (one cotangent) gives the maps that need only `g_k` and refuses the others.
    @Test func predictedClassPathServesOnlyTheGradientMaps() throws {
        let m = try maps(classes: 3, cotangents: .predictedClass)
        #expect(m[.vanilla] == [1, 3, 1])
        #expect(m[.signed] == [1, 3, -1])
        #expect(m[.active] == nil)
        #expect(m[.inactive] == nil)
    }

    /// The vector loop gives, pixel for pixel and bit for bit, what the per-pixel definition
    /// (``SaliencyMaps/pixel(_:_:gradients:target:rows:channels:plane:)``) gives: gradients on a
    /// coarse grid (ties between rows and channels), ±0, a NaN, planes with and without a tail,
    /// one to three channels, the target first, in the middle and last.
    @Test(arguments: [(3, 16, 4, 0), (3, 37, 10, 4), (1, 50, 2, 1), (2, 5, 3, 2)])
    func vectorLoopMatchesThePerPixelDefinition(_ channels: Int, _ plane: Int, _ rows: Int, _ target: Int) {
        var generator = SeededGenerator(seed: 91)
        var gradients = (0..<(rows * channels * plane)).map { _ in Float(Int.random(in: -3...3, using: &generator)) / 4 }
        gradients[1] = -0.0
        gradients[gradients.count / 2] = .nan
        gradients[target * channels * plane + plane - 1] = -0.0
        for method in SaliencyMethod.allCases {
            var map = [Float](repeating: .infinity, count: plane)
            SaliencyMaps.compute(method, gradients: gradients, target: target, rows: rows, shape: [channels, 1, plane],
                                 into: &map)
            for p in 0..<plane {
                let expected = SaliencyMaps.pixel(method, p, gradients: gradients, target: target, rows: rows,
                                                  channels: channels, plane: plane)
                #expect(map[p].bitPattern == expected.bitPattern, "\(method), pixel \(p): \(map[p]) vs \(expected)")
            }
        }
    }
}
