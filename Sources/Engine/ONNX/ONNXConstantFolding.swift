/// Evaluates nodes whose inputs are all known at import: `Constant` nodes, weights wrapped in
/// `Identity`, and the shape arithmetic exporters emit around `Reshape`
/// (`Shape → Gather → Unsqueeze → Concat`).
enum ONNXConstantFolding {
    static func evaluate(_ node: ONNXNode, file: ONNXModelFile) throws(ONNXNodeError) -> ONNXConstant {
        func input(_ index: Int) throws(ONNXNodeError) -> ONNXConstant {
            guard let name = node.input(index), let value = node.constant(name) else {
                throw ONNXNodeError("input \(index) is missing")
            }
            return value
        }
        switch node.opType {
        case "Constant":
            return try constantNode(node, file: file)
        case "Identity", "Dropout":
            return try input(0)
        case "Cast":
            let value = try input(0)
            let to = try node.int("to")
            let floatTypes = [Onnx_TensorProto.DataType.float, .float16, .double, .bfloat16].map { Int($0.rawValue) }
            if floatTypes.contains(to) {
                guard let tensor = value.tensor else { throw ONNXNodeError("cannot cast the batch dimension to a float") }
                return .floats(tensor)
            }
            guard let integers = value.integers else { throw ONNXNodeError("cannot cast non-integral floats to integers") }
            return .ints(dims: value.dims, values: integers)
        case "Gather":
            return try gather(node, data: input(0), indices: input(1))
        case "Unsqueeze", "Squeeze":
            return try squeeze(node, value: input(0))
        case "Concat":
            let values = try node.presentInputs.indices.map { (index) throws(ONNXNodeError) in try input(index) }
            return try concat(node, values)
        case "Reshape":
            let value = try input(0)
            let shape = try node.ints(node.requiredInput(1), "shape")
            let count = value.dims.reduce(1, *)
            var dims = shape.enumerated().map { $0.element == 0 && $0.offset < value.dims.count ? value.dims[$0.offset] : $0.element }
            if let unknown = dims.firstIndex(of: -1) {
                let known = dims.filter { $0 != -1 }.reduce(1, *)
                guard known > 0 else { throw ONNXNodeError("cannot reshape a constant of shape \(value.dims) to \(shape)") }
                dims[unknown] = count / known
            }
            guard dims.reduce(1, *) == count, dims.allSatisfy({ $0 >= 0 }) else {
                throw ONNXNodeError("cannot reshape a constant of shape \(value.dims) to \(shape)")
            }
            return value.reshaped(dims)
        case "Add", "Sub", "Mul", "Div":
            return try arithmetic(node, input(0), input(1))
        default:
            throw ONNXNodeError("operator \(node.opType) on constant inputs is not supported")
        }
    }

    private static func constantNode(_ node: ONNXNode, file: ONNXModelFile) throws(ONNXNodeError) -> ONNXConstant {
        if node.has("value") {
            let proto: Onnx_TensorProto
            do { proto = try node.proto.tensorAttribute("value") } catch { throw ONNXNodeError(error.reason) }
            do {
                return try ONNXTranslator.decode(proto, file: file, context: "value")
            } catch {
                throw ONNXNodeError(error.reason)
            }
        }
        if node.has("value_float") { return .floats(Tensor(scalar: try node.float("value_float"))) }
        if node.has("value_int") { return .ints(dims: [], values: [try node.int("value_int")]) }
        if node.has("value_ints") {
            let values = try node.ints("value_ints")
            return .ints(dims: [values.count], values: values)
        }
        if node.has("value_floats") {
            let values: [Float]
            do { values = try node.proto.floatsAttribute("value_floats") } catch { throw ONNXNodeError(error.reason) }
            return .floats(Tensor(shape: [values.count], values: values))
        }
        throw ONNXNodeError("a Constant needs one of value, value_float(s), value_int(s) (sparse and string values are not supported)")
    }

    private static func gather(_ node: ONNXNode, data: ONNXConstant, indices: ONNXConstant) throws(ONNXNodeError) -> ONNXConstant {
        let axis = try node.axis(node.int("axis", default: 0), rank: max(data.dims.count, 1))
        guard axis == 0, data.dims.count == 1, let values = data.integers, let positions = indices.integers else {
            throw ONNXNodeError("only Gather of integers along axis 0 of a 1-D constant is supported")
        }
        var result: [Int] = []
        for position in positions {
            let index = position < 0 ? position + values.count : position
            guard index >= 0 && index < values.count else { throw ONNXNodeError("index \(position) is out of range") }
            result.append(values[index])
        }
        return .ints(dims: indices.dims, values: result)
    }

    private static func squeeze(_ node: ONNXNode, value: ONNXConstant) throws(ONNXNodeError) -> ONNXConstant {
        let axes: [Int]
        if node.opset >= 13 {
            axes = try node.input(1).map { (name) throws(ONNXNodeError) in try node.ints(name, "axes") } ?? []
        } else {
            axes = try node.ints("axes", default: [])
        }
        var dims = value.dims
        if node.opType == "Unsqueeze" {
            let rank = dims.count + axes.count
            for axis in try axes.map({ (axis) throws(ONNXNodeError) in try node.axis(axis, rank: rank) }).sorted() {
                dims.insert(1, at: axis)
            }
        } else if axes.isEmpty {
            dims.removeAll { $0 == 1 }
        } else {
            let rank = dims.count
            for axis in try axes.map({ (axis) throws(ONNXNodeError) in try node.axis(axis, rank: rank) }).sorted(by: >) {
                guard dims[axis] == 1 else { throw ONNXNodeError("cannot squeeze axis \(axis) of extent \(dims[axis])") }
                dims.remove(at: axis)
            }
        }
        return value.reshaped(dims)
    }

    private static func concat(_ node: ONNXNode, _ values: [ONNXConstant]) throws(ONNXNodeError) -> ONNXConstant {
        let rank = values[0].dims.count
        guard rank == 1 || values.allSatisfy({ $0.dims.count == rank }) else {
            throw ONNXNodeError("constants of different ranks cannot be concatenated")
        }
        guard try node.axis(node.int("axis"), rank: max(rank, 1)) == 0, rank <= 1 else {
            throw ONNXNodeError("only concatenation of 1-D constants is supported")
        }
        if values.allSatisfy({ if case .ints = $0 { true } else { false } }) {
            let joined = values.flatMap { $0.integers ?? [] }
            return .ints(dims: [joined.count], values: joined)
        }
        var joined: [Float] = []
        for value in values {
            guard let tensor = value.tensor else { throw ONNXNodeError("cannot concatenate the batch dimension with floats") }
            joined += tensor.values
        }
        return .floats(Tensor(shape: [joined.count], values: joined))
    }

    private static func arithmetic(_ node: ONNXNode, _ left: ONNXConstant, _ right: ONNXConstant) throws(ONNXNodeError) -> ONNXConstant {
        func combine<T: Numeric>(_ a: [T], _ b: [T], _ op: (T, T) -> T) throws(ONNXNodeError) -> [T] {
            if a.count == b.count { return zip(a, b).map(op) }
            if b.count == 1 { return a.map { op($0, b[0]) } }
            if a.count == 1 { return b.map { op(a[0], $0) } }
            throw ONNXNodeError("constants of shapes \(left.dims) and \(right.dims) cannot be combined")
        }
        let dims = left.dims.reduce(1, *) >= right.dims.reduce(1, *) ? left.dims : right.dims
        if case .ints = left, case .ints = right, let a = left.integers, let b = right.integers {
            guard !a.contains(ONNXConstant.batch) && !b.contains(ONNXConstant.batch) else {
                throw ONNXNodeError("arithmetic on the batch dimension is not supported")
            }
            let result: [Int]
            switch node.opType {
            case "Add": result = try combine(a, b, +)
            case "Sub": result = try combine(a, b, -)
            case "Mul": result = try combine(a, b, *)
            default:
                guard !b.contains(0) else { throw ONNXNodeError("integer division by zero") }
                result = try combine(a, b, /)
            }
            return .ints(dims: dims, values: result)
        }
        guard let a = left.tensor?.values, let b = right.tensor?.values else {
            throw ONNXNodeError("arithmetic on the batch dimension is not supported")
        }
        let result: [Float]
        switch node.opType {
        case "Add": result = try combine(a, b, +)
        case "Sub": result = try combine(a, b, -)
        case "Mul": result = try combine(a, b, *)
        default: result = try combine(a, b, /)
        }
        return .floats(Tensor(shape: TensorShape(dims), values: result))
    }
}
