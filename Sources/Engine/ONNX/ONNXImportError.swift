/// Why an ONNX model could not be imported: names the file and, where one is at fault, the node
/// (by name, or `<op>_<index>` when unnamed) and its operator.
public struct ONNXImportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model file.
    public var file: String
    /// The node at fault, if any.
    public var node: String?
    /// Its ONNX operator type.
    public var opType: String?
    /// What is wrong.
    public var reason: String

    public init(file: String, node: String? = nil, opType: String? = nil, reason: String) {
        self.file = file
        self.node = node
        self.opType = opType
        self.reason = reason
    }

    public var description: String {
        guard let node else { return "\(file): \(reason)" }
        return "\(file): node '\(node)'\(opType.map { " (\($0))" } ?? ""): \(reason)"
    }
}
