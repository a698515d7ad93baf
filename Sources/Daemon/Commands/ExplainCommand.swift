import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `saliencyd explain`: the maps of image files, written as `.npy`, JSON and PNG.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Compute saliency maps for image files (JPEG, PNG or .npy).",
        discussion: """
        For each input writes <stem>.<map>.npy (raw float32 H×W at the model's input size), <stem>.json \
        (logits, prediction, label, softmax score, timings, map ranges) and, with --format png, \
        <stem>.<map>.png heat maps (viridis; red-blue for the signed map) and <stem>.<map>.overlay.png. \
        .npy inputs: uint8 H×W or H×W×C (RGB), or float32 H×W or H×W×C already scaled to [0, 1].
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Maps to compute, comma-separated: vanilla, positive, negative, active, inactive, signed.")
    var methods = "vanilla,positive,negative,active,inactive,signed"
    @Option(help: "Outputs, comma-separated: npy, json, png.") var format = "npy,json"
    @Option(help: "Output folder (created if missing).") var out: String
    @Flag(help: "3-channel inputs are BGR (as OpenCV writes arrays), not RGB.") var bgr = false
    @Option(help: ArgumentHelp(
        "Approximate active/inactive by comparing only against the N highest-scoring other classes.",
        discussion: "For models with many classes; the JSON labels such maps as approximations."))
    var topClasses: Int?
    @Argument(help: "Image files: JPEG, PNG or .npy.") var inputs: [String]

    func run() throws {
        let methods = try MethodList.parse(commaSeparated: self.methods, option: "--methods")
        let formats = Set(format.split(separator: ",").map(String.init))
        guard formats.isSubset(of: ["npy", "json", "png"]), !formats.isEmpty else {
            throw ValidationError("--format takes npy, json and png, got '\(format)'")
        }
        let bundle = try modelOptions.load()
        if let topClasses, topClasses < 1 { throw ValidationError("--top-classes must be at least 1") }
        let outputFolder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        let workspace = Workspace(model: bundle.model, maxBatch: 1,
                                  maxCotangents: methods.contains(where: \.needsJacobian) ? bundle.model.classCount : 1)

        var failures = 0
        for input in inputs {
            do {
                try explain(input, bundle: bundle, workspace: workspace, methods: methods, formats: formats, folder: outputFolder)
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(input): \(error)\n".utf8))
            }
        }
        if failures > 0 {
            throw CommandFailure("\(failures) of \(inputs.count) input(s) could not be explained")
        }
    }

    private func explain(_ input: String, bundle: ModelBundle, workspace: Workspace, methods: [SaliencyMethod],
                         formats: Set<String>, folder: URL) throws {
        let url = URL(fileURLWithPath: input)
        let loaded = try InputImage.load(url)
        let started = DispatchTime.now().uptimeNanoseconds
        let tensor: [Float]
        let image: Image
        switch loaded {
        case let .bytes(bytes):
            tensor = FramePreparation.tensor(bytes, for: bundle, sourceIsBGR: bgr)
            image = bytes
        case let .floats(floats):
            tensor = FramePreparation.tensor(floats, for: bundle, sourceIsBGR: bgr)
            image = floats.quantized()
        }
        let prepared = DispatchTime.now().uptimeNanoseconds
        try workspace.forward(tensor, batch: 1)
        let forwarded = DispatchTime.now().uptimeNanoseconds
        let approximate = methods.contains(where: \.needsJacobian) && (topClasses.map { $0 + 1 < bundle.model.classCount } ?? false)
        if approximate, let topClasses {
            try workspace.backward(.topClasses(topClasses + 1))
        } else {
            try workspace.backward(methods.contains(where: \.needsJacobian) ? .allClasses : .predictedClass)
        }
        let backwarded = DispatchTime.now().uptimeNanoseconds
        var maps: [(SaliencyMethod, [Float])] = []
        for method in methods {
            guard let map = SaliencyMaps.compute(method, workspace: workspace, frame: 0, approximate: approximate) else { continue }
            maps.append((method, map))
        }
        let finished = DispatchTime.now().uptimeNanoseconds

        let stem = url.deletingPathExtension().lastPathComponent
        let (width, height) = (bundle.width, bundle.height)
        let logits = Array(workspace.logits)
        let predicted = workspace.predictedClass(frame: 0)
        if formats.contains("npy") {
            for (method, map) in maps {
                try NumpyArray.write(map, shape: [height, width], to: folder.appendingPathComponent("\(stem).\(method.rawValue).npy"))
            }
        }
        if formats.contains("json") {
            let maximum = logits.max() ?? 0
            let exponentials = logits.map { exp(Double($0 - maximum)) }
            let total = exponentials.reduce(0, +)
            let report = ExplainReport(
                input: input, model: bundle.name, modelPath: bundle.url.path,
                inputSize: .init(width: width, height: height, channels: bundle.channels), logits: logits,
                predicted: .init(index: predicted, label: bundle.labels[predicted], softmax: exponentials[predicted] / total),
                maps: maps.map { method, map in
                    .init(name: method.rawValue, file: "\(stem).\(method.rawValue).npy", width: width, height: height,
                          min: map.min() ?? 0, max: map.max() ?? 0)
                },
                timingsMs: [
                    "preprocess": Double(prepared - started) / 1e6, "forward": Double(forwarded - prepared) / 1e6,
                    "backward": Double(backwarded - forwarded) / 1e6, "maps": Double(finished - backwarded) / 1e6,
                ],
                backward: approximate ? "predicted class and the \(topClasses ?? 0) highest-scoring others"
                    : methods.contains(where: \.needsJacobian) ? "whole Jacobian (\(bundle.model.classCount) classes)" : "predicted class only",
                approximation: approximate
                    ? "APPROXIMATION: active and inactive compare against the \(topClasses ?? 0) highest-scoring other classes only, not all \(bundle.model.classCount - 1)"
                    : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(report)
                .write(to: folder.appendingPathComponent("\(stem).json"))
        }
        if formats.contains("png") {
            for (method, map) in maps {
                let heat = HeatMap.render(map, width: width, height: height, colorMap: method == .signed ? .redBlue : .viridis)
                try PNGEncoder.write(heat, to: folder.appendingPathComponent("\(stem).\(method.rawValue).png"))
                try PNGEncoder.write(HeatMap.overlay(heat, on: image), to: folder.appendingPathComponent("\(stem).\(method.rawValue).overlay.png"))
            }
        }
        print("\(input): \(bundle.labels[predicted]) (class \(predicted)), \(maps.count) maps → \(folder.path)/\(stem).*"
              + (approximate ? " (active/inactive approximated against the top \(topClasses ?? 0) other classes)" : ""))
    }
}

/// The JSON `explain` writes per input.
struct ExplainReport: Encodable {
    struct Size: Encodable { var width, height, channels: Int }
    struct Prediction: Encodable { var index: Int; var label: String; var softmax: Double }
    struct Map: Encodable { var name, file: String; var width, height: Int; var min, max: Float }
    var input, model, modelPath: String
    var inputSize: Size
    var logits: [Float]
    var predicted: Prediction
    var maps: [Map]
    var timingsMs: [String: Double]
    var backward: String
    /// Set when active/inactive were approximated (``ExplainCommand/topClasses``).
    var approximation: String?
}

/// Reads an input for `explain`: JPEG or PNG through the image decoder, `.npy` arrays directly.
enum InputImage {
    /// Bytes from an image file or a uint8 array, or floats (0…255 units) from a float array.
    case bytes(Image)
    case floats(FloatImage)

    static func load(_ url: URL) throws -> InputImage {
        guard url.pathExtension.lowercased() == "npy" else { return .bytes(try ImageDecoder.decode(contentsOf: url)) }
        let array = try NumpyArray(contentsOf: url)
        guard array.shape.count == 2 || (array.shape.count == 3 && [1, 3].contains(array.shape[2])) else {
            throw CommandFailure("\(url.path): a .npy input must be H×W or H×W×C with C = 1 or 3, got shape \(array.shape)")
        }
        let (height, width) = (array.shape[0], array.shape[1])
        let channels = array.shape.count == 3 ? array.shape[2] : 1
        guard width > 0, height > 0 else { throw CommandFailure("\(url.path): the array is empty") }
        if array.descriptor.hasSuffix("u1") {
            return .bytes(Image(width: width, height: height, channels: channels, pixels: array.values.map { UInt8($0) }))
        }
        guard array.values.allSatisfy(\.isFinite) else { throw CommandFailure("\(url.path): the array holds NaN or infinite values") }
        return .floats(FloatImage(width: width, height: height, channels: channels, pixels: array.values.map { $0 * 255 }))
    }
}
