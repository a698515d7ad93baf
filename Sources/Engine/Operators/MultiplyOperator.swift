import CBLAS

/// Elementwise multiplication with broadcasting (ONNX `Mul`): squeeze-excitation gating
/// (`N×C×H×W · N×C×1×1`), per-channel scales (`N×C×H×W · C×1×1`), scalars.
///
/// Inputs: the first data input `N×A`; the second a data input `N×B` or a constant `B`, with `A`
/// and `B` broadcasting to the output frame shape.
/// VJP: `dA = dY ⊙ B` and `dB = dY ⊙ A`, each summed over the axes that operand was broadcast
/// along, using the forward values of the row's own frame.
public struct MultiplyOperator: Operator {
    public var operand: BinaryOperand
    public init(operand: BinaryOperand = .input) { self.operand = operand }

    public var typeName: String { "Mul" }
    public var dataInputCount: Int { operand.dataInputCount }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        try operand.outputShape(inputShapes)
    }

    public func forward(_ invocation: ForwardInvocation) { operand.forward(invocation, *) }

    public func backward(_ invocation: BackwardInvocation) {
        let rightShape = operand.shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3], leftStep = layout.leftStrides[3], rightStep = layout.rightStrides[3]
        let outputCount = invocation.outputShape.elementCount
        let leftCount = invocation.inputShapes[0].elementCount
        let sameShapes = invocation.inputShapes[0] == invocation.outputShape && rightShape == invocation.outputShape
        for input in 0..<dataInputCount {
            if sameShapes, let dx = invocation.inputGradients[input] {
                // No broadcasting (e.g. x·sigmoid(x)): one flat pass per row, written directly.
                let accumulate = invocation.accumulate[input]
                let threads = invocation.rows * outputCount >= 1 << 16 ? invocation.team.count : 1
                invocation.team.forEach(items: invocation.rows, threads: threads) { row, _ in
                    let frame = row / invocation.cotangentsPerFrame
                    let dy = invocation.outputGradient + row * outputCount, dxRow = dx + row * outputCount
                    let a = invocation.inputs[0] + frame * leftCount
                    operand.withFrame(frame, inputs: invocation.inputs, count: outputCount) { b in
                        let other = input == 0 ? b : UnsafePointer(a)
                        if accumulate {
                            for i in 0..<outputCount { dxRow[i] += dy[i] * other[i] }
                        } else {
                            for i in 0..<outputCount { dxRow[i] = dy[i] * other[i] }
                        }
                    }
                }
                continue
            }
            if let gate = gateOperand(invocation, layout: layout, rightShape: rightShape) {
                backwardGated(invocation, input: input, gate: gate, layout: layout, rightCount: rightShape.elementCount)
                continue
            }
            guard let dx = invocation.zeroedGradient(input) else { continue }
            let count = invocation.inputShapes[input].elementCount
            // Rows are independent (each writes its own gradient row): spread them over the team.
            let threads = invocation.rows * outputCount >= 1 << 16 ? invocation.team.count : 1
            invocation.team.forEach(items: invocation.rows, threads: threads) { row, _ in
                let frame = row / invocation.cotangentsPerFrame
                let dy = invocation.outputGradient + row * outputCount
                let dxRow = dx + row * count
                let a = invocation.inputs[0] + frame * leftCount
                operand.withFrame(frame, inputs: invocation.inputs, count: rightShape.elementCount) { b in
                    layout.forEachRun { output, left, right in
                        if input == 0 {
                            if rightStep == 0 {
                                // b is constant along the run (a per-channel gate or scale).
                                let scale = b[right]
                                for i in 0..<run { dxRow[left + i * leftStep] += dy[output + i] * scale }
                            } else {
                                for i in 0..<run { dxRow[left + i * leftStep] += dy[output + i] * b[right + i * rightStep] }
                            }
                        } else if rightStep == 0 {
                            // The run reduces onto one element of dB: sum in a register, store once.
                            var sum: Float = 0
                            for i in 0..<run { sum += dy[output + i] * a[left + i * leftStep] }
                            dxRow[right] += sum
                        } else {
                            for i in 0..<run { dxRow[right + i * rightStep] += dy[output + i] * a[left + i * leftStep] }
                        }
                    }
                }
            }
        }
    }

    /// Which operand is a gate, if one is: the other operand is not broadcast and is contiguous
    /// along the innermost runs, and the gate is constant along them (`N×C×H×W · N×C×1×1` in
    /// either order, `C×1×1` scales, scalars).
    private func gateOperand(_ invocation: BackwardInvocation, layout: BroadcastLayout, rightShape: TensorShape) -> Int? {
        if invocation.inputShapes[0] == invocation.outputShape && layout.leftStrides[3] == 1 && layout.rightStrides[3] == 0 {
            return 1
        }
        if dataInputCount == 2, rightShape == invocation.outputShape, layout.rightStrides[3] == 1, layout.leftStrides[3] == 0 {
            return 0
        }
        return nil
    }

    /// The VJP with operand `gate` a gate, one run (values sharing one gate value `g`) at a
    /// time: `dData_run = g · dY_run`, written (or added) in place without zeroing first, and
    /// `dGate[g] += dY_run · Data_run` as one dot product.
    private func backwardGated(_ invocation: BackwardInvocation, input: Int, gate: Int, layout: BroadcastLayout,
                               rightCount: Int) {
        let run = layout.extents[3]
        let outputCount = invocation.outputShape.elementCount
        let gateCount = gate == 0 ? invocation.inputShapes[0].elementCount : rightCount
        let dx = input == gate ? invocation.zeroedGradient(input) : invocation.inputGradients[input]
        guard let dx else { return }
        let accumulate = input == gate || invocation.accumulate[input]
        let threads = invocation.rows * outputCount >= 1 << 16 ? invocation.team.count : 1
        invocation.team.forEach(items: invocation.rows, threads: threads) { row, _ in
            let frame = row / invocation.cotangentsPerFrame
            let dy = invocation.outputGradient + row * outputCount
            let left = UnsafePointer(invocation.inputs[0] + frame * invocation.inputShapes[0].elementCount)
            operand.withFrame(frame, inputs: invocation.inputs, count: rightCount) { right in
                let (data, gateValues) = gate == 1 ? (left, right) : (right, left)
                layout.forEachRun { output, leftOffset, rightOffset in
                    let gateOffset = gate == 1 ? rightOffset : leftOffset
                    if input == gate {
                        dx[row * gateCount + gateOffset] += cblas_sdot(Int32(run), dy + output, 1, data + output, 1)
                    } else {
                        let target = dx + row * outputCount + output, source = dy + output, scale = gateValues[gateOffset]
                        if accumulate {
                            cblas_saxpy(Int32(run), scale, source, 1, target, 1)
                        } else {
                            for i in 0..<run { target[i] = source[i] * scale }
                        }
                    }
                }
            }
        }
    }
}
