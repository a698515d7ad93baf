import Foundation

/// How raw pixels become the tensor a model sees: `x = (pixel · scale − mean[c]) / std[c]`.
///
/// With nothing configured, pixels are divided by 255 into `[0, 1]` with no mean or std — what
/// torchvision's `ToTensor` gives, and what the paper uses.
public struct Preprocessing: Sendable, Equatable, Codable {
    /// Multiplier applied to raw pixel values (1/255 turns bytes into `[0, 1]`).
    public var scale: Float = 1.0 / 255
    /// Per-channel mean subtracted after scaling (one value, or one per channel).
    public var mean: [Float] = [0]
    /// Per-channel standard deviation divided by after subtracting the mean.
    public var std: [Float] = [1]

    public init(scale: Float = 1.0 / 255, mean: [Float] = [0], std: [Float] = [1]) {
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    /// Normalises a `C×H×W` image already in `[0, 1]` (scale applied) in place: `(x − mean) / std`.
    public func normalise(_ image: inout [Float], channels: Int) {
        let plane = image.count / max(channels, 1)
        for c in 0..<channels {
            let m = mean[mean.count == 1 ? 0 : c], s = std[std.count == 1 ? 0 : c]
            if m == 0 && s == 1 { continue }
            for i in (c * plane)..<((c + 1) * plane) { image[i] = (image[i] - m) / s }
        }
    }

    /// Checks the lists fit `channels` and no std is zero.
    public func validate(channels: Int) throws(ModelSidecar.Error) {
        guard [1, channels].contains(mean.count), [1, channels].contains(std.count) else {
            throw .invalid(key: "preprocessing.mean/std", reason: "need 1 or \(channels) values, got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 != 0 && $0.isFinite }), mean.allSatisfy(\.isFinite), scale.isFinite, scale > 0 else {
            throw .invalid(key: "preprocessing", reason: "scale must be positive and std non-zero, all finite")
        }
    }
}

/// The order of colour channels the model expects.
public enum ChannelOrder: String, Sendable, Codable {
    case gray, rgb, bgr
}

/// The JSON file next to a model (`model.json` beside `model.onnx`) that says how to feed it and
/// what its classes are called:
///
/// ```json
/// {"name": "fashion-mnist-cnn",
///  "input": {"width": 28, "height": 28, "channels": 1, "channel_order": "gray"},
///  "preprocessing": {"scale": 0.00392156862745098, "mean": [0.0], "std": [1.0]},
///  "labels": "fashion-mnist-cnn.labels.txt"}
/// ```
/// Every key is optional.
public struct ModelSidecar: Sendable, Equatable, Codable {
    public struct Input: Sendable, Equatable, Codable {
        public var width: Int?
        public var height: Int?
        public var channels: Int?
        public var channelOrder: ChannelOrder?

        enum CodingKeys: String, CodingKey {
            case width, height, channels
            case channelOrder = "channel_order"
        }
    }

    public var name: String?
    public var input: Input?
    public var preprocessing: Preprocessing?
    /// A labels file (one name per line, relative to the sidecar) or the names themselves.
    public var labels: Labels?

    public enum Labels: Sendable, Equatable, Codable {
        case file(String)
        case names([String])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let file = try? container.decode(String.self) { self = .file(file) } else {
                self = .names(try container.decode([String].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .file(file): try container.encode(file)
            case let .names(names): try container.encode(names)
            }
        }
    }

    /// A sidecar problem, naming the file or key.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case invalid(key: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "model sidecar \(path): \(reason)"
            case let .invalid(key, reason): "model sidecar key '\(key)': \(reason)"
            }
        }
    }

    public init(name: String? = nil, input: Input? = nil, preprocessing: Preprocessing? = nil, labels: Labels? = nil) {
        self.name = name
        self.input = input
        self.preprocessing = preprocessing
        self.labels = labels
    }

    /// The sidecar path for a model: `model.onnx` → `model.json`.
    public static func url(forModel model: URL) -> URL {
        model.deletingPathExtension().appendingPathExtension("json")
    }

    /// Reads the sidecar at `url`.
    public static func load(_ url: URL) throws(Error) -> ModelSidecar {
        do {
            return try JSONDecoder().decode(ModelSidecar.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw .unreadable(path: url.path, reason: "invalid JSON (\(error))")
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The class names: from the labels file (relative to `directory`) or the inline list.
    public func labelNames(relativeTo directory: URL) throws(Error) -> [String]? {
        switch labels {
        case nil: return nil
        case let .names(names): return names
        case let .file(file):
            let url = file.hasPrefix("/") ? URL(fileURLWithPath: file) : directory.appendingPathComponent(file)
            do {
                return try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } catch {
                throw .unreadable(path: url.path, reason: "labels file cannot be read (\(error.localizedDescription))")
            }
        }
    }
}
