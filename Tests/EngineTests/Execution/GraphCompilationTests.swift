import Testing
@testable import Engine

@Suite struct GraphCompilationTests {
    private func node(_ name: String, _ inputs: [String], _ output: String, _ op: any Operator = ReLUOperator()) -> GraphNode {
        GraphNode(name: name, op: op, inputs: inputs, output: output)
    }

    private func graph(_ nodes: [GraphNode], output: String) -> Graph {
        Graph(name: "g", inputName: "x", inputShape: [1, 2, 2], nodes: nodes, outputName: output)
    }

    @Test func aCycleIsAnErrorNamingItsNodes() {
        let nodes = [node("first", ["x"], "a"), node("left", ["a", "c"], "b", AddOperator()), node("right", ["b"], "c")]
        #expect(throws: EngineError.cycle(nodes: ["left", "right"])) {
            _ = try CompiledModel(graph(nodes, output: "c"))
        }
        #expect(EngineError.cycle(nodes: ["left", "right"]).description
                == "the graph has a cycle through nodes 'left', 'right'")
    }

    @Test func aDanglingTensorIsAnErrorNamingTheNodeAndTensor() {
        let nodes = [node("relu", ["x"], "a"), node("sum", ["a", "nowhere"], "b", AddOperator())]
        #expect(throws: EngineError.danglingTensor(node: "sum", tensor: "nowhere")) {
            _ = try CompiledModel(graph(nodes, output: "b"))
        }
    }

    @Test func duplicateNamesAndTensorsAreErrors() {
        #expect(throws: EngineError.duplicateNode(node: "relu")) {
            _ = try CompiledModel(graph([node("relu", ["x"], "a"), node("relu", ["a"], "b")], output: "b"))
        }
        #expect(throws: EngineError.duplicateTensor(tensor: "a", node: "second")) {
            _ = try CompiledModel(graph([node("first", ["x"], "a"), node("second", ["x"], "a")], output: "a"))
        }
        #expect(throws: EngineError.duplicateTensor(tensor: "x", node: "overwrite")) {
            _ = try CompiledModel(graph([node("overwrite", ["x"], "x")], output: "x"))
        }
    }

    @Test func anOutputNobodyProducesIsAnError() {
        #expect(throws: EngineError.invalidOutput(tensor: "missing", reason: "no node produces it")) {
            _ = try CompiledModel(graph([node("relu", ["x"], "a")], output: "missing"))
        }
    }

    @Test func aWrongNumberOfInputsIsAnErrorNamingTheNode() {
        #expect(throws: EngineError.invalidNode(node: "sum", operator: "Add", reason: "expects 2 data input(s), got 1")) {
            _ = try CompiledModel(graph([node("sum", ["x"], "a", AddOperator())], output: "a"))
        }
    }

    @Test func nodesInAnyOrderAreSortedAndUnusedNodesDropped() throws {
        let nodes = [
            node("last", ["b"], "c", MultiplyOperator(operand: .constant(Tensor(scalar: 2)))),
            node("unused", ["x"], "u", SigmoidOperator()),
            node("middle", ["a"], "b", AddOperator(operand: .constant(Tensor(scalar: 1)))),
            node("first", ["x"], "a"),
        ]
        let model = try CompiledModel(graph(nodes, output: "c"))
        #expect(model.nodes.map(\.name) == ["first", "middle", "last"])
        #expect(model.backwardOrder == [2, 1, 0])
        let workspace = Workspace(model: model)
        try workspace.forward([-1, 0, 1, 2], batch: 1)
        #expect(Array(workspace.outputs) == [2, 2, 4, 6])
    }

    /// A final softmax is run forward, but saliency is taken on its input, the logits.
    @Test func aFinalSoftmaxMovesTheLogitsToItsInput() throws {
        let base = TestGraphs.mixed()
        var withSoftmax = base
        withSoftmax.nodes.append(GraphNode(name: "softmax", op: SoftmaxOperator(), inputs: [base.outputName], output: "probabilities"))
        withSoftmax.outputName = "probabilities"

        let plain = try CompiledModel(base), softmax = try CompiledModel(withSoftmax)
        #expect(softmax.tensorNames[softmax.logitsTensor] == base.outputName)
        #expect(softmax.classCount == 5)
        var random = SeededGenerator(seed: 4)
        let input = random.uniform(count: 2 * 3 * 12 * 12, in: 0...1)
        let a = Workspace(model: plain, maxBatch: 2), b = Workspace(model: softmax, maxBatch: 2)
        try a.forward(input, batch: 2)
        try b.forward(input, batch: 2)
        try a.backward(.allClasses)
        try b.backward(.allClasses)
        #expect(Array(a.logits) == Array(b.logits))
        #expect(Array(a.inputGradient) == Array(b.inputGradient))
        let sums = (0..<2).map { frame in b.outputs[(frame * 5)..<(frame * 5 + 5)].reduce(0, +) }
        expectClose(sums, [1, 1] as [Float])
    }
}
