import Testing
@testable import Engine

/// The activation decisions at and one float32 step from their boundary — the mechanism behind
/// the full-size Jacobian differences in docs/models.md ("Matching PyTorch at full size").
///
/// Each network is `x → Flatten → Gemm → activation → Gemm → 2 logits` (or a 2×2 max pool in
/// place of the first Gemm and the activation), with weights chosen so that the first hidden
/// unit's input is computed exactly (no rounding in any summation order): exactly on the
/// boundary, or one float32 step of the input away from it. The tests check that
///  - on the boundary the engine decides as PyTorch does: ReLU and Clip pass no gradient at
///    their bounds (`relu'(0) = 0`, `hardtanh'` is 0 at `min` and `max`), and a max pool routes
///    the gradient to the first maximum of a tied window;
///  - the backward pass uses the forward pass's decision (the Jacobian is W2·diag(slope)·W1 with
///    the slope of the value the forward pass computed);
///  - one float32 step of one input moves the logits by about 1e-7 of the largest but moves a
///    whole column of the Jacobian by its largest entry: no fixed relative Jacobian tolerance
///    can absorb a decision that two float32 implementations take differently.
@Suite struct ActivationDecisionTests {
    /// W2 (2 classes × 2 hidden units, `transB` layout): the Jacobian's columns are W2·diag(slope)·W1.
    static let w2 = Tensor(shape: [2, 2], values: [1, 1, 2, -1])

    /// `h = W1·x + b1` → `activation` → `W2·h`; returns (logits, Jacobian 2×2 row-major, h).
    private func run(_ activation: any Operator, w1: [Float], b1: [Float], x: [Float]) throws -> ([Float], [Float], [Float]) {
        var b = GraphBuilder(name: "decision", inputShape: [2, 1, 1])
        let flat = b.add(FlattenOperator(), b.input)
        let h = b.add(GemmOperator(weights: Tensor(shape: [2, 2], values: w1), bias: Tensor(shape: [2], values: b1),
                                   transposeWeights: true), flat, name: "hidden")
        let y = b.add(activation, h)
        b.add(GemmOperator(weights: Self.w2, bias: nil, transposeWeights: true), y, name: "logits")
        let model = try CompiledModel(b.build())
        let workspace = Workspace(model: model, maxBatch: 1)
        try workspace.forward(x, batch: 1)
        let hidden = Array(workspace.values(ofTensor: try #require(model.tensorNames.firstIndex(of: h))))
        let logits = Array(workspace.logits)
        try workspace.backward(.allClasses)
        return (logits, Array(workspace.inputGradient), hidden)
    }

    /// Jacobian W2·diag(s0, 1)·W1 for W1 = diag(w, 1).
    private func expectedJacobian(slope0: Float, w: Float) -> [Float] {
        [Self.w2.values[0] * slope0 * w, Self.w2.values[1], Self.w2.values[2] * slope0 * w, Self.w2.values[3]]
    }

    @Test func reluPassesNoGradientAtZeroAndAllOfItOneStepAbove() throws {
        // h0 = x0 − 1: exactly 0 at x0 = 1, 2⁻²³ at the next float up, −2⁻²⁴ at the next float down.
        let w1: [Float] = [1, 0, 0, 1], b1: [Float] = [-1, 0]
        let (logitsAt, jacobianAt, hAt) = try run(ReLUOperator(), w1: w1, b1: b1, x: [1, 0.5])
        let (logitsUp, jacobianUp, hUp) = try run(ReLUOperator(), w1: w1, b1: b1, x: [Float(1).nextUp, 0.5])
        let (_, jacobianDown, hDown) = try run(ReLUOperator(), w1: w1, b1: b1, x: [Float(1).nextDown, 0.5])
        #expect(hAt[0] == 0 && hUp[0] == .ulpOfOne && hDown[0] == -.ulpOfOne / 2)
        #expect(jacobianAt == expectedJacobian(slope0: 0, w: 1))
        #expect(jacobianDown == expectedJacobian(slope0: 0, w: 1))
        #expect(jacobianUp == expectedJacobian(slope0: 1, w: 1))
        expectDecisionFlipIsInvisibleInLogitsButNotInTheJacobian(logitsAt, logitsUp, jacobianAt, jacobianUp)
    }

    @Test func clipPassesNoGradientOnEitherBound() throws {
        let clip = ClipOperator(minimum: 0, maximum: 6)
        // Lower bound: h0 = x0 − 1 as for ReLU.
        let low: [Float] = [-1, 0]
        let (_, jacobianAtLow, hAtLow) = try run(clip, w1: [1, 0, 0, 1], b1: low, x: [1, 0.5])
        let (_, jacobianAboveLow, hAboveLow) = try run(clip, w1: [1, 0, 0, 1], b1: low, x: [Float(1).nextUp, 0.5])
        #expect(hAtLow[0] == 0 && hAboveLow[0] > 0)
        #expect(jacobianAtLow == expectedJacobian(slope0: 0, w: 1))
        #expect(jacobianAboveLow == expectedJacobian(slope0: 1, w: 1))
        // Upper bound: h0 = 4·x0 + 2 is exactly 6 at x0 = 1. One float below 1 it is 6 − 2⁻²², which
        // rounds back to 6 (ties to even); two floats below 1 it is 6 − 2⁻²¹, the float below 6.
        let high: [Float] = [2, 0]
        let (_, jacobianAtHigh, hAtHigh) = try run(clip, w1: [4, 0, 0, 1], b1: high, x: [1, 0.5])
        let (_, jacobianOneDown, hOneDown) = try run(clip, w1: [4, 0, 0, 1], b1: high, x: [Float(1).nextDown, 0.5])
        let (_, jacobianBelowHigh, hBelowHigh) = try run(clip, w1: [4, 0, 0, 1], b1: high,
                                                         x: [Float(1).nextDown.nextDown, 0.5])
        #expect(hAtHigh[0] == 6 && hOneDown[0] == 6 && hBelowHigh[0] == Float(6).nextDown)
        #expect(jacobianOneDown == expectedJacobian(slope0: 0, w: 4))
        #expect(jacobianAtHigh == expectedJacobian(slope0: 0, w: 4))
        #expect(jacobianBelowHigh == expectedJacobian(slope0: 1, w: 4))
    }

    @Test func maxPoolRoutesATieToTheFirstMaximum() throws {
        // One 2×2 window over a 1×2×2 input; logits = W2·[max, max] so both classes see the pool.
        var b = GraphBuilder(name: "pool", inputShape: [1, 2, 2])
        let pooled = b.add(MaxPoolOperator(window: SpatialWindow(kernel: 2, stride: 2)), b.input)
        let flat = b.add(FlattenOperator(), pooled)
        b.add(GemmOperator(weights: Tensor(shape: [2, 1], values: [1, 2]), bias: nil, transposeWeights: true), flat)
        let model = try CompiledModel(b.build())
        let workspace = Workspace(model: model, maxBatch: 1)
        func jacobian(_ x: [Float]) throws -> ([Float], [Float]) {
            try workspace.forward(x, batch: 1)
            let logits = Array(workspace.logits)
            try workspace.backward(.allClasses)
            return (logits, Array(workspace.inputGradient))
        }
        // (0, 0) and (1, 1) tie at 0.5: the gradient goes to (0, 0), the first in scan order (PyTorch's rule).
        let (logitsTie, jacobianTie) = try jacobian([0.5, 0.25, 0.125, 0.5])
        #expect(jacobianTie == [1, 0, 0, 0, 2, 0, 0, 0])
        // One float32 step up at (1, 1) moves the whole gradient there.
        let (logitsStep, jacobianStep) = try jacobian([0.5, 0.25, 0.125, Float(0.5).nextUp])
        #expect(jacobianStep == [0, 0, 0, 1, 0, 0, 0, 2])
        expectDecisionFlipIsInvisibleInLogitsButNotInTheJacobian(logitsTie, logitsStep, jacobianTie, jacobianStep)
    }

    /// Logits within 1e-6 of the largest (the golden tests allow 1e-4), Jacobians apart by at
    /// least half the largest entry (the golden tests allow 1e-3).
    private func expectDecisionFlipIsInvisibleInLogitsButNotInTheJacobian(
        _ logitsA: [Float], _ logitsB: [Float], _ jacobianA: [Float], _ jacobianB: [Float]
    ) {
        let logitScale = logitsA.map(abs).max() ?? 0
        let logitChange = zip(logitsA, logitsB).map { abs($0 - $1) }.max() ?? 0
        #expect(logitChange <= 1e-6 * logitScale)
        let jacobianScale = jacobianA.map(abs).max() ?? 0
        let jacobianChange = zip(jacobianA, jacobianB).map { abs($0 - $1) }.max() ?? 0
        #expect(jacobianChange >= 0.5 * jacobianScale)
    }
}
