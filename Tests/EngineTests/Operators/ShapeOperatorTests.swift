import Testing
@testable import Engine

@Suite struct ShapeOperatorTests {
    @Test func concatChannelsByHand() throws {
        var builder = GraphBuilder(name: "concat", inputShape: [1, 2, 2])
        let relu = builder.add(ReLUOperator(), builder.input)
        builder.add(ConcatOperator(axis: 1, inputCount: 2), builder.input, relu)
        let model = try CompiledModel(builder.build())
        #expect(model.tensorShapes[model.outputTensor] == [2, 2, 2])
        let workspace = Workspace(model: model)
        try workspace.forward([-1, 2, -3, 4], batch: 1)
        #expect(Array(workspace.outputs) == [-1, 2, -3, 4, 0, 2, 0, 4])
    }

    @Test(arguments: [1, 2, 3, -1, -2])
    func concatAlongAnyFrameAxis(axis: Int) throws {
        let shape: TensorShape = [2, 3, 4]
        var builder = GraphBuilder(name: "concat", inputShape: shape)
        let relu = builder.add(ReLUOperator(), builder.input)
        let scaled = builder.add(MultiplyOperator(operand: .constant(Tensor(scalar: -2))), builder.input)
        builder.add(ConcatOperator(axis: axis, inputCount: 3), builder.input, relu, scaled)
        try checkGraph(builder.build()) { x in
            let parts = [x, x.map { max($0, 0) }, x.map { -2 * $0 }]
            let frameAxis = axis < 0 ? axis + 3 : axis - 1
            let outer = shape.dimensions[..<frameAxis].reduce(1, *)
            let block = shape.elementCount / outer
            var result: [Double] = []
            for o in 0..<outer { for part in parts { result += part[(o * block)..<((o + 1) * block)] } }
            return result
        }
    }

    @Test func concatRejectsTheBatchAxisAndMismatchedShapes() throws {
        var builder = GraphBuilder(name: "bad-concat", inputShape: [2, 3, 3])
        let pooled = builder.add(MaxPoolOperator(window: SpatialWindow(kernel: 2)), builder.input)
        builder.add(ConcatOperator(axis: 1, inputCount: 2), builder.input, pooled, name: "join")
        let error = #expect(throws: EngineError.self) { _ = try CompiledModel(builder.build()) }
        #expect(error?.description.hasPrefix("node 'join' (Concat): input frame shapes") == true)
        let batchAxis = ConcatOperator(axis: 0, inputCount: 1)
        #expect(throws: EngineError.self) { _ = try CompiledModel(singleNodeGraph(batchAxis, inputShape: [2, 3])) }
    }

    /// flatten → reshape → identity → dropout: values pass through, gradients pass back.
    @Test func flattenReshapeIdentity() throws {
        var builder = GraphBuilder(name: "views", inputShape: [2, 3, 2])
        let flat = builder.add(FlattenOperator(), builder.input)
        let reshaped = builder.add(ReshapeOperator(frameShape: [3, 4]), flat)
        let identity = builder.add(IdentityOperator(), reshaped)
        let dropout = builder.add(IdentityOperator(typeName: "Dropout"), identity)
        // A non-linearity, so the VJP check is not only a copy.
        builder.add(SigmoidOperator(), dropout)
        let model = try CompiledModel(builder.build())
        #expect(model.tensorShapes[model.outputTensor] == [3, 4])
        try checkGraph(builder.build()) { x in x.map { 1 / (1 + exp(-$0)) } }
    }

    @Test func reshapeRejectsAWrongElementCount() throws {
        let error = #expect(throws: EngineError.self) {
            _ = try CompiledModel(singleNodeGraph(ReshapeOperator(frameShape: [5]), inputShape: [2, 3]))
        }
        #expect(error?.description == "node 'node' (Reshape): cannot reshape frames of shape 2×3 to 5")
    }
}

import Foundation
