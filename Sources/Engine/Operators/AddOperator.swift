/// Elementwise addition with broadcasting (ONNX `Add`): residual connections (`N×C×H×W + N×C×H×W`),
/// per-channel offsets (`N×C×H×W + C×1×1`), scalars; optionally followed by a fused `Relu` or
/// `Clip` (``ActivationFusion``), as ResNet's blocks end: `y = f(a + b)`.
///
/// Inputs: the first data input `N×A`; the second a data input `N×B` or a constant `B`, with `A`
/// and `B` broadcasting to the output frame shape.
/// VJP: `g = dY ⊙ f'(y)` (``FusedActivation``; `g = dY` without an activation), then `dA = g` and
/// `dB = g`, each summed over the axes that operand was broadcast along.
public struct AddOperator: Operator {
    public var operand: BinaryOperand
    /// Applied to the sum as it is written; `.none` for a plain `Add`.
    public var activation: FusedActivation
    public init(operand: BinaryOperand = .input, activation: FusedActivation = .none) {
        self.operand = operand
        self.activation = activation
    }

    public var typeName: String { "Add" }
    public var dataInputCount: Int { operand.dataInputCount }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        try operand.outputShape(inputShapes)
    }

    /// Two data inputs of the output's shape: a residual connection, added as flat arrays.
    private func isResidual(_ inputShapes: [TensorShape], output: TensorShape) -> Bool {
        guard case .input = operand else { return false }
        return inputShapes[0] == output && inputShapes[1] == output
    }

    public func forward(_ invocation: ForwardInvocation) {
        let count = invocation.batch * invocation.outputShape.elementCount
        if isResidual(invocation.inputShapes, output: invocation.outputShape) {
            let a = invocation.inputs[0], b = invocation.inputs[1], y = invocation.output
            invocation.team.forEachRange(count) { range in
                let start = range.lowerBound
                activation.applySum(a + start, b + start, into: y + start, count: range.count)
            }
            return
        }
        operand.forward(invocation, +)
        guard activation != .none else { return }
        invocation.team.forEachRange(count) { range in
            activation.apply(invocation.output + range.lowerBound, count: range.count)
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        if isResidual(invocation.inputShapes, output: invocation.outputShape) {
            activation.maskedCopies(of: invocation.outputGradient, output: invocation.output,
                                    frame: invocation.outputShape.elementCount, batch: invocation.batch,
                                    cotangentsPerFrame: invocation.cotangentsPerFrame,
                                    into: (invocation.inputGradients[0], invocation.accumulate[0]),
                                    and: (invocation.inputGradients[1], invocation.accumulate[1]),
                                    team: invocation.team)
            return
        }
        activation.maskGradient(invocation.outputGradient, output: invocation.output,
                                frame: invocation.outputShape.elementCount, batch: invocation.batch,
                                cotangentsPerFrame: invocation.cotangentsPerFrame, team: invocation.team)
        let rightShape = operand.shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3]
        let outputCount = invocation.outputShape.elementCount
        for input in 0..<dataInputCount {
            if invocation.inputShapes[input] == invocation.outputShape {
                // Not broadcast: dX = g, one flat copy or add.
                guard let dx = invocation.inputGradients[input] else { continue }
                let accumulate = invocation.accumulate[input], dy = invocation.outputGradient
                invocation.team.forEachRange(invocation.rows * outputCount) { range in
                    if accumulate {
                        for i in range { dx[i] += dy[i] }
                    } else {
                        (dx + range.lowerBound).update(from: dy + range.lowerBound, count: range.count)
                    }
                }
                continue
            }
            guard let dx = invocation.zeroedGradient(input) else { continue }
            let count = invocation.inputShapes[input].elementCount
            let step = input == 0 ? layout.leftStrides[3] : layout.rightStrides[3]
            for row in 0..<invocation.rows {
                let dy = invocation.outputGradient + row * outputCount
                let dxRow = dx + row * count
                layout.forEachRun { output, left, right in
                    let offset = input == 0 ? left : right
                    for i in 0..<run { dxRow[offset + i * step] += dy[output + i] }
                }
            }
        }
    }
}
