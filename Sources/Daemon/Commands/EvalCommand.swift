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
        from the labels file beside it), or a uint8 .npy array N×H×W or N×H×W×C (--labels for labels). \
        Images must have the model's input size.
        """)

    @Option(help: "The ONNX model (default: the bundled Fashion-MNIST model).") var model: String?
    @Option(help: "The dataset: an IDX images file or a .npy array.") var dataset: String
    @Option(help: "A labels file for a .npy dataset (.npy or one integer per line).") var labels: String?
    @Option(help: "Evaluate only the first N images.") var limit: Int?
    @Option(help: "Substitute values in [0, 1], comma-separated.") var substitute = "0,1"
    @Option(help: "Maps to evaluate, comma-separated.") var methods = "vanilla,positive,negative,active,inactive"
    @Option(help: "Frames per engine batch.") var batch = 32
    @Option(help: "Write the curves and areas as JSON to this file.") var json: String?
    @Option(help: "Write an SVG plot of the curves to this file.") var plot: String?

    func run() throws {
        let methods = try self.methods.split(separator: ",").map { name in
            guard let method = SaliencyMethod(rawValue: String(name)) else {
                throw ValidationError("unknown method '\(name)'; choose from \(SaliencyMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return method
        }
        let substitutes = try substitute.split(separator: ",").map { text in
            guard let value = Float(text), (0...1).contains(value) else {
                throw ValidationError("--substitute takes values in [0, 1], got '\(text)'")
            }
            return value
        }
        guard batch > 0, limit.map({ $0 > 0 }) ?? true else { throw ValidationError("--batch and --limit must be positive") }

        let bundle = try ModelBundle.load(model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.url())
        let data = try ImageDataset.load(dataset, labels: labels).prefix(limit)
        guard data.width == bundle.width, data.height == bundle.height else {
            throw CommandFailure("\(dataset): images are \(data.width)×\(data.height), the model takes \(bundle.width)×\(bundle.height)")
        }
        guard data.channels == bundle.channels else {
            throw CommandFailure("\(dataset): images have \(data.channels) channel(s), the model takes \(bundle.channels)")
        }
        let evaluator = DeletionEvaluator(model: bundle.model, preprocessing: bundle.preprocessing, methods: methods,
                                          substitutes: substitutes, batch: batch)
        let total = data.count
        let frame = bundle.model.inputCount
        let started = Date()
        var lastReport = Date.distantPast
        var index = 0
        while index < total {
            let count = min(batch, total - index)
            var images: [Float] = []
            images.reserveCapacity(count * frame)
            for i in index..<(index + count) { images += data.planarImage(i) }
            try evaluator.add(images: images, count: count, labels: data.labels.map { Array($0[index..<(index + count)]) })
            index += count
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
        print("dataset    \(dataset): \(evaluator.imageCount) images \(data.width)×\(data.height)×\(data.channels)")
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
