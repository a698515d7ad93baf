/// Concatenation of several data inputs along one axis (ONNX `Concat`; DenseNet and SqueezeNet
/// concatenate channels, `axis = 1`).
///
/// `axis` counts in the batched tensor (`N×C×H×W`: 1 is channels) and must not be the batch
/// axis; negative values count from the end. Inputs agree on every other axis.
/// VJP: each input receives its slice of `dy`.
public struct ConcatOperator: Operator {
    public var axis: Int
    public var inputCount: Int
    public init(axis: Int = 1, inputCount: Int) {
        self.axis = axis
        self.inputCount = inputCount
    }

    public var typeName: String { "Concat" }
    public var dataInputCount: Int { inputCount }

    /// The axis within a frame (batch axis removed).
    private func frameAxis(rank: Int) -> Int { axis < 0 ? axis + rank : axis - 1 }

    public func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape {
        let first = inputShapes[0]
        let frameAxis = frameAxis(rank: first.rank)
        guard frameAxis >= 0 && frameAxis < first.rank else {
            throw OperatorError("axis \(axis) is the batch axis or outside inputs of rank \(first.rank + 1)")
        }
        var dimensions = first.dimensions
        for shape in inputShapes.dropFirst() {
            guard shape.rank == first.rank,
                  (0..<first.rank).allSatisfy({ $0 == frameAxis || shape[$0] == first[$0] }) else {
                throw OperatorError("input frame shapes \(inputShapes.map(\.description)) differ off axis \(axis)")
            }
            dimensions[frameAxis] += shape[frameAxis]
        }
        return TensorShape(dimensions)
    }

    /// Number of blocks before the axis, and each input's block length (its extent from the axis on).
    private func blocks(_ inputShapes: [TensorShape]) -> (outer: Int, outputBlock: Int) {
        let frameAxis = frameAxis(rank: inputShapes[0].rank)
        let outer = inputShapes[0].dimensions[..<frameAxis].reduce(1, *)
        let outputBlock = inputShapes.reduce(0) { $0 + $1.elementCount } / outer
        return (outer, outputBlock)
    }

    public func forward(_ invocation: ForwardInvocation) {
        let (outer, outputBlock) = blocks(invocation.inputShapes)
        for frame in 0..<invocation.batch {
            let y = invocation.output + frame * invocation.outputShape.elementCount
            var offset = 0
            for input in 0..<inputCount {
                let block = invocation.inputShapes[input].elementCount / outer
                let x = invocation.input(input, frame: frame)
                for o in 0..<outer { (y + o * outputBlock + offset).update(from: x + o * block, count: block) }
                offset += block
            }
        }
    }

    public func backward(_ invocation: BackwardInvocation) {
        let (outer, outputBlock) = blocks(invocation.inputShapes)
        var offset = 0
        for input in 0..<inputCount {
            let count = invocation.inputShapes[input].elementCount
            let block = count / outer
            defer { offset += block }
            guard let dx = invocation.inputGradients[input] else { continue }
            let accumulate = invocation.accumulate[input]
            for row in 0..<invocation.rows {
                let dy = invocation.outputGradient + row * invocation.outputShape.elementCount
                for o in 0..<outer {
                    let source = dy + o * outputBlock + offset
                    let destination = dx + row * count + o * block
                    if accumulate {
                        for i in 0..<block { destination[i] += source[i] }
                    } else {
                        destination.update(from: source, count: block)
                    }
                }
            }
        }
    }
}
