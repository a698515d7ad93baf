/// Translation of each supported ONNX operator into engine operators.
extension ONNXTranslator {
    /// The ONNX operators the importer translates (for `model info` and docs).
    static let supportedOperators: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "Div", "Dropout",
        "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu",
        "MatMul", "MaxPool", "Mul", "ReduceMean", "Relu", "Reshape", "Shape", "Sigmoid", "Softmax", "Squeeze",
        "Sub", "Unsqueeze",
    ]

    mutating func translate(_ node: ONNXNode) throws(ONNXNodeError) {
        // Nodes whose data inputs are all constants are evaluated now (shape arithmetic,
        // Identity-wrapped weights, Constant nodes).
        if node.opType == "Constant" || (!node.presentInputs.isEmpty && node.presentInputs.allSatisfy(node.isConstant)) {
            constants[node.output] = try ONNXConstantFolding.evaluate(node, file: file)
            return
        }
        switch node.opType {
        case "Conv": try convolution(node)
        case "BatchNormalization": try batchNormalization(node)
        case "Relu": try add(ReLUOperator(), inputs: [node.requiredInput(0)], node: node)
        case "LeakyRelu": try add(LeakyReLUOperator(alpha: node.float("alpha", default: 0.01)), inputs: [node.requiredInput(0)], node: node)
        case "Sigmoid": try add(SigmoidOperator(), inputs: [node.requiredInput(0)], node: node)
        case "HardSigmoid":
            try add(HardSigmoidOperator(alpha: node.float("alpha", default: 0.2), beta: node.float("beta", default: 0.5)),
                    inputs: [node.requiredInput(0)], node: node)
        case "HardSwish": try add(HardSwishOperator(), inputs: [node.requiredInput(0)], node: node)
        case "Clip": try clip(node)
        case "Add", "Sub", "Mul", "Div": try arithmetic(node)
        case "MaxPool", "AveragePool": try pool(node)
        case "GlobalAveragePool": try add(SpatialMeanOperator(), inputs: [node.requiredInput(0)], node: node)
        case "ReduceMean": try reduceMean(node)
        case "Concat": try concat(node)
        case "Flatten": try flatten(node)
        case "Reshape": try reshape(node)
        case "Gemm": try gemm(node)
        case "MatMul": try matMul(node)
        case "Identity": try add(IdentityOperator(typeName: node.opType), inputs: [node.requiredInput(0)], node: node)
        case "Dropout":
            if let training = node.input(2), try node.ints(training, "training_mode").contains(where: { $0 != 0 }) {
                throw ONNXNodeError("training-mode dropout is not supported (inference only)")
            }
            try add(IdentityOperator(typeName: node.opType), inputs: [node.requiredInput(0)], node: node)
        case "Cast":
            guard try node.int("to") == Int(Onnx_TensorProto.DataType.float.rawValue) else {
                throw ONNXNodeError("casting an activation to \(onnxDataTypeName(Int32(try node.int("to")))) is not supported (only FLOAT)")
            }
            try add(IdentityOperator(typeName: "Cast"), inputs: [node.requiredInput(0)], node: node)
        case "Softmax": try softmax(node)
        case "Shape": try shape(node)
        default:
            throw ONNXNodeError("operator \(node.opType) is not supported; supported: \(Self.supportedOperators.joined(separator: ", "))")
        }
    }

    // MARK: Convolution and normalisation

    private mutating func convolution(_ node: ONNXNode) throws(ONNXNodeError) {
        let weights = try node.floats(node.requiredInput(1), "weights")
        guard weights.shape.rank == 4 else {
            throw ONNXNodeError("only 2-D convolution is supported (weights M×C×kH×kW), got weights of shape \(weights.shape)")
        }
        if node.has("kernel_shape") {
            let kernel = try node.ints("kernel_shape")
            guard kernel == [weights.shape[2], weights.shape[3]] else {
                throw ONNXNodeError("kernel_shape \(kernel) does not match weights \(weights.shape)")
            }
        }
        let bias = try node.input(2).map { (name) throws(ONNXNodeError) in try node.floats(name, "bias").values }
        let (strides, dilations, padding) = try windowAttributes(node)
        try add(ConvolutionOperator(weights: weights, bias: bias, strides: strides, padding: padding,
                                    dilations: dilations, groups: node.int("group", default: 1)),
                inputs: [node.requiredInput(0)], node: node)
    }

    /// `strides`, `dilations` and the padding (`pads` or `auto_pad`) of a 2-D window.
    private func windowAttributes(_ node: ONNXNode) throws(ONNXNodeError) -> ((Int, Int), (Int, Int), WindowPadding) {
        let strides = try node.ints("strides", default: [1, 1])
        let dilations = try node.ints("dilations", default: [1, 1])
        let pads = try node.ints("pads", default: [0, 0, 0, 0])
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw ONNXNodeError("only 2-D windows are supported (strides \(strides), dilations \(dilations), pads \(pads))")
        }
        let padding: WindowPadding
        switch try node.string("auto_pad", default: "NOTSET") {
        case "NOTSET", "": padding = .explicit(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3])
        case "VALID": padding = .valid
        case "SAME_UPPER": padding = .sameUpper
        case "SAME_LOWER": padding = .sameLower
        case let other: throw ONNXNodeError("auto_pad '\(other)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
        return ((strides[0], strides[1]), (dilations[0], dilations[1]), padding)
    }

    private mutating func batchNormalization(_ node: ONNXNode) throws(ONNXNodeError) {
        try node.require("training_mode", equals: 0, "only inference-mode batch normalisation")
        let parameters = try (1...4).map { (index) throws(ONNXNodeError) in
            try node.floats(node.requiredInput(index), ["scale", "B", "mean", "var"][index - 1]).values
        }
        try add(BatchNormalizationOperator(scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                           variance: parameters[3], epsilon: node.float("epsilon", default: 1e-5)),
                inputs: [node.requiredInput(0)], node: node)
    }

    private mutating func clip(_ node: ONNXNode) throws(ONNXNodeError) {
        let minimum = try node.input(1).map { (name) throws(ONNXNodeError) in try node.scalar(name, "min") } ?? -.greatestFiniteMagnitude
        let maximum = try node.input(2).map { (name) throws(ONNXNodeError) in try node.scalar(name, "max") } ?? .greatestFiniteMagnitude
        try add(ClipOperator(minimum: minimum, maximum: maximum), inputs: [node.requiredInput(0)], node: node)
    }

    // MARK: Elementwise arithmetic

    private mutating func arithmetic(_ node: ONNXNode) throws(ONNXNodeError) {
        let left = try node.requiredInput(0), right = try node.requiredInput(1)
        let op = node.opType
        switch (node.isConstant(left), node.isConstant(right)) {
        case (false, false):
            let engineOp: any Operator = switch op {
            case "Add": AddOperator()
            case "Sub": SubtractOperator()
            case "Mul": MultiplyOperator()
            default: DivideOperator()
            }
            try add(engineOp, inputs: [left, right], node: node)
        case (false, true), (true, false):
            let swapped = node.isConstant(left)
            guard !swapped || op == "Add" || op == "Mul" else {
                throw ONNXNodeError("\(op) with a constant first operand and an activation second is not supported")
            }
            let data = swapped ? right : left
            var constant = try frameConstant(try node.floats(swapped ? left : right, "operand"), against: node.activation(data))
            switch op {
            case "Sub": constant.values = constant.values.map { -$0 }
            case "Div": constant.values = constant.values.map { 1 / $0 }
            default: break
            }
            let operand = BinaryOperand.constant(constant)
            let engineOp: any Operator = op == "Add" || op == "Sub" ? AddOperator(operand: operand) : MultiplyOperator(operand: operand)
            try add(engineOp, inputs: [data], node: node)
        case (true, true):
            preconditionFailure("constant operands are folded before translation")
        }
    }

    /// A constant broadcast against an activation of frame shape `frame`, with the batch axis
    /// removed: `1×C×1×1` becomes `C×1×1`; lower ranks align on the last axis.
    private func frameConstant(_ tensor: Tensor, against frame: TensorShape) throws(ONNXNodeError) -> Tensor {
        let fullRank = frame.rank + 1
        var dims = tensor.shape.dimensions
        guard dims.count <= fullRank else {
            throw ONNXNodeError("constant of shape \(tensor.shape) has more dimensions than the activation (N×\(frame))")
        }
        if dims.count == fullRank {
            guard dims[0] == 1 else { throw ONNXNodeError("constant of shape \(tensor.shape) varies along the batch axis") }
            dims.removeFirst()
        }
        return Tensor(shape: TensorShape(dims), values: tensor.values)
    }

    // MARK: Pooling and reductions

    private mutating func pool(_ node: ONNXNode) throws(ONNXNodeError) {
        let kernel = try node.ints("kernel_shape")
        guard kernel.count == 2 else { throw ONNXNodeError("only 2-D pooling is supported, kernel_shape is \(kernel)") }
        try node.require("storage_order", equals: 0, "column-major indices")
        let (strides, dilations, padding) = try windowAttributes(node)
        let window = SpatialWindow(kernelHeight: kernel[0], kernelWidth: kernel[1], strideHeight: strides.0,
                                   strideWidth: strides.1, dilationHeight: dilations.0, dilationWidth: dilations.1,
                                   padding: padding, ceilMode: try node.int("ceil_mode", default: 0) != 0)
        let op: any Operator = node.opType == "MaxPool"
            ? MaxPoolOperator(window: window)
            : AveragePoolOperator(window: window, countIncludePad: try node.int("count_include_pad", default: 0) != 0)
        try add(op, inputs: [node.requiredInput(0)], node: node)
    }

    private mutating func reduceMean(_ node: ONNXNode) throws(ONNXNodeError) {
        let data = try node.requiredInput(0)
        let frame = try node.activation(data)
        let axes: [Int]
        if opset >= 18 {
            axes = try node.input(1).map { (name) throws(ONNXNodeError) in try node.ints(name, "axes") } ?? []
        } else {
            axes = try node.ints("axes", default: [])
        }
        let normalised = try Set(axes.map { (axis) throws(ONNXNodeError) in try node.axis(axis, rank: frame.rank + 1) })
        let keep = try node.int("keepdims", default: 1) != 0
        guard !normalised.isEmpty, !normalised.contains(0) else {
            throw ONNXNodeError("ReduceMean over axes \(axes) of N×\(frame) would average across the batch axis")
        }
        if frame.rank == 3 && normalised == [2, 3] {
            try add(SpatialMeanOperator(keepDimensions: keep, typeName: "ReduceMean"), inputs: [data], node: node)
        } else {
            try add(ReduceMeanOperator(axes: Set(normalised.map { $0 - 1 }), keepDimensions: keep), inputs: [data], node: node)
        }
    }

    // MARK: Shapes

    private mutating func concat(_ node: ONNXNode) throws(ONNXNodeError) {
        let inputs = node.presentInputs
        if let constant = inputs.first(where: node.isConstant) {
            throw ONNXNodeError("concatenating the constant '\(constant)' with activations is not supported")
        }
        let frame = try node.activation(inputs[0])
        let axis = try node.axis(node.int("axis"), rank: frame.rank + 1)
        guard axis > 0 else { throw ONNXNodeError("concatenation along the batch axis is not supported") }
        try add(ConcatOperator(axis: axis, inputCount: inputs.count), inputs: inputs, node: node)
    }

    private mutating func flatten(_ node: ONNXNode) throws(ONNXNodeError) {
        let data = try node.requiredInput(0)
        let frame = try node.activation(data)
        let axis = try node.axis(node.int("axis", default: 1), rank: frame.rank + 1)
        guard axis == 1 else {
            throw ONNXNodeError("Flatten with axis \(axis) of N×\(frame) is not supported (only axis 1, which keeps the batch axis)")
        }
        try add(FlattenOperator(), inputs: [data], node: node)
    }

    private mutating func reshape(_ node: ONNXNode) throws(ONNXNodeError) {
        let data = try node.requiredInput(0)
        let frame = try node.activation(data)
        let target = try node.ints(node.requiredInput(1), "shape")
        guard let first = target.first else { throw ONNXNodeError("shape is empty; the batch axis must stay first") }
        let allowZero = try node.int("allowzero", default: 0) != 0
        guard first == ONNXConstant.batch || first == -1 || (first == 0 && !allowZero) || first == (staticBatch ?? 1) else {
            throw ONNXNodeError("shape \(target) does not keep the batch axis first")
        }
        var dims: [Int] = []
        var inferred: Int? = nil
        for (axis, value) in target.enumerated().dropFirst() {
            switch value {
            case 0 where !allowZero:
                guard axis - 1 < frame.rank else { throw ONNXNodeError("shape \(target) copies axis \(axis), which N×\(frame) lacks") }
                dims.append(frame[axis - 1])
            case -1:
                guard inferred == nil, first != -1 else { throw ONNXNodeError("shape \(target) has more than one -1") }
                inferred = dims.count
                dims.append(1)
            case let positive where positive > 0:
                dims.append(positive)
            default:
                throw ONNXNodeError("shape \(target) has an unsupported entry \(value == ONNXConstant.batch ? "batch" : String(value))")
            }
        }
        if let inferred {
            let known = dims.reduce(1, *)
            guard known > 0, frame.elementCount % known == 0 else {
                throw ONNXNodeError("cannot reshape frames of shape \(frame) to \(target)")
            }
            dims[inferred] = frame.elementCount / known
        }
        try add(ReshapeOperator(frameShape: TensorShape(dims)), inputs: [data], node: node)
    }

    private mutating func shape(_ node: ONNXNode) throws(ONNXNodeError) {
        let frame = try node.activation(node.requiredInput(0))
        var values = [staticBatch ?? ONNXConstant.batch] + frame.dimensions
        let rank = values.count
        var start = try node.int("start", default: 0), end = try node.int("end", default: rank)
        if start < 0 { start += rank }
        if end < 0 { end += rank }
        start = min(max(start, 0), rank)
        end = min(max(end, start), rank)
        values = Array(values[start..<end])
        constants[node.output] = .ints(dims: [values.count], values: values)
    }

    // MARK: Linear layers

    private mutating func gemm(_ node: ONNXNode) throws(ONNXNodeError) {
        try node.require("transA", equals: 0, "transposing the data input would move the batch axis")
        let weights = try node.floats(node.requiredInput(1), "B")
        let bias = try node.input(2).map { (name) throws(ONNXNodeError) in try node.floats(name, "C") }
        try add(GemmOperator(weights: weights, bias: bias, transposeWeights: node.int("transB", default: 0) != 0,
                             alpha: node.float("alpha", default: 1), beta: node.float("beta", default: 1)),
                inputs: [node.requiredInput(0)], node: node)
    }

    private mutating func matMul(_ node: ONNXNode) throws(ONNXNodeError) {
        let weights = try node.floats(node.requiredInput(1), "second operand")
        try add(MatMulOperator(weights: weights), inputs: [node.requiredInput(0)], node: node)
    }

    private mutating func softmax(_ node: ONNXNode) throws(ONNXNodeError) {
        let data = try node.requiredInput(0)
        let frame = try node.activation(data)
        let axis = try node.axis(node.int("axis", default: opset >= 13 ? -1 : 1), rank: frame.rank + 1)
        guard axis > 0 else { throw ONNXNodeError("softmax along the batch axis is not supported") }
        // Before opset 13, Softmax flattened the axes from `axis` on: the same as the last axis
        // only when `axis` is the last one.
        guard opset >= 13 || axis == frame.rank else {
            throw ONNXNodeError("opset \(opset) softmax over axes \(axis)… of N×\(frame) (flattened) is not supported; only the last axis")
        }
        try add(SoftmaxOperator(axis: axis == frame.rank ? nil : axis - 1), inputs: [data], node: node)
    }
}
