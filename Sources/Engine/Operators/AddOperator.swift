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
        let output = try BroadcastLayout.outputShape(inputShapes[0], operand.shape(inputShapes))
        guard output == inputShapes[0] || operand == .input else {
            throw OperatorError("a constant of shape \(operand.shape(inputShapes)) may not enlarge the input \(inputShapes[0])")
        }
        return output
    }

    public func forward(_ invocation: ForwardInvocation) {
        let rightShape = operand.shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3], leftStep = layout.leftStrides[3], rightStep = layout.rightStrides[3]
        for frame in 0..<invocation.batch {
            let a = invocation.input(0, frame: frame)
            let y = invocation.output + frame * invocation.outputShape.elementCount
            operand.withFrame(frame, inputs: invocation.inputs, count: rightShape.elementCount) { b in
                layout.forEachRun { output, left, right in
                    for i in 0..<run { y[output + i] = a[left + i * leftStep] + b[right + i * rightStep] }
                }
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        let rightShape = operand.shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3]
        let outputCount = invocation.outputShape.elementCount
        for input in 0..<dataInputCount {
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
