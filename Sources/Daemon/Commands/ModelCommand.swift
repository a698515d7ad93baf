import ArgumentParser
import Engine
import Foundation

/// `saliencyd model …`: inspect models.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect models.", subcommands: [ModelInfoCommand.self])
}

/// `saliencyd model info MODEL.onnx`: what saliencyd makes of an ONNX model.
struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model's inputs, outputs, operators, parameters, FLOPs and folded nodes.")

    @Argument(help: "The ONNX model file.") var model: String
    @Option(help: "Input size HxW for models whose height and width are dynamic (e.g. 224x224).")
    var inputSize: String?

    func run() throws {
        var options = ONNXImportOptions()
        if let inputSize {
            let parts = inputSize.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--input-size must look like 224x224, got '\(inputSize)'")
            }
            options = ONNXImportOptions(inputHeight: parts[0], inputWidth: parts[1])
        }
        let imported = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: model), options: options)
        let compiled = try CompiledModel(imported.graph)
        let engineOperators = Dictionary(compiled.nodes.map { ($0.op.typeName, 1) }, uniquingKeysWith: +)

        func row(_ label: String, _ value: String) { print(label.padding(toLength: 12, withPad: " ", startingAt: 0) + value) }
        func counts(_ counts: [String: Int]) -> String {
            counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        row("model", "\(imported.graph.name) (\(model))")
        row("producer", "\(imported.producer.isEmpty ? "unknown" : imported.producer), opset \(imported.opsetVersion)")
        row("input", "\(imported.inputName): \(imported.inputDimensions.joined(separator: "×"))"
            + " → runs as N×\(compiled.inputShape)\(imported.batchIsDynamic ? "" : " (static batch in the file; run as dynamic)")")
        for (name, shape) in imported.graph.auxiliaryInputs {
            row("auxiliary", "\(name): N×\(shape) (read per frame; saliency is taken on '\(imported.inputName)' only)")
        }
        row("output", "\(imported.outputName): \(imported.outputDimensions.joined(separator: "×"))")
        row("classes", "\(compiled.classCount), logits tensor '\(compiled.tensorNames[compiled.logitsTensor])'"
            + (compiled.logitsTensor == compiled.outputTensor ? "" : " (saliency is taken before the final softmax)"))
        row("operators", "\(imported.operatorCounts.values.reduce(0, +)) ONNX nodes: \(counts(imported.operatorCounts))")
        row("engine", "\(compiled.nodes.count) nodes: \(counts(engineOperators))")
        row("folded", compiled.foldedNodes.isEmpty ? "none" : "\(compiled.foldedNodes.count): " + compiled.foldedNodes.joined(separator: ", "))
        row("fused", compiled.fusedNodes.isEmpty ? "none" : "\(compiled.fusedNodes.count): " + compiled.fusedNodes.joined(separator: ", "))
        row("parameters", "\(imported.parameterCount.formatted()) (floating-point initializers)")
        row("FLOPs", String(format: "%.4f GFLOP per image, forward", Double(compiled.forwardFLOPs) / 1e9))
    }
}
