// swift-tools-version:5.10
import PackageDescription

// C kernels are always built optimised: the tests run in debug mode, and numeric loops at -O0
// would make them crawl without testing anything different.
let cKernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-fno-trapping-math"])]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "YOLOSwift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Vision", targets: ["Vision"]),
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // CPU kernels: oneDNN glue (conv, batch norm, pooling, resampling, sgemm) and plain C loops
        // for the rest, threaded on oneDNN's own OpenMP pool.
        .target(
            name: "CKernels",
            cSettings: cKernelFlags,
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp"), .linkedLibrary("m")]
        ),
        .target(name: "TensorCore", dependencies: ["CKernels"]),
        // The CUDA libraries, opened at run time (no CUDA at build time), and the GPU backend over them.
        .target(name: "CCUDA", cSettings: cKernelFlags, linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CUDABackend", dependencies: ["TensorCore", "CCUDA"]),
        // Open MPI opened at run time, and the communication layer of data-parallel training over it.
        .target(name: "CMPI", cSettings: cKernelFlags, linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "Distributed", dependencies: ["TensorCore", "CMPI"]),
        // Hyperparameter search: search spaces, samplers (random, TPE, BOHB), schedulers (ASHA,
        // Hyperband), PBT, and the study database over Debian's libsqlite3; nothing of YOLO.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .target(name: "Tuning", dependencies: ["CSQLite"]),
        // Image codecs (libjpeg-turbo, libpng) and pixel loops.
        .target(
            name: "CVision",
            cSettings: cKernelFlags + [.unsafeFlags(["-I/usr/include/libpng16"])],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("m")]
        ),
        .target(name: "Vision", dependencies: ["CVision"]),
        // Video decoding and encoding through FFmpeg's libraries (libavformat, libavcodec, libswscale;
        // libavdevice for cameras).
        .target(
            name: "CVideo",
            cSettings: cKernelFlags,
            linkerSettings: [.linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"),
                             .linkedLibrary("avutil"), .linkedLibrary("avdevice")]
        ),
        .target(name: "NN", dependencies: ["TensorCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // ONNX's model format (a subset of onnx.proto, generated code committed) and a graph builder.
        .target(name: "ONNX", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["onnx_subset.proto"]),
        .target(name: "YOLO", dependencies: ["TensorCore", "NN", "Vision", "CUDABackend", "ONNX", "CVideo", "Distributed"]),
        .executableTarget(
            name: "tensorcore_benchmark",
            dependencies: ["TensorCore", argumentParser]
        ),
        .executableTarget(name: "voc_annotation", dependencies: ["YOLO", argumentParser]),
        .executableTarget(name: "kmeans_for_anchors", dependencies: ["YOLO", "Vision", "TensorCore", argumentParser]),
        .executableTarget(name: "make_demo_dataset", dependencies: ["YOLO", argumentParser]),
        .executableTarget(name: "make_pretrain_dataset", dependencies: ["YOLO", argumentParser]),
        .executableTarget(name: "export_weights", dependencies: ["YOLO", "NN", "TensorCore", argumentParser]),
        .executableTarget(name: "train", dependencies: ["YOLO", argumentParser]),
        .executableTarget(name: "tune", dependencies: ["YOLO", "Tuning", "Vision", argumentParser]),
        .executableTarget(name: "dist_check", dependencies: ["Distributed", argumentParser]),
        .executableTarget(name: "predict", dependencies: ["YOLO", "NN", "Vision", "TensorCore", argumentParser]),
        .executableTarget(name: "get_map", dependencies: ["YOLO", "NN", "Vision", argumentParser]),
        .executableTarget(name: "summary", dependencies: ["YOLO", argumentParser]),
        .executableTarget(name: "model_benchmark", dependencies: ["YOLO", "NN", "TensorCore", argumentParser]),
        .executableTarget(name: "data_benchmark", dependencies: ["YOLO", "Vision", "TensorCore", argumentParser]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "CUDABackendTests", dependencies: ["CUDABackend", "TensorCore"]),
        .testTarget(name: "VisionTests", dependencies: ["Vision"], exclude: ["Fixtures"]),
        .testTarget(name: "NNTests", dependencies: ["NN"], exclude: ["Fixtures"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning"]),
        .testTarget(name: "YOLOTests", dependencies: ["YOLO", "Tuning"], exclude: ["Fixtures"]),
    ]
)
