/// Elementwise subtraction of two activations with broadcasting (ONNX `Sub`; subtracting a
/// constant imports as ``AddOperator`` with the negated constant).
///
/// Inputs `N×A` and `N×B`, broadcasting to the output frame shape.
/// VJP: `dA = dY`, `dB = −dY`, each summed over the axes that operand was broadcast along.
public struct SubtractOperator: Operator {
    public init() {}
    public var typeName: String { "Sub" }
    public var dataInputCount: Int { 2 }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        try BinaryOperand.input.outputShape(inputShapes)
    }

    public func forward(_ invocation: ForwardInvocation) { BinaryOperand.input.forward(invocation, -) }

    public func backward(_ invocation: BackwardInvocation) {
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: invocation.inputShapes[1])
        let run = layout.extents[3]
        let outputCount = invocation.outputShape.elementCount
        for input in 0..<2 {
            guard let dx = invocation.zeroedGradient(input) else { continue }
            let count = invocation.inputShapes[input].elementCount
            let step = input == 0 ? layout.leftStrides[3] : layout.rightStrides[3]
            let sign: Float = input == 0 ? 1 : -1
            for row in 0..<invocation.rows {
                let dy = invocation.outputGradient + row * outputCount
                let dxRow = dx + row * count
                layout.forEachRun { output, left, right in
                    let offset = input == 0 ? left : right
                    for i in 0..<run { dxRow[offset + i * step] += sign * dy[output + i] }
                }
            }
        }
    }
}
