// swift-tools-version:6.0
import PackageDescription

// The instruction sets of the AVX-512 and AVX2 kernels; other architectures build those targets empty.
#if arch(x86_64)
let avx512TargetFlags = ["-target-cpu", "skylake-avx512"]
let avx2TargetFlags = ["-target-cpu", "haswell"]
#else
let avx512TargetFlags: [String] = []
let avx2TargetFlags: [String] = []
#endif

let package = Package(
    name: "saliencyd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "saliencyd", targets: ["Daemon"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Metrics and health over HTTP (docs/observability.md).
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // Already in the graph through Hummingbird; named for ServiceGroup's graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
    ],
    targets: [
        // Thin system-library targets over Debian's C libraries, found through pkg-config.
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZeroMQ", pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // A header of one inline function: software prefetch, for the vector loops.
        .systemLibrary(name: "CPrefetch"),

        .target(
            name: "Engine",
            dependencies: ["CBLAS", "CPrefetch", "AVX512Kernels", "AVX2Kernels", "VectorKernels",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX/Generated/README.md", "AVX512Kernels", "AVX2Kernels", "VectorKernels"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        // The engine's AVX-512 kernels (its GEMM), compiled for skylake-avx512 and optimised in
        // every configuration; the engine calls them only on CPUs whose flags show AVX-512.
        .target(
            name: "AVX512Kernels",
            dependencies: ["VectorKernels"],
            path: "Sources/Engine/AVX512Kernels",
            swiftSettings: [.unsafeFlags(["-Ounchecked"] + avx512TargetFlags)]),
        // The engine's GEMM for CPUs with AVX2 and FMA but not AVX-512, compiled for haswell and
        // optimised in every configuration; called only on CPUs whose flags show AVX2 and FMA.
        .target(
            name: "AVX2Kernels",
            dependencies: ["VectorKernels", "CPrefetch"],
            path: "Sources/Engine/AVX2Kernels",
            swiftSettings: [.unsafeFlags(["-Ounchecked"] + avx2TargetFlags)]),
        // Vector loops written once (8 lanes, `@inlinable`): compiled for baseline x86-64 here
        // (the portable build) and inlined into AVX512Kernels, which compiles them for AVX-512;
        // also the blocked GEMMs' shared buffers and output loops, inlined into both kernel
        // targets. Optimised in every configuration.
        .target(
            name: "VectorKernels",
            dependencies: ["CPrefetch"],
            path: "Sources/Engine/VectorKernels",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(
            name: "Pipeline",
            dependencies: [
                "Engine", "CZeroMQ", "CTurboJPEG", "CPNG", "CZlib", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "Daemon",
            dependencies: [
                "Engine", "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "AVX512Kernels", "AVX2Kernels", "VectorKernels", "CBLAS"],
            exclude: ["ONNX/ConformanceExclusions.txt"]),
        .testTarget(name: "DaemonTests", dependencies: [
            "Daemon", "Pipeline", "Engine",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Engine", "CZeroMQ", "CTurboJPEG", "CPNG", "CZlib"]),
    ]
)
