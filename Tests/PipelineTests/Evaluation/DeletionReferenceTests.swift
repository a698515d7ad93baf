import Engine
import Foundation
import Testing
@testable import Pipeline

/// The deletion evaluation of the bundled model on the first 64 Fashion-MNIST test images against
/// the PyTorch reference written by `tools/fixtures/make_deletion_reference.py`: the same
/// predictions, the same number of pixels selected per image, method and percentage (except
/// the near-ties the reference lists), and the same unchanged counts, so the same curves and AUCs.
@Suite struct DeletionReferenceTests {
    struct Reference: Decodable {
        struct Curve: Decodable { var allegiance: [Double]; var auc: Double; var unchanged_counts: [Int] }
        struct NearTie: Decodable { var image: Int; var method: String; var percentage_index: Int }
        struct NearTies: Decodable { var cases_list: [NearTie] }
        var images: Int
        var percentages: [Double]
        var substitutes: [String: [String: Curve]]
        var predicted: [Int]
        var selected_counts: [String: [[Int]]]
        var near_ties: NearTies
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func matchesThePyTorchReference() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.repository
            .appendingPathComponent("Tests/Fixtures/deletion/reference.json")))
        let datasetPath = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try #require(FileManager.default.fileExists(atPath: datasetPath),
                     "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist (make test does)")
        let bundle = try ModelBundle.load(Self.repository.appendingPathComponent("models/fashion-mnist-cnn.onnx"))
        let data = try ImageDataset.load(datasetPath).prefix(reference.images)
        let methods: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive]
        var images: [Float] = []
        for index in 0..<data.count { images += FramePreparation.scaledPlanes(data.image(index), for: bundle) }

        // Selections, image by image.
        let workspace = Workspace(model: bundle.model, maxBatch: data.count)
        try workspace.forward(images, batch: data.count)
        try workspace.backward(.allClasses)
        let nearTies = Set(reference.near_ties.cases_list.map { "\($0.image) \($0.method) \($0.percentage_index)" })
        var compared = 0
        for image in 0..<data.count {
            #expect(workspace.predictedClass(frame: image) == reference.predicted[image], "prediction of image \(image)")
            for method in methods {
                let map = try #require(SaliencyMaps.compute(method, workspace: workspace, frame: image))
                for (p, percentage) in reference.percentages.enumerated()
                where !nearTies.contains("\(image) \(method.rawValue) \(p)") {
                    let selected = DeletionProtocol.selection(map: map, percentage: percentage).filter { $0 }.count
                    #expect(selected == reference.selected_counts[method.rawValue]![image][p],
                            "image \(image), \(method), p = \(percentage)")
                    compared += 1
                }
            }
        }
        #expect(compared == data.count * methods.count * reference.percentages.count - nearTies.count)

        // Unchanged counts and areas through the evaluator.
        let evaluator = DeletionEvaluator(model: bundle.model, preprocessing: bundle.preprocessing, methods: methods,
                                          substitutes: [0, 1], batch: 16, variantBatch: 100, percentages: reference.percentages)
        try evaluator.add(images: images, count: data.count)
        for (substitute, key) in [(Float(0), "0"), (Float(1), "1")] {
            for method in methods {
                let expected = reference.substitutes[key]![method.rawValue]!
                let curve = evaluator.curve(method: method, substitute: substitute)
                #expect(curve.map { Int(($0 * Double(data.count)).rounded()) } == expected.unchanged_counts,
                        "\(method), substitute \(key)")
                #expect(abs(evaluator.area(method: method, substitute: substitute) - expected.auc) < 1e-9)
            }
        }
    }
}
