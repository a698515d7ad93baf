/// Elementwise division of two activations with broadcasting (ONNX `Div`; dividing by a
/// constant imports as ``MultiplyOperator`` with the reciprocal).
///
/// Inputs `N×A` and `N×B`, broadcasting to the output frame shape.
/// VJP: `dA = dY / B`, `dB = −dY · A / B²`, each summed over the axes that operand was broadcast
/// along, using the forward values of the row's own frame.
public struct DivideOperator: Operator {
    public init() {}
    public var typeName: String { "Div" }
    public var dataInputCount: Int { 2 }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        try BinaryOperand.input.outputShape(inputShapes)
    }

    public func forward(_ invocation: ForwardInvocation) { BinaryOperand.input.forward(invocation, /) }

    public func backward(_ invocation: BackwardInvocation) {
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: invocation.inputShapes[1])
        let run = layout.extents[3], leftStep = layout.leftStrides[3], rightStep = layout.rightStrides[3]
        let outputCount = invocation.outputShape.elementCount
        for input in 0..<2 {
            guard let dx = invocation.zeroedGradient(input) else { continue }
            let count = invocation.inputShapes[input].elementCount
            for row in 0..<invocation.rows {
                let frame = row / invocation.cotangentsPerFrame
                let dy = invocation.outputGradient + row * outputCount
                let dxRow = dx + row * count
                let a = invocation.input(0, frame: frame), b = invocation.input(1, frame: frame)
                layout.forEachRun { output, left, right in
                    if input == 0 {
                        for i in 0..<run { dxRow[left + i * leftStep] += dy[output + i] / b[right + i * rightStep] }
                    } else {
                        for i in 0..<run {
                            let denominator = b[right + i * rightStep]
                            dxRow[right + i * rightStep] -= dy[output + i] * a[left + i * leftStep] / (denominator * denominator)
                        }
                    }
                }
            }
        }
    }
}
