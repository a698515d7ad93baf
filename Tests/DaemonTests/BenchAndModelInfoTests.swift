import Foundation
import Testing

/// `saliencyd bench --json` and `saliencyd model info` on the bundled model, end to end.
@Suite struct BenchAndModelInfoTests {
    struct BenchReport: Decodable {
        var model: String
        var batch: Int
        var classes: Int
        var forward_ms: Double
        var gradient_ms: Double
        var jacobian_ms: Double
        var gradient_maps_ms: Double
        var jacobian_maps_ms: Double
        var forward_ms_spread: [Double]
        var gflop_per_image: Double
        var sgemm_gflops: Double
        var peak_resident_mb: Double
    }

    @Test func benchPrintsOneJSONObject() throws {
        let run = try ExplainCommandTests.run(["bench", "--json", "--repeats", "3", "--batch", "2", "--threads", "1"])
        #expect(run.status == 0, "\(run.errors)")
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(run.output.utf8))
        #expect(report.model == "fashion-mnist-cnn" && report.batch == 2 && report.classes == 10)
        #expect(report.forward_ms > 0 && report.gradient_ms > 0 && report.jacobian_ms > 0)
        // The maps' part of each pass: measured (the Jacobian's five maps compare ten classes per
        // element) and no more than its pass (medians of the same runs, so within their spread).
        #expect(report.gradient_maps_ms > 0 && report.jacobian_maps_ms > 0)
        #expect(report.gradient_maps_ms < report.gradient_ms && report.jacobian_maps_ms < report.jacobian_ms)
        #expect(report.forward_ms_spread.count == 2 && report.forward_ms_spread[0] <= report.forward_ms_spread[1])
        // 2·(Σ conv MACs + FC) of the paper's CNN at 28×28: 4.5 MFLOP.
        #expect(abs(report.gflop_per_image - 0.0045) < 0.0002)
        #expect(report.sgemm_gflops > 1)
        // At least the bundled model's 1.9 MB of weights and the sgemm measurement's three 1024²
        // matrices (12 MiB) were resident; a bench of a 2 MB model needs nowhere near 2 GiB.
        #expect(report.peak_resident_mb > 14 && report.peak_resident_mb < 2048, "\(report.peak_resident_mb) MiB")
    }

    struct MethodsReport: Decodable {
        var methods: [String]
        var forward_ms: Double
        var gradient_ms: Double?
        var jacobian_ms: Double?
        var gradient_maps_ms: Double?
        var jacobian_maps_ms: Double?
    }

    /// `--methods` chooses the maps the timed passes compute, and with them the passes: one-gradient
    /// maps only leave the Jacobian out, Jacobian maps only the gradient; by default both run and
    /// the report lists the paper's five maps. An unknown name is refused by name.
    @Test func benchTimesThePassesTheListedMapsNeed() throws {
        func report(_ extra: [String]) throws -> MethodsReport {
            let run = try ExplainCommandTests.run(["bench", "--json", "--repeats", "1", "--threads", "1"] + extra)
            #expect(run.status == 0, "\(run.errors)")
            return try JSONDecoder().decode(MethodsReport.self, from: Data(run.output.utf8))
        }
        let all = try report([])
        #expect(all.methods == ["vanilla", "positive", "negative", "active", "inactive"])
        #expect(all.gradient_ms != nil && all.jacobian_ms != nil)
        let oneGradient = try report(["--methods", "vanilla,Signed"])
        #expect(oneGradient.methods == ["vanilla", "signed"])
        #expect(oneGradient.gradient_ms.map { $0 > 0 } == true && oneGradient.jacobian_ms == nil)
        #expect(oneGradient.gradient_maps_ms != nil && oneGradient.jacobian_maps_ms == nil)
        let jacobian = try report(["--methods", "active"])
        #expect(jacobian.gradient_ms == nil && jacobian.jacobian_ms.map { $0 > 0 } == true)
        #expect(jacobian.gradient_maps_ms == nil && jacobian.jacobian_maps_ms != nil)

        let bad = try ExplainCommandTests.run(["bench", "--methods", "vanilla,gradcam", "--repeats", "1"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("--methods: 'gradcam' is not a map"))
    }

    struct ProductReport: Decodable {
        var m: Int, n: Int, k: Int
        var transpose_b: Bool
        var gemm_kernels: String
        var engine_gflops: Double
        var openblas_gflops: Double
    }

    /// `bench --products` times each shape on the engine's kernels and on OpenBLAS, one JSON
    /// object per line, and names a malformed shape.
    @Test func benchTimesProductsOfTheGivenShapes() throws {
        let run = try ExplainCommandTests.run(["bench", "--products", "7x9x5,64x128x64t", "--repeats", "1", "--json"])
        #expect(run.status == 0, "\(run.errors)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 2)
        let reports = try lines.map { try JSONDecoder().decode(ProductReport.self, from: Data($0.utf8)) }
        #expect(reports.map { [$0.m, $0.n, $0.k] } == [[7, 9, 5], [64, 128, 64]])
        #expect(reports.map(\.transpose_b) == [false, true])
        #expect(reports.allSatisfy { $0.engine_gflops > 0 && $0.openblas_gflops > 0 })
        #expect(reports.allSatisfy { ["openblas", "avx2", "avx512"].contains($0.gemm_kernels) })

        let bad = try ExplainCommandTests.run(["bench", "--products", "7x9", "--repeats", "1"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("'7x9' is not MxNxK"))
    }

    struct ProfileReport: Decodable {
        struct Row: Decodable {
            var node: String
            var op: String
            var jacobian_backward_ms: Double
        }
        var profile: [Row]
    }

    /// `bench --profile` names how each convolution runs: the bundled model's 1×1 and 2×2 maps as
    /// dense matrices in both passes, its 4×4 maps dense in the VJP of 64 rows or more, the rest
    /// direct.
    @Test func benchProfileNamesTheDenseConvolutions() throws {
        let run = try ExplainCommandTests.run(["bench", "--json", "--profile", "--repeats", "1", "--batch", "1",
                                               "--threads", "1"])
        #expect(run.status == 0, "\(run.errors)")
        let report = try JSONDecoder().decode(ProfileReport.self, from: Data(run.output.utf8))
        var ops: [String: String] = [:]
        for row in report.profile { ops[row.node] = row.op }
        #expect(ops["/features/features.0/Conv"] == "Conv 7×7/2+relu")
        #expect(ops["/features/features.3/Conv"] == "Conv 3×3/1+relu")
        #expect(ops["/features/features.5/Conv"] == "Conv 3×3/2+relu")
        for layer in [7, 9] { #expect(ops["/features/features.\(layer)/Conv"] == "Conv 3×3/1+relu dense VJP≥64") }
        #expect(ops["/features/features.11/Conv"] == "Conv 3×3/2+relu dense VJP≥64")
        for layer in [13, 15, 19] { #expect(ops["/features/features.\(layer)/Conv"] == "Conv 3×3/1+relu dense") }
        #expect(ops["/features/features.17/Conv"] == "Conv 3×3/2+relu dense")
        #expect(report.profile.allSatisfy { $0.jacobian_backward_ms >= 0 })
    }

    @Test func modelInfoDescribesTheBundledModel() throws {
        let run = try ExplainCommandTests.run(["model", "info", "models/fashion-mnist-cnn.onnx"])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("input       input: batch×1×28×28 → runs as N×1×28×28"))
        #expect(run.output.contains("classes     10, logits tensor 'logits'"))
        #expect(run.output.contains("operators   24 ONNX nodes: Conv 10, Relu 10, Flatten 1, Gemm 1, GlobalAveragePool 1, MaxPool 1"))
        #expect(run.output.contains("parameters  492,010"))
        let missing = try ExplainCommandTests.run(["model", "info", "/nonexistent.onnx"])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("/nonexistent.onnx"))
    }
}
