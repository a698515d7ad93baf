/// Forward and VJP of operators that keep their input's values and only relabel the shape
/// (identity, dropout at inference, flatten, reshape): the output is a copy, the VJP passes
/// `dy` straight through.
enum PassThrough {
    static func forward(_ invocation: ForwardInvocation) {
        invocation.output.update(from: invocation.inputs[0], count: invocation.batch * invocation.outputShape.elementCount)
    }

    static func backward(_ invocation: BackwardInvocation) {
        guard let dx = invocation.inputGradients[0] else { return }
        let count = invocation.rows * invocation.outputShape.elementCount
        if invocation.accumulate[0] {
            for i in 0..<count { dx[i] += invocation.outputGradient[i] }
        } else {
            dx.update(from: invocation.outputGradient, count: count)
        }
    }
}
