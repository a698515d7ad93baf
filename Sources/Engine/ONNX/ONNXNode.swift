/// One ONNX node during translation: its inputs, attributes and the values known so far, with
/// every failure reported as an ``ONNXNodeError``.
struct ONNXNode {
    let proto: Onnx_NodeProto
    let name: String
    private let constants: [String: ONNXConstant]
    private let activations: [String: TensorShape]
    let opset: Int

    init(proto: Onnx_NodeProto, name: String, translator: ONNXTranslator) {
        self.proto = proto
        self.name = name
        self.constants = translator.constants
        self.activations = translator.activations
        self.opset = translator.opset
    }

    var opType: String { proto.opType }
    var output: String { proto.output.first ?? "" }

    /// Input `index`'s name, or `nil` when absent or left empty (an omitted optional input).
    func input(_ index: Int) -> String? {
        index < proto.input.count && !proto.input[index].isEmpty ? proto.input[index] : nil
    }

    /// Input `index`'s name; an error when absent.
    func requiredInput(_ index: Int) throws(ONNXNodeError) -> String {
        guard let name = input(index) else { throw ONNXNodeError("input \(index) is missing") }
        return name
    }

    /// The names of all present inputs.
    var presentInputs: [String] { proto.input.filter { !$0.isEmpty } }

    func isConstant(_ name: String) -> Bool { constants[name] != nil }
    func constant(_ name: String) -> ONNXConstant? { constants[name] }

    /// The frame shape of activation `name`.
    func activation(_ name: String) throws(ONNXNodeError) -> TensorShape {
        if let shape = activations[name] { return shape }
        if constants[name] != nil {
            throw ONNXNodeError("input '\(name)' is a constant where the engine needs an activation derived from the model input")
        }
        throw ONNXNodeError("input '\(name)' is not produced by any earlier node")
    }

    /// Float constant `name`, for `role` (e.g. "weights").
    func floats(_ name: String, _ role: String) throws(ONNXNodeError) -> Tensor {
        guard let constant = constants[name] else {
            throw ONNXNodeError("\(role) '\(name)' must be a constant (an initializer or Constant), not computed from the input")
        }
        guard let tensor = constant.tensor else { throw ONNXNodeError("\(role) '\(name)' is not numeric") }
        return tensor
    }

    /// Integer constant `name`, for `role` (e.g. "shape").
    func ints(_ name: String, _ role: String) throws(ONNXNodeError) -> [Int] {
        guard let constant = constants[name] else {
            throw ONNXNodeError("\(role) '\(name)' must be a constant, not computed from the input")
        }
        guard let values = constant.integers else { throw ONNXNodeError("\(role) '\(name)' must hold integers") }
        return values
    }

    /// A scalar float constant (a one-element tensor).
    func scalar(_ name: String, _ role: String) throws(ONNXNodeError) -> Float {
        let tensor = try floats(name, role)
        guard tensor.values.count == 1 else { throw ONNXNodeError("\(role) '\(name)' must be a scalar, it has shape \(tensor.shape)") }
        return tensor.values[0]
    }

    // MARK: Attributes

    func int(_ attribute: String, default value: Int? = nil) throws(ONNXNodeError) -> Int {
        do { return try proto.intAttribute(attribute, default: value) } catch { throw ONNXNodeError(error.reason) }
    }

    func ints(_ attribute: String, default value: [Int]? = nil) throws(ONNXNodeError) -> [Int] {
        do { return try proto.intsAttribute(attribute, default: value) } catch { throw ONNXNodeError(error.reason) }
    }

    func float(_ attribute: String, default value: Float? = nil) throws(ONNXNodeError) -> Float {
        do { return try proto.floatAttribute(attribute, default: value) } catch { throw ONNXNodeError(error.reason) }
    }

    func string(_ attribute: String, default value: String? = nil) throws(ONNXNodeError) -> String {
        do { return try proto.stringAttribute(attribute, default: value) } catch { throw ONNXNodeError(error.reason) }
    }

    func has(_ attribute: String) -> Bool { proto.attribute(named: attribute) != nil }

    /// Requires `attribute`, if present, to equal `expected` (for attributes the engine does not
    /// implement other values of).
    func require(_ attribute: String, equals expected: Int, _ meaning: String) throws(ONNXNodeError) {
        let value = try int(attribute, default: expected)
        guard value == expected else { throw ONNXNodeError("\(attribute) = \(value) is not supported (\(meaning))") }
    }

    /// Normalises `axis` (possibly negative) against a tensor of `rank` dimensions.
    func axis(_ axis: Int, rank: Int) throws(ONNXNodeError) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        guard normalised >= 0 && normalised < rank else {
            throw ONNXNodeError("axis \(axis) is outside a tensor of rank \(rank)")
        }
        return normalised
    }
}

extension ONNXFileError {
    /// The error's text without the node prefix (the importer names the node itself).
    var reason: String {
        switch self {
        case let .missingAttribute(_, _, attribute): "required attribute '\(attribute)' is missing"
        case let .invalidAttribute(_, _, attribute, reason): "attribute '\(attribute)' \(reason)"
        default: description
        }
    }
}
