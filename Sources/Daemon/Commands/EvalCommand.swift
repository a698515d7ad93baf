import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `saliencyd eval`: the paper's deletion ("allegiance") evaluation over a dataset.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run the paper's deletion evaluation (allegiance curves and their areas) on a dataset.",
        discussion: """
        Datasets: an IDX images file (e.g. t10k-images-idx3-ubyte.gz, gzip or not; labels are read \
        from the labels file beside it), a uint8 .npy array N×H×W or N×H×W×C (--labels for labels), \
        or a folder of class folders of PNG/JPEG images (labels from the sorted folder names). \
        Images are converted to the model's input like explain's (channels, resize, preprocessing).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The dataset: an IDX images file, a .npy array or a folder of class folders.") var dataset: String
    @Option(help: "A labels file for a .npy dataset (.npy or one integer per line).") var labels: String?
    @Option(help: "Evaluate only the first N images.") var limit: Int?
    @Option(help: "Substitute values in [0, 1], comma-separated.") var substitute = "0,1"
    @Option(help: "Maps to evaluate, comma-separated.") var methods = "vanilla,positive,negative,active,inactive"
    @Option(help: "Frames per engine batch.") var batch = 32
    @Option(help: "Write the curves and areas as JSON to this file.") var json: String?
    @Option(help: "Write an SVG plot of the curves to this file.") var plot: String?

    func run() throws {
        let methods = try MethodList.parse(commaSeparated: self.methods, option: "--methods")
        let substitutes = try substitute.split(separator: ",").map { text in
            guard let value = Float(text), (0...1).contains(value) else {
                throw ValidationError("--substitute takes values in [0, 1], got '\(text)'")
            }
            return value
        }
        guard batch > 0, limit.map({ $0 > 0 }) ?? true else { throw ValidationError("--batch and --limit must be positive") }

        let bundle = try modelOptions.load()
        let source = try EvaluationSource.load(dataset, labels: labels, limit: limit)
        let evaluator = DeletionEvaluator(model: bundle.model, preprocessing: bundle.preprocessing, methods: methods,
                                          substitutes: substitutes, batch: batch)
        let total = source.count
        let frame = bundle.model.inputCount
        let started = Date()
        var lastReport = Date.distantPast
        var skipped: [String] = []
        var index = 0
        while index < total {
            let end = min(index + batch, total)
            var images: [Float] = []
            var labels: [Int] = []
            images.reserveCapacity((end - index) * frame)
            for i in index..<end {
                do {
                    images += FramePreparation.scaledPlanes(try source.image(i), for: bundle)
                    labels.append(source.label(i) ?? -1)
                } catch {
                    skipped.append("\(error)")
                    FileHandle.standardError.write(Data("\nerror: \(error) (skipped)\n".utf8))
                }
            }
            if !labels.isEmpty {
                try evaluator.add(images: images, count: labels.count, labels: source.hasLabels ? labels : nil)
            }
            index = end
            if Date().timeIntervalSince(lastReport) > 2 || index == total {
                lastReport = Date()
                let elapsed = Date().timeIntervalSince(started)
                let rate = Double(index) / max(elapsed, 1e-9)
                FileHandle.standardError.write(Data(String(format: "\reval: %d/%d images, %.1f images/s, %.0f s left   ",
                                                           index, total, rate, Double(total - index) / max(rate, 1e-9)).utf8))
            }
        }
        FileHandle.standardError.write(Data("\n".utf8))

        print("model      \(bundle.name) (\(bundle.url.path))")
        print("dataset    \(dataset): \(evaluator.imageCount) images" + (skipped.isEmpty ? "" : ", \(skipped.count) unreadable and skipped"))
        if evaluator.labelledCount > 0 {
            print(String(format: "accuracy   %.2f %% (%d of %d predictions equal the label)",
                         100 * Double(evaluator.correctCount) / Double(evaluator.labelledCount), evaluator.correctCount,
                         evaluator.labelledCount))
        }
        print(String(format: "time       %.1f s", Date().timeIntervalSince(started)))
        print("")
        print("AUC of allegiance (lower = the map found pixels the prediction depends on)")
        let columns = substitutes.map { value -> String in
            let name = "substitute \(value == 0 ? "0" : value == 1 ? "1" : String(value))"
            return String(repeating: " ", count: max(2, 16 - name.count)) + name
        }
        print("method    " + columns.joined())
        for method in methods {
            print(method.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + substitutes.map { String(format: "%16.4f", evaluator.area(method: method, substitute: $0)) }.joined())
        }

        if let json {
            var curves: [String: [String: [String: Any]]] = [:]
            for value in substitutes {
                var perMethod: [String: [String: Any]] = [:]
                for method in methods {
                    perMethod[method.rawValue] = ["allegiance": evaluator.curve(method: method, substitute: value),
                                                  "auc": evaluator.area(method: method, substitute: value)]
                }
                curves[String(value)] = perMethod
            }
            let object: [String: Any] = [
                "model": bundle.name, "model_path": bundle.url.path, "dataset": dataset, "images": evaluator.imageCount,
                "percentages": evaluator.percentages, "substitutes": curves,
                "protocol": "deletion; threshold at rank round(p*H*W) of the map sorted descending; pixels above it and non-zero set to the substitute in [0,1] space before normalisation; allegiance = share of unchanged predictions; trapezoid AUC over p in [0, 0.9]",
            ]
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: json))
        }
        if let plot {
            let svg = AllegiancePlot.svg(
                title: "Allegiance of \(bundle.name) on \(URL(fileURLWithPath: dataset).lastPathComponent) (\(evaluator.imageCount) images)",
                percentages: evaluator.percentages, substitutes: substitutes, methods: methods,
                curve: { evaluator.curve(method: $0, substitute: $1) }, area: { evaluator.area(method: $0, substitute: $1) })
            try svg.write(toFile: plot, atomically: true, encoding: .utf8)
        }
    }
}

/// The images `eval` reads: an IDX or `.npy` array, or a folder of class folders.
enum EvaluationSource {
    case array(ImageDataset)
    case folder(ImageFolder)

    static func load(_ path: String, labels: String?, limit: Int?) throws -> EvaluationSource {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            var folder = try ImageFolder.load(path)
            if let limit { folder.files = Array(folder.files.prefix(limit)) }
            return .folder(folder)
        }
        return .array(try ImageDataset.load(path, labels: labels).prefix(limit))
    }

    var count: Int {
        switch self {
        case let .array(data): data.count
        case let .folder(folder): folder.files.count
        }
    }

    var hasLabels: Bool {
        switch self {
        case let .array(data): data.labels != nil
        case .folder: true
        }
    }

    func label(_ index: Int) -> Int? {
        switch self {
        case let .array(data): data.labels?[index]
        case let .folder(folder): folder.files[index].label
        }
    }

    func image(_ index: Int) throws -> Image {
        switch self {
        case let .array(data): data.image(index)
        case let .folder(folder): try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: folder.files[index].path))
        }
    }
}
