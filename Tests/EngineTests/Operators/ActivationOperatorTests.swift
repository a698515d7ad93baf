import Foundation
import Testing
@testable import Engine

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
    ]

    @Test(arguments: cases)
    func forwardAndVJPMatchReference(_ testCase: Case) throws {
        try checkGraph(singleNodeGraph(testCase.op, inputShape: [2, 3, 4]), reference: { $0.map(testCase.reference) },
                       inputRange: testCase.range)
    }
}
