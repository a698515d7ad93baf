/// Errors raised while building, compiling or running a graph. Every message names the node,
/// tensor or input that failed and why.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// A node's attributes or input shapes are not valid for its operator.
    case invalidNode(node: String, operator: String, reason: String)
    /// A node reads a tensor that no node produces and that is not the graph input.
    case danglingTensor(node: String, tensor: String)
    /// Two nodes write the same tensor, or a node writes the graph input.
    case duplicateTensor(tensor: String, node: String)
    /// Two nodes share a name.
    case duplicateNode(node: String)
    /// The nodes named form a cycle (no topological order exists).
    case cycle(nodes: [String])
    /// The graph's output is not produced by any node or does not depend on the input.
    case invalidOutput(tensor: String, reason: String)
    /// An input batch does not have the element count the model expects.
    case inputShapeMismatch(expected: String, actual: String)
    /// An input element is NaN or infinite.
    case nonFiniteInput(frame: Int, element: Int, value: Float)
    /// A request exceeds what the workspace was sized for at load.
    case capacityExceeded(what: String, requested: Int, capacity: Int)
    /// A requested class index is outside the model's classes.
    case classOutOfRange(index: Int, classCount: Int)
    /// `backward` was called before a `forward` for the same batch.
    case backwardWithoutForward

    public var description: String {
        switch self {
        case let .invalidNode(node, op, reason):
            return "node '\(node)' (\(op)): \(reason)"
        case let .danglingTensor(node, tensor):
            return "node '\(node)' reads tensor '\(tensor)', which no node produces and which is not the graph input"
        case let .duplicateTensor(tensor, node):
            return "node '\(node)' writes tensor '\(tensor)', which is already produced elsewhere"
        case let .duplicateNode(node):
            return "two nodes are named '\(node)'"
        case let .cycle(nodes):
            return "the graph has a cycle through nodes \(nodes.map { "'\($0)'" }.joined(separator: ", "))"
        case let .invalidOutput(tensor, reason):
            return "graph output '\(tensor)': \(reason)"
        case let .inputShapeMismatch(expected, actual):
            return "input shape mismatch: the model expects \(expected), got \(actual)"
        case let .nonFiniteInput(frame, element, value):
            return "input frame \(frame) has a non-finite value (\(value)) at element \(element)"
        case let .capacityExceeded(what, requested, capacity):
            return "\(what) \(requested) exceeds the workspace capacity of \(capacity)"
        case let .classOutOfRange(index, classCount):
            return "class index \(index) is outside the model's \(classCount) classes"
        case .backwardWithoutForward:
            return "backward pass requested before a forward pass on this workspace"
        }
    }
}

/// An operator's complaint about its attributes or input shapes, wrapped by the graph compiler
/// into ``EngineError/invalidNode(node:operator:reason:)`` with the node's name.
public struct OperatorError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
