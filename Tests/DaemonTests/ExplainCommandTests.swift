import Engine
import Foundation
import Pipeline
import Testing

/// `saliencyd explain` end to end: the built binary on the committed sample images.
@Suite struct ExplainCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `saliencyd` binary next to the test bundle (SwiftPM builds it with the tests).
    static var binary: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("saliencyd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/saliencyd")
    }

    struct Run { var status: Int32; var output: String; var errors: String }

    /// Runs the binary with `arguments`, in the test's environment or in `environment`.
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = repository
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                   errors: String(decoding: err, as: UTF8.self))
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    struct Report: Decodable {
        struct Prediction: Decodable { var index: Int; var label: String; var softmax: Double }
        struct Map: Decodable { var name: String; var file: String; var width: Int; var height: Int; var min: Float; var max: Float }
        var logits: [Float]
        var predicted: Prediction
        var maps: [Map]
        var timings_ms: [String: Double]
    }

    @Test func explainsTheSampleImages() throws {
        let out = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let samples = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("models/samples").path)
            .filter { $0.hasSuffix(".png") }.sorted()
        #expect(samples.count == 10)
        let run = try Self.run(["explain", "--format", "npy,json,png", "--out", out.path] + samples.map { "models/samples/\($0)" })
        #expect(run.status == 0, "\(run.errors)")
        let labels = try String(contentsOf: Self.repository.appendingPathComponent("models/fashion-mnist-cnn.labels.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for sample in samples {
            let stem = String(sample.dropLast(4))
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: out.appendingPathComponent("\(stem).json")))
            // Sample file names carry the true class; the bundled model gets all ten right.
            let truth = stem.split(separator: "-", maxSplits: 1)[1]
            #expect(report.predicted.label.lowercased().replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: " ", with: "-") == truth)
            #expect(report.logits.count == 10)
            #expect(report.predicted.index == report.logits.indices.max { report.logits[$0] < report.logits[$1] })
            #expect(labels[report.predicted.index] == report.predicted.label)
            #expect(report.predicted.softmax > 0.1 && report.predicted.softmax <= 1)
            #expect(report.maps.map(\.name) == SaliencyMethod.allCases.map(\.rawValue))
            #expect(report.timings_ms["forward"].map { $0 > 0 } == true)
            for map in report.maps {
                let array = try NumpyArray(contentsOf: out.appendingPathComponent(map.file))
                #expect(array.shape == [28, 28])
                #expect(array.values.min() == map.min && array.values.max() == map.max)
                #expect(map.name == "signed" ? map.min < 0 : map.min >= 0)
                #expect(map.max > 0)
                for suffix in ["png", "overlay.png"] {
                    let image = try ImageDecoder.decode(contentsOf: out.appendingPathComponent("\(stem).\(map.name).\(suffix)"))
                    #expect(image.width == 28 && image.height == 28 && image.channels == 3)
                }
            }
        }
    }

    @Test func badInputsAreNamedAndTheOthersStillProcessed() throws {
        let out = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let corrupt = out.appendingPathComponent("corrupt.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: corrupt)
        let run = try Self.run(["explain", "--out", out.path, "models/samples/9-sneaker.png", corrupt.path,
                                "/nonexistent/missing.jpg", "models/samples/8-sandal.png"])
        #expect(run.status != 0)
        #expect(run.errors.contains("corrupt.png"))
        #expect(run.errors.contains("/nonexistent/missing.jpg"))
        #expect(run.errors.contains("2 of 4 input(s) could not be explained"))
        for stem in ["9-sneaker", "8-sandal"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(stem).json").path))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(stem).active.npy").path))
        }
    }

    /// A float `.npy` input in [0, 1] gives the same prediction and maps as the PNG it came from.
    @Test func npyInputsMatchTheirImages() throws {
        let out = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let samples = try NumpyArray(contentsOf: Self.repository.appendingPathComponent("models/samples/samples.npy"))
        let frame = Array(samples.values[0..<784]).map { $0 / 255 }
        try NumpyArray.write(frame, shape: [28, 28], to: out.appendingPathComponent("first.npy"))
        let run = try Self.run(["explain", "--out", out.path, out.appendingPathComponent("first.npy").path])
        #expect(run.status == 0, "\(run.errors)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: out.appendingPathComponent("first.json")))
        #expect(report.predicted.label == "T-shirt/top")
    }

    /// `--top-classes` labels the maps as an approximation; with every other class it is exact.
    @Test func topClassesIsLabelledAnApproximation() throws {
        let out = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        struct Labelled: Decodable { var approximation: String?; var backward: String }
        let approximate = try Self.run(["explain", "--top-classes", "3", "--out", out.appendingPathComponent("a").path, "models/samples/4-shirt.png"])
        #expect(approximate.status == 0, "\(approximate.errors)")
        #expect(approximate.output.contains("approximated against the top 3 other classes"))
        let a = try JSONDecoder().decode(Labelled.self, from: Data(contentsOf: out.appendingPathComponent("a/4-shirt.json")))
        #expect(a.approximation?.hasPrefix("APPROXIMATION") == true)
        let exact = try Self.run(["explain", "--top-classes", "9", "--out", out.appendingPathComponent("b").path, "models/samples/4-shirt.png"])
        #expect(exact.status == 0)
        let b = try JSONDecoder().decode(Labelled.self, from: Data(contentsOf: out.appendingPathComponent("b/4-shirt.json")))
        #expect(b.approximation == nil)
        #expect(b.backward == "whole Jacobian (10 classes)")
        // The approximate active map is never below the exact one.
        let full = try Self.run(["explain", "--out", out.appendingPathComponent("c").path, "models/samples/4-shirt.png"])
        #expect(full.status == 0)
        let approximateMap = try NumpyArray(contentsOf: out.appendingPathComponent("a/4-shirt.active.npy")).values
        let exactMap = try NumpyArray(contentsOf: out.appendingPathComponent("c/4-shirt.active.npy")).values
        let slack = 1e-5 * (exactMap.max() ?? 0)
        #expect(zip(approximateMap, exactMap).allSatisfy { $0 >= $1 - slack })
    }
}
