import Foundation
import Testing
@testable import Engine
import VectorKernels

@Suite struct ActivationOperatorTests {
    private func forward(_ op: any Operator, _ input: [Float]) throws -> [Float] {
        let model = try CompiledModel(singleNodeGraph(op, inputShape: [input.count]))
        let workspace = Workspace(model: model)
        try workspace.forward(input, batch: 1)
        return Array(workspace.outputs)
    }

    @Test func valuesByHand() throws {
        #expect(try forward(ReLUOperator(), [-1, 0, 2]) == [0, 0, 2])
        expectClose(try forward(LeakyReLUOperator(alpha: 0.1), [-2, 3]), [-0.2, 3] as [Float])
        #expect(try forward(ClipOperator(minimum: 0, maximum: 6), [-1, 3, 7]) == [0, 3, 6])
        let sigmoid = try forward(SigmoidOperator(), [0, 100, -100, 2])
        expectClose(sigmoid, [0.5, 1, 0, 1 / (1 + exp(-2))] as [Double])
        #expect(sigmoid.allSatisfy { $0.isFinite })
        expectClose(try forward(HardSigmoidOperator(), [1, 3, -3]), [0.7, 1, 0] as [Float])
        expectClose(try forward(HardSigmoidOperator(alpha: 1.0 / 6, beta: 0.5), [0, 1.5]), [0.5, 0.75] as [Float])
        expectClose(try forward(HardSwishOperator(), [-4, 1, 4, -1.5]), [0, 2.0 / 3, 4, -0.375] as [Float])
        // 11 values: 8 through the vector loop, 3 through the scalar tail.
        let inputs: [Float] = [0, 100, -100, 2, -2, 88.5, -88.5, 0.5, 1e-3, -7, 7]
        let swish = try forward(SwishOperator(), inputs)
        expectClose(swish, inputs.map { Double($0) / (1 + exp(-Double($0))) }, atol: 1e-30)
        let sigmoids = try forward(SigmoidOperator(), inputs)
        expectClose(sigmoids, inputs.map { 1 / (1 + exp(-Double($0))) }, atol: 1e-30)
        #expect((swish + sigmoids).allSatisfy { $0.isFinite })
    }

    /// The vector exponential behind the sigmoid loops, against double precision over its whole
    /// range (200,001 points from −87 to 88): relative error below 2.5e-7 (about 2 ulp), with
    /// and without fused multiply-adds.
    @Test(arguments: [false, true])
    func vectorExponentialIsAccurate(fused: Bool) {
        var worst = 0.0
        for start in stride(from: 0, to: 200_001, by: 8) {
            let x = SIMD8<Float>((0..<8).map { Float(-87 + Double(min(start + $0, 200_000)) * 175 / 200_000) })
            let y = exponential(x, fused: fused)
            for lane in 0..<8 {
                let exact = Foundation.exp(Double(x[lane]))
                worst = max(worst, abs(Double(y[lane]) - exact) / exact)
            }
        }
        #expect(worst < 2.5e-7, "worst relative error \(worst)")
        #expect(exponential(SIMD8(repeating: 0), fused: fused) == SIMD8(repeating: 1))
    }

    /// Swish's VJP reads `σ(x)` back from the forward output as `y / x` (`1/2 + x/4` below
    /// 2⁻²⁰): against `f'(x) = σ(x)·(1 + x·(1 − σ(x)))` in double precision, from −90 to 90, the
    /// small-|x| branch's edges, ±0 and the vector loop's scalar tail. The bound is float32's:
    /// for large x, `1 − σ` keeps an error of about an ulp of 1, times x (the previous loop, `σ`
    /// from a second exponential, measured 9.7e-7 worst on these inputs, this one 1.5e-6).
    @Test func swishDerivativeFromItsOutputIsAccurate() {
        var inputs: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0x1p-20, -0x1p-20, 0x1.01p-20, -0x1.01p-20,
                               0x1.fep-21, -0x1.fep-21, 1e-3, -1e-3, -1.2785, 88, -88, 90, -90]
        inputs += stride(from: -30, through: 30, by: 0.0137).map { Float($0) }
        let swish = SwishOperator()
        var outputs = [Float](repeating: 0, count: inputs.count), derivatives = outputs
        swish.values(inputs, count: inputs.count, into: &outputs)
        swish.derivatives(input: inputs, output: outputs, count: inputs.count, into: &derivatives)
        var worst = 0.0, worstInput: Float = 0
        for (x, d) in zip(inputs, derivatives) {
            let sigma = 1 / (1 + Foundation.exp(-Double(x)))
            let exact = sigma * (1 + Double(x) * (1 - sigma))
            // Relative, but near f' = 0 (x ≈ −1.28) and in the far tails absolute against 0.05.
            let error = abs(Double(d) - exact) / max(abs(exact), 0.05)
            if error > worst { (worst, worstInput) = (error, x) }
        }
        #expect(worst < 2e-6, "worst error \(worst) at x = \(worstInput)")
        #expect(derivatives.allSatisfy { $0.isFinite })
        #expect(derivatives[0] == 0.5 && derivatives[1] == 0.5)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var op: any Operator
        var reference: @Sendable (Double) -> Double
        var range: ClosedRange<Float> = -2...2
        var testDescription: String { op.typeName }
    }

    static let cases: [Case] = [
        Case(op: ReLUOperator(), reference: { max($0, 0) }),
        Case(op: LeakyReLUOperator(alpha: 0.05), reference: { $0 > 0 ? $0 : 0.05 * $0 }),
        Case(op: ClipOperator(minimum: -0.5, maximum: 0.75), reference: { min(max($0, -0.5), 0.75) }),
        Case(op: SigmoidOperator(), reference: { 1 / (1 + Foundation.exp(-$0)) }, range: -6...6),
        Case(op: HardSigmoidOperator(alpha: 0.3, beta: 0.4), reference: { max(0, min(1, 0.3 * $0 + 0.4)) }, range: -4...4),
        Case(op: HardSwishOperator(), reference: { $0 * max(0, min(1, $0 / 6 + 0.5)) }, range: -5...5),
        Case(op: SwishOperator(), reference: { $0 / (1 + Foundation.exp(-$0)) }, range: -6...6),
    ]

    @Test(arguments: cases)
    func forwardAndVJPMatchReference(_ testCase: Case) throws {
        try checkGraph(singleNodeGraph(testCase.op, inputShape: [2, 3, 4]), reference: { $0.map(testCase.reference) },
                       inputRange: testCase.range)
    }
}
