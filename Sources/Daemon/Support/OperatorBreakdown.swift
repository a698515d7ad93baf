import Engine

/// Per-node milliseconds per image of forward, the gradient's backward and the Jacobian's
/// backward, measured with an ``OperatorProfile`` attached to the workspace (`bench --profile`).
struct OperatorBreakdown {
    struct Row: Encodable {
        var node: String
        var op: String
        var output: [Int]
        var forwardMs: Double
        var gradientBackwardMs: Double
        var jacobianBackwardMs: Double
    }

    var rows: [Row]

    /// Runs `repeats` forward passes, then `repeats` forward + predicted-class backward, then
    /// `repeats` forward + all-classes backward, timing every node (one warm-up run each).
    static func measure(_ workspace: Workspace, input: [Float], batch: Int, repeats: Int,
                        clock: TimingClock = .wall) throws -> OperatorBreakdown {
        let model = workspace.model
        let profile = OperatorProfile(nodeCount: model.nodes.count, clock: clock)
        let scale = 1e-6 / Double(repeats * batch)
        func run(_ cotangents: Cotangents?) throws -> (forward: [UInt64], backward: [UInt64]) {
            workspace.profile = nil
            try workspace.forward(input, batch: batch)
            if let cotangents { try workspace.backward(cotangents) }
            workspace.profile = profile
            profile.reset()
            for _ in 0..<repeats {
                try workspace.forward(input, batch: batch)
                if let cotangents { try workspace.backward(cotangents) }
            }
            workspace.profile = nil
            return (profile.forwardNanoseconds, profile.backwardNanoseconds)
        }
        let forward = try run(nil).forward
        let gradient = try run(.predictedClass).backward
        let jacobian = try run(.allClasses).backward
        let rows = model.nodes.indices.map { i in
            Row(node: model.nodes[i].name, op: describe(model.nodes[i]), output: model.nodes[i].outputShape.dimensions,
                forwardMs: Double(forward[i]) * scale, gradientBackwardMs: Double(gradient[i]) * scale,
                jacobianBackwardMs: Double(jacobian[i]) * scale)
        }
        return OperatorBreakdown(rows: rows)
    }

    /// The operator with the attributes that decide its cost, e.g. `Conv 3×3/2`, `Conv 3×3/1+relu`, `Add+relu`,
    /// `Conv dw 5×5/1`, `Conv 3×3/1 dense` (both passes as one dense matrix product) or
    /// `Conv 3×3/1 dense VJP≥64` (the VJP of calls of at least 64 cotangent rows; fewer run direct).
    static func describe(_ node: CompiledNode) -> String {
        if let addition = node.op as? AddOperator { return "Add" + (addition.activation.label.map { "+" + $0 } ?? "") }
        guard let conv = node.op as? ConvolutionOperator else { return node.op.typeName }
        let w = conv.window
        let kind = conv.groups == 1 ? "Conv" : conv.groups == node.inputShapes[0][0] ? "Conv dw" : "Conv g\(conv.groups)"
        let dense = switch conv.denseUse(inputShape: node.inputShapes[0]) {
        case .always: " dense"
        case .manyRows: " dense VJP≥\(ConvolutionOperator.denseMinimumRows)"
        case .never: ""
        }
        return "\(kind) \(w.kernelHeight)×\(w.kernelWidth)/\(w.strideHeight)" + (conv.activation.label.map { "+" + $0 } ?? "") + dense
    }

    /// The table `bench --profile` prints: every node, then totals per operator kind.
    func table() -> String {
        func ms(_ v: Double) -> String { String(format: "%9.3f", v) }
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? String(s.prefix(n)) : s.padding(toLength: n, withPad: " ", startingAt: 0)
        }
        let total = (rows.reduce(0) { $0 + $1.forwardMs }, rows.reduce(0) { $0 + $1.gradientBackwardMs },
                     rows.reduce(0) { $0 + $1.jacobianBackwardMs })
        var lines = ["per node, ms per image: forward | backward of one gradient | backward of the Jacobian",
                     pad("node", 28) + pad("op", 30) + pad("output", 14) + "  forward  grad bwd   Jac bwd"]
        for row in rows {
            lines.append(pad(row.node, 28) + pad(row.op, 30) + pad(row.output.map(String.init).joined(separator: "×"), 14)
                         + ms(row.forwardMs) + ms(row.gradientBackwardMs) + ms(row.jacobianBackwardMs))
        }
        lines.append(pad("total", 72) + ms(total.0) + ms(total.1) + ms(total.2))
        lines.append("")
        lines.append("per operator kind (share of the column's total):")
        var kinds: [String: (Double, Double, Double)] = [:]
        for row in rows {
            let sum = kinds[row.op] ?? (0, 0, 0)
            kinds[row.op] = (sum.0 + row.forwardMs, sum.1 + row.gradientBackwardMs, sum.2 + row.jacobianBackwardMs)
        }
        func share(_ v: Double, _ t: Double) -> String { String(format: "%9.3f %4.0f%%", v, t > 0 ? 100 * v / t : 0) }
        for (kind, v) in kinds.sorted(by: { $0.value.2 > $1.value.2 }) {
            lines.append(pad(kind, 30) + share(v.0, total.0) + share(v.1, total.1) + share(v.2, total.2))
        }
        return lines.joined(separator: "\n")
    }
}
