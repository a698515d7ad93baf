/// Structural checks of a ``Graph`` and its topological order.
enum TopologicalOrder {
    /// The node indices in an order where every node follows the producers of its inputs.
    ///
    /// Throws for duplicate node names, a tensor written twice (or the input overwritten), a
    /// tensor read but never produced, and cycles (naming the nodes on the cycle).
    static func sort(_ graph: Graph) throws(EngineError) -> [Int] {
        var producer: [String: Int] = [:]
        var names = Set<String>()
        let inputs = Set(graph.inputNames)
        for (index, node) in graph.nodes.enumerated() {
            guard names.insert(node.name).inserted else { throw .duplicateNode(node: node.name) }
            guard !inputs.contains(node.output), producer[node.output] == nil else {
                throw .duplicateTensor(tensor: node.output, node: node.name)
            }
            producer[node.output] = index
        }
        for node in graph.nodes {
            for input in node.inputs where !inputs.contains(input) && producer[input] == nil {
                throw .danglingTensor(node: node.name, tensor: input)
            }
        }

        // Iterative depth-first search; "onStack" marks the current path to report cycles.
        enum Mark { case unvisited, onStack, done }
        var marks = [Mark](repeating: .unvisited, count: graph.nodes.count)
        var order: [Int] = []
        order.reserveCapacity(graph.nodes.count)
        for root in graph.nodes.indices where marks[root] == .unvisited {
            var stack: [(node: Int, nextInput: Int)] = [(root, 0)]
            marks[root] = .onStack
            while let top = stack.last {
                let node = graph.nodes[top.node]
                if top.nextInput == node.inputs.count {
                    stack.removeLast()
                    marks[top.node] = .done
                    order.append(top.node)
                    continue
                }
                stack[stack.count - 1].nextInput += 1
                guard let dependency = producer[node.inputs[top.nextInput]] else { continue }
                switch marks[dependency] {
                case .done: continue
                case .onStack:
                    let start = stack.firstIndex { $0.node == dependency } ?? 0
                    throw .cycle(nodes: stack[start...].map { graph.nodes[$0.node].name })
                case .unvisited:
                    marks[dependency] = .onStack
                    stack.append((dependency, 0))
                }
            }
        }
        return order
    }
}
