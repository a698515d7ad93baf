/// Numpy-style broadcasting of two operands over one frame (frame rank ≤ 4), as ONNX `Add` and
/// `Mul` use it: shapes are aligned on their last axis and a dimension of 1 repeats.
///
/// The output is walked as runs along its last axis; within a run each operand advances by its
/// stride there (1, or 0 when broadcast), so the inner loops are plain strided loops. Outer axes
/// along which both operands continue the run (each contiguous across it, or broadcast along
/// both) are merged into it: a `C×H×W · C×1×1` scaling (a squeeze-and-excitation gate) is `C`
/// runs of `H·W` with the gate constant along each, not `C·H` runs of `W`.
struct BroadcastLayout {
    /// Output extents, padded to four axes with leading 1s.
    let extents: SIMD4<Int>
    /// Element strides of the left and right operands along each output axis (0 when broadcast).
    let leftStrides: SIMD4<Int>
    let rightStrides: SIMD4<Int>

    /// The broadcast frame shape of `left` and `right`, or an error naming the mismatch.
    static func outputShape(_ left: TensorShape, _ right: TensorShape) throws(OperatorError) -> TensorShape {
        let rank = max(left.rank, right.rank)
        guard rank <= 4 else { throw OperatorError("broadcasting supports frames of rank ≤ 4, got \(left) and \(right)") }
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let a = axis - (rank - left.rank) >= 0 ? left[axis - (rank - left.rank)] : 1
            let b = axis - (rank - right.rank) >= 0 ? right[axis - (rank - right.rank)] : 1
            guard a == b || a == 1 || b == 1 else {
                throw OperatorError("shapes \(left) and \(right) do not broadcast (axis \(axis): \(a) vs \(b))")
            }
            result[axis] = max(a, b)
        }
        return TensorShape(result)
    }

    init(output: TensorShape, left: TensorShape, right: TensorShape) {
        var extents = Self.padded(output)
        var leftStrides = Self.broadcastStrides(of: left, over: extents)
        var rightStrides = Self.broadcastStrides(of: right, over: extents)
        // Merge the axes just outside the run into it while both operands continue it there.
        for axis in stride(from: 2, through: 0, by: -1) where extents[axis] != 1 {
            guard leftStrides[axis] == leftStrides[3] * extents[3], rightStrides[axis] == rightStrides[3] * extents[3]
            else { break }
            extents[3] *= extents[axis]
            (extents[axis], leftStrides[axis], rightStrides[axis]) = (1, 0, 0)
        }
        (self.extents, self.leftStrides, self.rightStrides) = (extents, leftStrides, rightStrides)
    }

    private static func padded(_ shape: TensorShape) -> SIMD4<Int> {
        var result = SIMD4<Int>(repeating: 1)
        for axis in 0..<shape.rank { result[4 - shape.rank + axis] = shape[axis] }
        return result
    }

    private static func broadcastStrides(of shape: TensorShape, over extents: SIMD4<Int>) -> SIMD4<Int> {
        let own = padded(shape)
        var strides = SIMD4<Int>(repeating: 0)
        var running = 1
        for axis in stride(from: 3, through: 0, by: -1) {
            strides[axis] = own[axis] == 1 && extents[axis] != 1 ? 0 : running
            running *= own[axis]
        }
        return strides
    }

    /// Calls `body(outputOffset, leftOffset, rightOffset)` for every run along the last axis; a
    /// run has `extents[3]` elements, the operands stepping by `leftStrides[3]` and `rightStrides[3]`.
    @inline(__always)
    func forEachRun(_ body: (Int, Int, Int) -> Void) {
        var output = 0
        for i in 0..<extents[0] {
            for j in 0..<extents[1] {
                for k in 0..<extents[2] {
                    let left = i * leftStrides[0] + j * leftStrides[1] + k * leftStrides[2]
                    let right = i * rightStrides[0] + j * rightStrides[1] + k * rightStrides[2]
                    body(output, left, right)
                    output += extents[3]
                }
            }
        }
    }
}

/// A binary elementwise operator's second operand: another activation, or a constant.
public enum BinaryOperand: Sendable, Equatable {
    /// The node's second data input.
    case input
    /// A constant broadcast against the first input; its shape is a frame shape (no batch axis).
    case constant(Tensor)
}

extension BinaryOperand {
    var dataInputCount: Int { if case .input = self { 2 } else { 1 } }

    /// The second operand's frame shape.
    func shape(_ inputShapes: [TensorShape]) -> TensorShape {
        switch self {
        case .input: inputShapes[1]
        case let .constant(tensor): tensor.shape
        }
    }

    /// Runs `body` with a pointer to the second operand of `frame`.
    @inline(__always)
    func withFrame<R>(_ frame: Int, inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>,
                      count: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        switch self {
        case .input: return body(inputs[1] + frame * count)
        case let .constant(tensor): return tensor.values.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
    }
}

extension BinaryOperand {
    /// The broadcast output frame shape; a constant may not enlarge the first input.
    func outputShape(_ inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        let output = try BroadcastLayout.outputShape(inputShapes[0], shape(inputShapes))
        guard output == inputShapes[0] || self == .input else {
            throw OperatorError("a constant of shape \(shape(inputShapes)) may not enlarge the input \(inputShapes[0])")
        }
        return output
    }

    /// `y = combine(a, b)` for every frame, `a` the first input and `b` this operand, broadcast,
    /// each run a plain loop when an operand is contiguous or constant along it. (efficientnet_b0's
    /// `C×H×W · C×1×1` gates took 1.7–1.8 ms a forward as strided loops over runs of `W`, 1.0–1.1
    /// as plain ones over runs of `H·W`, one thread; spread over two threads by runs they took
    /// longer, 2.1–2.4 ms, so the loop stays on the calling thread.)
    @inline(__always)
    func forward(_ invocation: ForwardInvocation, _ combine: (Float, Float) -> Float) {
        let rightShape = shape(invocation.inputShapes)
        let layout = BroadcastLayout(output: invocation.outputShape, left: invocation.inputShapes[0], right: rightShape)
        let run = layout.extents[3], leftStep = layout.leftStrides[3], rightStep = layout.rightStrides[3]
        for frame in 0..<invocation.batch {
            let a = UnsafePointer(invocation.input(0, frame: frame))
            let y = invocation.output + frame * invocation.outputShape.elementCount
            withFrame(frame, inputs: invocation.inputs, count: rightShape.elementCount) { b in
                layout.forEachRun { output, left, right in
                    let yRun = y + output, aRun = a + left, bRun = b + right
                    switch (leftStep, rightStep) {
                    case (1, 1): for i in 0..<run { yRun[i] = combine(aRun[i], bRun[i]) }
                    case (1, 0):
                        let constant = bRun[0]
                        for i in 0..<run { yRun[i] = combine(aRun[i], constant) }
                    case (0, 1):
                        let constant = aRun[0]
                        for i in 0..<run { yRun[i] = combine(constant, bRun[i]) }
                    default: for i in 0..<run { yRun[i] = combine(aRun[i * leftStep], bRun[i * rightStep]) }
                    }
                }
            }
        }
    }
}
