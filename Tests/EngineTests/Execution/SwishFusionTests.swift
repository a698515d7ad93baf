import Foundation
import Testing
@testable import Engine

/// `Mul(x, Sigmoid(x))` — PyTorch's export of `SiLU` — becomes one Swish node only when the
/// sigmoid's output is read by nothing else, and the fused graph computes the same values and VJPs.
@Suite struct SwishFusionTests {
    @Test(arguments: [false, true])
    func fusesSigmoidTimesItsInput(sigmoidFirst: Bool) throws {
        let shape: TensorShape = [2, 3, 5]
        var builder = GraphBuilder(name: "silu", inputShape: shape)
        let gate = builder.add(SigmoidOperator(), builder.input, name: "sigmoid")
        if sigmoidFirst {
            builder.add(MultiplyOperator(), gate, builder.input, name: "mul")
        } else {
            builder.add(MultiplyOperator(), builder.input, gate, name: "mul")
        }
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes == ["sigmoid → mul"])
        #expect(model.nodes.map(\.op.typeName) == ["Swish"])
        try checkGraph(builder.build(), reference: { $0.map { $0 / (1 + exp(-$0)) } }, batch: 3, inputRange: -6...6)
    }

    @Test func keepsTheSigmoidWhenItIsReadElsewhere() throws {
        var builder = GraphBuilder(name: "shared", inputShape: [2, 3, 3])
        let gate = builder.add(SigmoidOperator(), builder.input)
        let product = builder.add(MultiplyOperator(), builder.input, gate)
        builder.add(AddOperator(), product, gate)
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes.isEmpty)
        #expect(model.nodes.map(\.op.typeName) == ["Sigmoid", "Mul", "Add"])
    }

    /// A squeeze-excitation gate multiplies a tensor by the sigmoid of something else: no Swish.
    @Test func keepsASigmoidOfAnotherTensor() throws {
        var builder = GraphBuilder(name: "gate", inputShape: [2, 3, 3])
        let squeezed = builder.add(SpatialMeanOperator(), builder.input)
        let gate = builder.add(SigmoidOperator(), squeezed)
        builder.add(MultiplyOperator(), builder.input, gate)
        let model = try CompiledModel(builder.build())
        #expect(model.fusedNodes.isEmpty)
        #expect(model.nodes.map(\.op.typeName) == ["GlobalAveragePool", "Sigmoid", "Mul"])
    }
}
