import Foundation
import Testing

/// `saliencyd eval` end to end on a folder of class folders and on the real Fashion-MNIST IDX file.
@Suite struct EvalCommandTests {
    struct Curves: Decodable {
        struct Curve: Decodable { var allegiance: [Double]; var auc: Double }
        var images: Int
        var percentages: [Double]
        var substitutes: [String: [String: Curve]]
    }

    @Test func folderOfClassFolders() throws {
        let root = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        // The ten samples, each in the folder of its class index (labels.txt: test index, label, name).
        let listing = try String(contentsOf: ExplainCommandTests.repository.appendingPathComponent("models/samples/labels.txt"), encoding: .utf8)
        let samples = try FileManager.default.contentsOfDirectory(atPath: ExplainCommandTests.repository.appendingPathComponent("models/samples").path)
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count >= 2, let file = samples.first(where: { $0.hasPrefix("\(fields[0])-") && $0.hasSuffix(".png") }) else { continue }
            let folder = root.appendingPathComponent("data/\(fields[1])")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: ExplainCommandTests.repository.appendingPathComponent("models/samples/\(file)"),
                                             to: folder.appendingPathComponent(file))
        }
        let json = root.appendingPathComponent("curves.json"), plot = root.appendingPathComponent("curves.svg")
        let run = try ExplainCommandTests.run(["eval", "--dataset", root.appendingPathComponent("data").path,
                                               "--json", json.path, "--plot", plot.path])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("accuracy   100.00 % (10 of 10 predictions equal the label)"))
        let curves = try JSONDecoder().decode(Curves.self, from: Data(contentsOf: json))
        #expect(curves.images == 10)
        #expect(Set(curves.substitutes.keys) == ["0.0", "1.0"])
        for (_, methods) in curves.substitutes {
            #expect(Set(methods.keys) == ["vanilla", "positive", "negative", "active", "inactive"])
            for (_, curve) in methods {
                #expect(curve.allegiance.count == curves.percentages.count)
                #expect(curve.allegiance.first == 1)  // nothing is deleted at p = 0
                #expect(curve.auc > 0 && curve.auc <= 0.9)
            }
        }
        let svg = try String(contentsOf: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
    }

    @Test func badArgumentsAreErrors() throws {
        let missing = try ExplainCommandTests.run(["eval", "--dataset", "/nonexistent/images-idx3-ubyte"])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("/nonexistent/images-idx3-ubyte"))
        let method = try ExplainCommandTests.run(["eval", "--dataset", "x", "--methods", "vanilla,sharp"])
        #expect(method.status != 0)
        #expect(method.errors.contains("--methods: 'sharp' is not a map"))
    }
}
