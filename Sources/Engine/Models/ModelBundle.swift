import Foundation

/// A model ready to serve: the compiled ONNX graph with its sidecar's preprocessing, channel
/// order and class names.
public struct ModelBundle: Sendable {
    /// The `.onnx` file.
    public let url: URL
    public let imported: ImportedModel
    public let model: CompiledModel
    /// The sidecar, or an empty one when the model has none.
    public let sidecar: ModelSidecar
    /// One name per class (`class <k>` where the sidecar has none).
    public let labels: [String]
    public let preprocessing: Preprocessing
    public let channelOrder: ChannelOrder
    /// A short name: the sidecar's, else the file's stem.
    public let name: String

    /// Input channels, height and width.
    public var channels: Int { model.inputShape[0] }
    public var height: Int { model.inputShape.rank == 3 ? model.inputShape[1] : 1 }
    public var width: Int { model.inputShape.rank == 3 ? model.inputShape[2] : 1 }

    /// Loads `url` and the sidecar beside it (`model.json` for `model.onnx`) if there is one.
    /// `inputSize` (height, width) resolves dynamic dimensions; the sidecar's size is used otherwise.
    public static func load(_ url: URL, inputSize: (height: Int, width: Int)? = nil) throws -> ModelBundle {
        let sidecarURL = ModelSidecar.url(forModel: url)
        let sidecar = FileManager.default.fileExists(atPath: sidecarURL.path) ? try ModelSidecar.load(sidecarURL) : ModelSidecar()
        let size = inputSize ?? sidecar.input.flatMap { input in
            input.height.flatMap { height in input.width.map { (height, $0) } }
        }
        let imported = try ONNXImporter.load(contentsOf: url, options: ONNXImportOptions(inputHeight: size?.0, inputWidth: size?.1))
        let model = try CompiledModel(imported.graph)
        guard model.inputShape.rank == 3 else {
            throw ModelSidecar.Error.invalid(key: "input", reason: "the model's input must be N×C×H×W, it is N×\(model.inputShape)")
        }
        let channels = model.inputShape[0]
        if let declared = sidecar.input?.channels, declared != channels {
            throw ModelSidecar.Error.invalid(key: "input.channels", reason: "says \(declared), the model has \(channels)")
        }
        let preprocessing = sidecar.preprocessing ?? Preprocessing()
        try preprocessing.validate(channels: channels)
        var labels = try sidecar.labelNames(relativeTo: url.deletingLastPathComponent()) ?? []
        if !labels.isEmpty && labels.count != model.classCount {
            throw ModelSidecar.Error.invalid(key: "labels", reason: "\(labels.count) names for \(model.classCount) classes")
        }
        if labels.isEmpty { labels = (0..<model.classCount).map { "class \($0)" } }
        return ModelBundle(
            url: url, imported: imported, model: model, sidecar: sidecar, labels: labels, preprocessing: preprocessing,
            channelOrder: sidecar.input?.channelOrder ?? (channels == 1 ? .gray : .rgb),
            name: sidecar.name ?? url.deletingPathExtension().lastPathComponent)
    }
}

extension ModelBundle {
    /// The same model with its sidecar's preprocessing or channel order replaced (command-line
    /// overrides); validated like the sidecar.
    public func overriding(preprocessing: Preprocessing? = nil, channelOrder: ChannelOrder? = nil) throws -> ModelBundle {
        let preprocessing = preprocessing ?? self.preprocessing
        try preprocessing.validate(channels: channels)
        let order = channelOrder ?? self.channelOrder
        if (order == .gray) != (channels == 1) {
            throw ModelSidecar.Error.invalid(key: "channel_order", reason: "'\(order.rawValue)' does not fit a model with \(channels) channel(s)")
        }
        return ModelBundle(url: url, imported: imported, model: model, sidecar: sidecar, labels: labels,
                           preprocessing: preprocessing, channelOrder: order, name: name)
    }
}
