/// A CNN operator: a forward pass and its vector-Jacobian product (VJP) with respect to its data
/// inputs. Weights, biases and other constants live inside the operator value; only activations
/// flow through the graph, so there are no weight gradients.
///
/// Layout: every data input and the output are batches of frames, `N×frameShape`, stored
/// contiguously (`N×C×H×W` for feature maps). In the backward pass the output gradient holds
/// `N·K` rows — `K` cotangents for each of the `N` frames, row `n·K + k` — and each row is paired
/// with the forward values of frame `n`. Operators are called once per node per pass; their inner
/// loops are concrete code, never dynamic dispatch.
public protocol Operator: Sendable {
    /// The ONNX operator this implements, for messages and `model info` (e.g. `"Conv"`).
    var typeName: String { get }

    /// The number of data inputs the node must have.
    var dataInputCount: Int { get }

    /// The output frame shape for the given input frame shapes; throws when the attributes do not
    /// fit the inputs.
    func outputShape(inputShapes: [TensorShape]) throws(OperatorError) -> TensorShape

    /// Floats of scratch memory one forward or backward call needs (shared by all nodes).
    func scratchCount(inputShapes: [TensorShape], outputShape: TensorShape) -> Int

    /// Int32 state kept per output element from forward to backward (e.g. max-pool argmax).
    var keepsIndices: Bool { get }

    /// The operator ready to run on inputs of these frame shapes, called once by
    /// ``CompiledModel`` after shape inference (a convolution builds the transformed weights of
    /// the algorithm it will use for that shape). Default: unchanged.
    func prepared(inputShapes: [TensorShape]) -> any Operator

    /// Computes the output for `invocation.batch` frames.
    func forward(_ invocation: ForwardInvocation)

    /// Computes the input gradients for `batch·cotangentsPerFrame` output-gradient rows.
    func backward(_ invocation: BackwardInvocation)
}

extension Operator {
    public var dataInputCount: Int { 1 }
    public var keepsIndices: Bool { false }
    public func scratchCount(inputShapes: [TensorShape], outputShape: TensorShape) -> Int { 0 }
    public func prepared(inputShapes: [TensorShape]) -> any Operator { self }
}

/// Everything a forward call sees: pointers into the workspace, fixed at workspace creation.
public struct ForwardInvocation {
    /// One pointer per data input, each to `batch×inputShapes[i]` floats.
    public let inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    public let inputShapes: [TensorShape]
    /// `batch×outputShape` floats to write.
    public let output: UnsafeMutablePointer<Float>
    public let outputShape: TensorShape
    /// Number of frames.
    public let batch: Int
    /// Scratch memory of ``Operator/scratchCount(inputShapes:outputShape:)`` floats for each
    /// thread of `team`: thread `t`'s at `scratch + t·scratchStride`.
    public let scratch: UnsafeMutablePointer<Float>
    public let scratchStride: Int
    /// `batch×outputShape` Int32 values when ``Operator/keepsIndices``.
    public let indices: UnsafeMutablePointer<Int32>
    /// The threads the operator may spread its work over.
    public let team: ThreadTeam

    /// Frame `frame` of data input `input`.
    @inline(__always)
    public func input(_ input: Int, frame: Int) -> UnsafeMutablePointer<Float> {
        inputs[input] + frame * inputShapes[input].elementCount
    }
}

/// Everything a backward call sees. Output-gradient row `r` belongs to frame `r / cotangentsPerFrame`.
public struct BackwardInvocation {
    /// Forward values of the data inputs, `batch×inputShapes[i]`.
    public let inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    public let inputShapes: [TensorShape]
    /// Forward output, `batch×outputShape`.
    public let output: UnsafeMutablePointer<Float>
    public let outputShape: TensorShape
    /// Output gradient, `(batch·cotangentsPerFrame)×outputShape`.
    public let outputGradient: UnsafeMutablePointer<Float>
    /// Input gradients, `(batch·cotangentsPerFrame)×inputShapes[i]`; `nil` when input `i` needs none.
    public let inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>
    /// Whether input gradient `i` already holds a partial sum to add to (`true`) or must be
    /// overwritten (`false`).
    public let accumulate: UnsafeBufferPointer<Bool>
    public let batch: Int
    public let cotangentsPerFrame: Int
    /// Scratch for each thread of `team`, as in ``ForwardInvocation``.
    public let scratch: UnsafeMutablePointer<Float>
    public let scratchStride: Int
    /// The indices the forward pass kept, `batch×outputShape`.
    public let indices: UnsafeMutablePointer<Int32>
    /// The threads the operator may spread its work over.
    public let team: ThreadTeam

    /// Number of output-gradient rows: `batch·cotangentsPerFrame`.
    @inline(__always) public var rows: Int { batch * cotangentsPerFrame }

    /// Frame `frame` of forward data input `input`.
    @inline(__always)
    public func input(_ input: Int, frame: Int) -> UnsafeMutablePointer<Float> {
        inputs[input] + frame * inputShapes[input].elementCount
    }

    /// The gradient destination for `input`, or `nil`, zeroed first unless accumulating — for
    /// operators that scatter-add into it.
    public func zeroedGradient(_ input: Int) -> UnsafeMutablePointer<Float>? {
        guard let gradient = inputGradients[input] else { return nil }
        if !accumulate[input] {
            gradient.update(repeating: 0, count: rows * inputShapes[input].elementCount)
        }
        return gradient
    }
}
