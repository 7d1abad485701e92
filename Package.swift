// swift-tools-version: 6.1
// PolicyLab: policy-gradient RL and preference optimisation on a laptop CPU.
// Module map and the one-way dependency rule: see DESIGN.md (CLI → Training → Policies/Objectives → NN → Autograd).
import Foundation
import PackageDescription

/// Release builds target one CPU (`-target-cpu`): the numeric kernels need `addingProduct` to lower to
/// `vfmadd…ps`, which the default SSE2 target cannot do (measured: 1.7 vs 245 GFLOP/s for a packed matmul).
/// `POLICYLAB_TARGET_CPU` names it (default `native`: this machine's CPU; users build from source, so that is
/// right), e.g. `POLICYLAB_TARGET_CPU=haswell` for the AVX2 + FMA kernels on any x86 machine (`x86-64-v3` is not
/// a name swiftc accepts). The kernels' register tiles follow from it (`Autograd/Kernels/KernelPath.swift`):
/// `-D POLICYLAB_AVX512` (16 lanes, 32 registers: the 8×32 gemm tile) when the target has AVX-512,
/// `-D POLICYLAB_AVX2` (8 lanes, 16 registers: the 6×16 tile) when it has AVX2 + FMA only; neither (arm64 NEON, or
/// an unknown CPU): the portable 6×16 tile of SIMD8. Build each target in its own folder (`--build-path`):
/// SwiftPM does not rebuild when only this variable changes.
let targetCPU = ProcessInfo.processInfo.environment["POLICYLAB_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
    ?? "native"

/// The x86 CPU names (LLVM's) with AVX-512F, and those with AVX2 + FMA but not AVX-512.
let avx512Targets: Set<String> = [
    "skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client", "icelake-server", "tigerlake",
    "rocketlake", "sapphirerapids", "emeraldrapids", "graniterapids", "graniterapids-d", "diamondrapids",
    "znver4", "znver5", "knl", "knm", "x86-64-v4",
]
let avx2Targets: Set<String> = [
    "haswell", "broadwell", "skylake", "alderlake", "raptorlake", "meteorlake", "arrowlake", "arrowlake-s",
    "lunarlake", "pantherlake", "gracemont", "sierraforest", "grandridge", "clearwaterforest", "znver1", "znver2",
    "znver3", "bdver4",
]

/// `avx512`, `avx2` or nil (portable) for `targetCPU`; `native` reads this machine's flags (Linux x86_64).
func kernelInstructionSet(_ cpu: String) -> String? {
    if avx512Targets.contains(cpu) { return "avx512" }
    if avx2Targets.contains(cpu) { return "avx2" }
    guard cpu == "native" else { return nil }
    #if arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    if flags.contains("avx512f") { return "avx512" }
    if flags.contains("avx2") && flags.contains("fma") { return "avx2" }
    #endif
    return nil
}

let kernelDefines: [SwiftSetting] = kernelInstructionSet(targetCPU).map {
    [.define($0 == "avx512" ? "POLICYLAB_AVX512" : "POLICYLAB_AVX2", .when(configuration: .release))]
} ?? []

let nativeRelease: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU], .when(configuration: .release)),
] + kernelDefines

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
            name: "Verification",
            dependencies: ["Policies", "Objectives", "Environments", "NN", "Autograd", "Randomness"],
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
            name: "VerificationTests",
            dependencies: ["Verification", "Training", "Objectives", "Environments", "Randomness", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Training"]),
        .testTarget(name: "StudiesTests", dependencies: ["Studies"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["policylab", "Store", "TestSupport"]),
    ]
)
