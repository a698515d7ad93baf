/// Elementwise addition with broadcasting (ONNX `Add`): residual connections (`N×C×H×W + N×C×H×W`),
/// per-channel offsets (`N×C×H×W + C×1×1`), scalars.
///
/// Inputs: the first data input `N×A`; the second a data input `N×B` or a constant `B`, with `A`
/// and `B` broadcasting to the output frame shape.
/// VJP: `dA = dY` and `dB = dY`, each summed over the axes that operand was broadcast along.
public struct AddOperator: Operator {
    public var operand: BinaryOperand
    public init(operand: BinaryOperand = .input) { self.operand = operand }

    public var typeName: String { "Add" }
    public var dataInputCount: Int { operand.dataInputCount }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        try operand.outputShape(inputShapes)
    }

    public func forward(_ invocation: ForwardInvocation) { operand.forward(invocation, +) }

    public func backward(_ invocation: BackwardInvocation) {
        let rightShape = operand.shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3]
        let outputCount = invocation.outputShape.elementCount
        for input in 0..<dataInputCount {
            if invocation.inputShapes[input] == invocation.outputShape {
                // Not broadcast (a residual connection): dX = dY, one flat copy or add.
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
