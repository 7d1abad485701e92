// swift-tools-version: 6.1
// PolicyLab: policy-gradient RL and preference optimisation on a laptop CPU.
// Module map and the one-way dependency rule: see DESIGN.md (CLI → Training → Policies/Objectives → NN → Autograd).
import PackageDescription

/// Release builds target this machine's CPU (AVX-512 + FMA here): the numeric kernels need
/// `addingProduct` to lower to `vfmadd…ps`, which the default SSE2 target cannot do
/// (measured: 1.7 vs 245 GFLOP/s for a packed matmul). Users build from source, so `native` is right.
let nativeRelease: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"], .when(configuration: .release)),
]

let package = Package(
    name: "PolicyLab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "policylab", targets: ["policylab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .target(name: "Randomness", swiftSettings: nativeRelease),
        .target(name: "CAllocator"),
        .target(name: "Autograd", dependencies: ["CAllocator"], swiftSettings: nativeRelease),
        .target(name: "NN", dependencies: ["Autograd", "Randomness"], swiftSettings: nativeRelease),
        .target(name: "Objectives", swiftSettings: nativeRelease),
        .target(name: "Environments", dependencies: ["Randomness"], swiftSettings: nativeRelease),
        .target(name: "Tasks", dependencies: ["Randomness"]),
        .target(name: "Policies", dependencies: ["NN", "Autograd", "Randomness"], swiftSettings: nativeRelease),
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Studies", dependencies: ["Randomness"]),
        .target(
            name: "Training",
            dependencies: ["Policies", "Objectives", "Environments", "Tasks", "NN", "Autograd", "Randomness"],
            swiftSettings: nativeRelease
        ),
        .target(
            name: "Verification", dependencies: ["Policies", "Objectives", "NN", "Autograd", "Randomness"],
            swiftSettings: nativeRelease
        ),
        .target(
            name: "Benchmarks",
            dependencies: [
                "Training", "Policies", "Objectives", "Environments", "Tasks", "NN", "Autograd", "Randomness",
            ],
            swiftSettings: nativeRelease
        ),
        .executableTarget(
            name: "policylab",
            dependencies: [
                "Benchmarks",
                "Training", "Store", "Policies", "Objectives", "Environments", "Tasks", "NN", "Autograd", "Randomness",
                "Verification", "Studies",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeRelease
        ),

        // Fixture loading, relative differences and scratch directories shared by every test target.
        .target(name: "TestSupport", dependencies: ["NN"], path: "Tests/TestSupport"),
        .testTarget(name: "RandomnessTests", dependencies: ["Randomness", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Autograd", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ObjectivesTests", dependencies: ["Objectives", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "TestSupport"]),
        .testTarget(name: "PoliciesTests", dependencies: ["Policies", "NN", "Autograd", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(
            name: "VerificationTests", dependencies: ["Verification", "Objectives", "Randomness", "TestSupport"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Training"]),
        .testTarget(name: "StudiesTests", dependencies: ["Studies"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["policylab", "Store", "TestSupport"]),
    ]
)
