import CAllocator

// Which kernels this build runs, and on which CPU. The instruction set is chosen at build time from the target
// CPU (Package.swift: `POLICYLAB_TARGET_CPU`, default `native`, sets `-target-cpu` and `POLICYLAB_AVX512` or
// `POLICYLAB_AVX2`); a run-time check would not help, as `-target-cpu` already lets the compiler use that
// instruction set everywhere. Only the register tiles differ between paths (the gemm's and attention's),
// never a result: each output element sees the same operations in the same order on every path.

/// The kernel path compiled into this build.
public enum KernelPath {
    /// `avx512`, `avx2`, `neon` (arm64) or `portable`.
    public static var name: String {
        #if POLICYLAB_AVX512
        "avx512"
        #elseif POLICYLAB_AVX2
        "avx2"
        #elseif arch(arm64)
        "neon"
        #else
        "portable"
        #endif
    }

    /// The gemm's register tile on this path.
    public static var gemmTile: GemmTile { .preferred }

    /// Whether this process's CPU runs the instruction set the path was built for (an AVX-512 build on a CPU
    /// without it stops with "Illegal instruction" before it gets here; this is for reports and tests).
    public static var cpuSupportsPath: Bool {
        let features = CPUIdentity.current.features
        #if POLICYLAB_AVX512
        return features.contains("avx512f")
        #elseif POLICYLAB_AVX2
        return features.contains("avx2") && features.contains("fma")
        #else
        return true
        #endif
    }
}

/// The CPU this process runs on: brand string, family and model (x86 CPUID), vector features the OS enables.
public struct CPUIdentity: Sendable, Equatable {
    /// CPUID's brand string, trimmed ("AMD EPYC" on these VMs); "unknown" off x86.
    public let brand: String
    /// x86 family and model (e.g. 25 and 1 for a Zen 3, 25 and 17 for a Zen 4); nil off x86.
    public let family: Int?
    public let model: Int?
    /// Among `fma`, `avx2`, `avx512f`: the ones the CPU has and the OS enables.
    public let features: [String]

    public static let current: CPUIdentity = {
        var buffer = [CChar](repeating: 0, count: 64)
        policylab_cpu_brand(&buffer, Int32(buffer.count))
        let raw = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let brand = raw.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let signature = Int(policylab_cpu_family_model())
        let bits = Int(policylab_cpu_features())
        let features = [(POLICYLAB_CPU_FMA, "fma"), (POLICYLAB_CPU_AVX2, "avx2"), (POLICYLAB_CPU_AVX512F, "avx512f")]
            .filter { bits & Int($0.0) != 0 }.map(\.1)
        return CPUIdentity(
            brand: brand.isEmpty ? "unknown" : brand, family: signature < 0 ? nil : signature / 256,
            model: signature < 0 ? nil : signature % 256, features: features)
    }()

    /// "AMD EPYC (family 25, model 17)".
    public var description: String {
        guard let family, let model else { return brand }
        return "\(brand) (family \(family), model \(model))"
    }
}
