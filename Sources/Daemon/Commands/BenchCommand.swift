import ArgumentParser
import Engine
import Foundation

/// `saliencyd bench`: engine-only timings of forward, forward + one gradient (and its maps), and
/// forward + the whole Jacobian (and every listed map), against the machine's measured `sgemm`
/// roofline.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the engine on a model: forward, forward + gradient, forward + whole Jacobian.",
        discussion: "Per-image medians (and 10th/90th percentiles) over repeated runs after a warm-up, on random "
            + "inputs in [0, 1]. The gradient and Jacobian passes include the maps they serve (--methods), computed for "
            + "every frame as serve's workers compute them. Compare ratios from one run on one machine; the machine is "
            + "shared and noisy.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Frames per batch.") var batch = 1
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Where the threads go: engine (the engine spreads each convolution's GEMM blocks over them, OpenBLAS runs one thread per call) or blas (OpenBLAS threads every GEMM itself).")
    var parallel = "engine"
    @Option(help: "Timed repetitions of each measurement.") var repeats = 20
    @Option(help: ArgumentHelp("Maps computed in the timed passes, comma-separated: vanilla, positive, negative, signed (from one gradient; timed as forward + gradient) and active, inactive (from the whole Jacobian; timed as forward + Jacobian, which computes every listed map). A pass no listed map needs is not timed.", valueName: "methods"))
    var methods = EngineTimings.paperMethods.map(\.rawValue).joined(separator: ",")
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "wall (elapsed time) or thread-cpu (CPU time of the calling thread; use with --threads 1 on a busy machine).")
    var clock = "wall"
    @Flag(help: "Also time every node (forward, gradient backward, Jacobian backward) and print the breakdown.")
    var profile = false
    @Option(help: ArgumentHelp("Instead of a model, time single-thread products of these shapes (MxNxK, comma-separated; a trailing t transposes B) on the engine's kernels and on OpenBLAS.", valueName: "shapes"))
    var products: String?

    struct Report: Encodable {
        var model: String
        var batch: Int
        var threads: Int
        var input: [Int]
        var classes: Int
        /// The maps each timed pass computed for every frame.
        var methods: [String]
        var forwardMs: Double
        /// `nil` (left out) when no listed map needs the pass.
        var gradientMs: Double?
        var jacobianMs: Double?
        /// The maps' part of the gradient and Jacobian passes (medians, ms per image).
        var gradientMapsMs: Double?
        var jacobianMapsMs: Double?
        var forwardMsSpread: [Double]
        var gradientMsSpread: [Double]?
        var jacobianMsSpread: [Double]?
        var gflopPerImage: Double
        var achievedForwardGflops: Double
        var sgemmGflops: Double
        var blasCore: String
        /// Who computes the engine's products: `avx512` or `avx2` (saliencyd's kernels) or `openblas`.
        var gemmKernels: String
        /// The engine's products measured as it runs them (1024³, a band of rows per thread).
        var engineGemmGflops: Double
        var repeats: Int
        var clock: String
        var parallel: String
        var profile: [OperatorBreakdown.Row]?
        /// The process's peak resident memory after timing, in MiB (`getrusage`'s `ru_maxrss`):
        /// the model with its derived weights, the workspace, and the sgemm measurement's matrices.
        var peakResidentMb: Double
    }

    /// The process's peak resident set so far, in MiB (Linux reports `ru_maxrss` in KiB).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1024
    }

    func run() throws {
        guard batch > 0, threads > 0, repeats > 0 else { throw ValidationError("--batch, --threads and --repeats must be positive") }
        guard let clock = TimingClock(rawValue: clock) else { throw ValidationError("--clock takes wall or thread-cpu") }
        guard parallel == "engine" || parallel == "blas" else { throw ValidationError("--parallel takes engine or blas") }
        if let products { return try runProducts(products) }
        let methods = try MethodList.parse(commaSeparated: self.methods, option: "--methods")
        // The roofline: sgemm on all the threads.
        BLAS.threadCount = threads
        let sgemm = BLAS.measureSGEMM()
        let engineThreads = parallel == "engine" ? threads : 1
        BLAS.threadCount = parallel == "engine" ? 1 : threads
        let gemmKernels = GEMM.activeKernels
        let engineGEMM = BLAS.measureEngineGEMM(threads: engineThreads)
        let bundle = try modelOptions.load()
        let model = bundle.model
        let workspace = Workspace(model: model, maxBatch: batch, threads: engineThreads)
        var random = SeededGenerator(seed: 1)
        let input = random.uniform(count: batch * model.inputCount, in: 0...1)

        let timings = try EngineTimings.measure(workspace, input: input, batch: batch, repeats: repeats,
                                                methods: methods, clock: clock)
        let (forward, gradient, jacobian) = (timings.forward, timings.gradient, timings.jacobian)
        let gflop = Double(model.forwardFLOPs) / 1e9
        let breakdown = profile ? try OperatorBreakdown.measure(workspace, input: input, batch: batch, repeats: repeats, clock: clock) : nil
        let report = Report(
            model: bundle.name, batch: batch, threads: threads, input: model.inputShape.dimensions, classes: model.classCount,
            methods: methods.map(\.rawValue),
            forwardMs: forward.median, gradientMs: gradient?.median, jacobianMs: jacobian?.median,
            gradientMapsMs: timings.gradientMaps, jacobianMapsMs: timings.jacobianMaps,
            forwardMsSpread: [forward.p10, forward.p90], gradientMsSpread: gradient.map { [$0.p10, $0.p90] },
            jacobianMsSpread: jacobian.map { [$0.p10, $0.p90] }, gflopPerImage: gflop,
            achievedForwardGflops: gflop / (forward.median / 1000), sgemmGflops: sgemm, blasCore: BLAS.coreName,
            gemmKernels: gemmKernels.rawValue, engineGemmGflops: engineGEMM, repeats: repeats,
            clock: clock.rawValue, parallel: parallel, profile: breakdown?.rows, peakResidentMb: Self.peakResidentMiB())
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("model      \(bundle.name): input \(model.inputShape), \(model.classCount) classes, \(String(format: "%.4f", gflop)) GFLOP per image forward")
        print("setup      batch \(batch), \(threads) thread(s) (\(parallel)), \(repeats) repeats, \(clock.rawValue) clock; sgemm \(String(format: "%.1f", report.sgemmGflops)) GFLOP/s (OpenBLAS \(report.blasCore) kernels)")
        let gemmThreads = parallel == "engine" ? "\(engineThreads) thread(s)" : "OpenBLAS threading each call over \(threads)"
        print("gemm       engine products on \(gemmKernels.description): "
              + String(format: "%.1f GFLOP/s", engineGEMM) + " (1024³, \(gemmThreads))")
        let kernels = BLASCoreSelection.currentKernelReport(gemm: gemmKernels)
        if kernels.narrowerThanCPU { print("note       \(kernels.message)") }
        if let note = KernelSelection.current.note { print("note       \(note)") }
        let oneGradient = methods.filter { !$0.needsJacobian }.map(\.rawValue).joined(separator: ", ")
        print("per image  median (p10–p90)")
        let passes: [(String, EngineTimings.Sample?, String, Double?)] = [
            ("forward", forward, "", nil),
            ("forward + gradient", gradient, oneGradient, timings.gradientMaps),
            ("forward + Jacobian", jacobian, methods.map(\.rawValue).joined(separator: ", "), timings.jacobianMaps),
        ]
        for (name, value, mapNames, mapsMs) in passes {
            guard let value else { continue }
            let maps = mapsMs.map { String(format: "  + maps (%.3f ms of it): ", $0) + mapNames } ?? ""
            print("  " + name.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + String(format: "%9.3f ms  (%.3f–%.3f)", value.median, value.p10, value.p90) + maps)
        }
        print(String(format: "forward    %.1f GFLOP/s achieved", report.achievedForwardGflops))
        print(String(format: "memory     peak resident %.0f MiB (the process, after timing)", report.peakResidentMb))
        if let breakdown { print("\n" + breakdown.table()) }
    }

    /// One `--products` line.
    struct ProductReport: Encodable {
        var m: Int, n: Int, k: Int
        var transposeB: Bool
        var gemmKernels: String
        var engineGflops: Double
        var openblasGflops: Double
    }

    /// `--products`: one thread's GFLOP/s for each shape on the engine's selected kernels and on
    /// OpenBLAS, best of `repeats` (a table, or one JSON object per line with `--json`). Every
    /// shape is checked before any is timed.
    private func runProducts(_ list: String) throws {
        let shapes = try list.split(separator: ",").map { text in
            let transposeB = text.hasSuffix("t")
            let sizes = text.dropLast(transposeB ? 1 : 0).split(separator: "x", omittingEmptySubsequences: false)
                .map { Int($0) }
            guard sizes.count == 3, let m = sizes[0], let n = sizes[1], let k = sizes[2], m > 0, n > 0, k > 0 else {
                throw ValidationError("--products: '\(text)' is not MxNxK with positive sizes (optionally followed by t)")
            }
            return (text: String(text), m: m, n: n, k: k, transposeB: transposeB)
        }
        BLAS.threadCount = 1
        let kernels = GEMM.activeKernels
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        if !json { print("products   one thread, best of \(repeats); engine on \(kernels.description), OpenBLAS \(BLAS.coreName) kernels") }
        for shape in shapes {
            let engine = BLAS.measureProduct(m: shape.m, n: shape.n, k: shape.k, transposeB: shape.transposeB,
                                             openBLAS: false, repeats: repeats)
            let openBLAS = BLAS.measureProduct(m: shape.m, n: shape.n, k: shape.k, transposeB: shape.transposeB,
                                               openBLAS: true, repeats: repeats)
            if json {
                let report = ProductReport(m: shape.m, n: shape.n, k: shape.k, transposeB: shape.transposeB,
                                           gemmKernels: kernels.rawValue, engineGflops: engine, openblasGflops: openBLAS)
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("  " + shape.text.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + String(format: " engine %6.1f GFLOP/s   OpenBLAS %6.1f   ratio %.2f", engine, openBLAS, engine / openBLAS))
            }
        }
    }
}
