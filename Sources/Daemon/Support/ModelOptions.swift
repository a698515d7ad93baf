import ArgumentParser
import Engine
import Foundation

/// The options that choose a model and how frames are fed to it; each preprocessing option
/// overrides the model's sidecar (`model.json` beside `model.onnx`).
struct ModelOptions: ParsableArguments {
    @Option(help: "The ONNX model (default: the bundled Fashion-MNIST model).") var model: String?
    @Option(help: "Input size HxW for models whose height and width are dynamic (e.g. 224x224).") var inputSize: String?
    @Option(help: "Multiplier from pixel values to model units (default 1/255, or the sidecar's).") var scale: Float?
    @Option(help: "Per-channel mean subtracted after scaling, comma-separated (default 0).") var mean: String?
    @Option(help: "Per-channel standard deviation, comma-separated (default 1).") var std: String?
    @Option(help: "Channel order the model expects: rgb, bgr or gray.") var channelOrder: String?

    private func floats(_ text: String, _ name: String) throws -> [Float] {
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ValidationError("--\(name) takes comma-separated numbers, got '\(text)'") }
        return values.map { $0! }
    }

    /// Loads the model with the overrides applied.
    func load() throws -> ModelBundle {
        try Self.load(path: model, inputSize: inputSize, scale: scale, mean: try mean.map { try floats($0, "mean") },
                      std: try std.map { try floats($0, "std") }, channelOrder: channelOrder)
    }

    /// Loads the model at `path` (the bundled one if `nil`) with these overrides of its sidecar.
    static func load(path model: String?, inputSize: String?, scale: Float?, mean: [Float]?, std: [Float]?,
                     channelOrder: String?) throws -> ModelBundle {
        var size: (Int, Int)? = nil
        if let inputSize {
            let parts = inputSize.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--input-size must look like 224x224, got '\(inputSize)'")
            }
            size = (parts[0], parts[1])
        }
        let bundle = try ModelBundle.load(model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.url(), inputSize: size)
        var preprocessing: Preprocessing? = nil
        if scale != nil || mean != nil || std != nil {
            var p = bundle.preprocessing
            if let scale { p.scale = scale }
            if let mean { p.mean = mean }
            if let std { p.std = std }
            preprocessing = p
        }
        var order: ChannelOrder? = nil
        if let channelOrder {
            guard let parsed = ChannelOrder(rawValue: channelOrder.lowercased()) else {
                throw ValidationError("--channel-order takes rgb, bgr or gray, got '\(channelOrder)'")
            }
            order = parsed
        }
        return try bundle.overriding(preprocessing: preprocessing, channelOrder: order)
    }
}
