import Autograd

/// Where a bench ran: the CPU (model name, x86 family and model, the vector features it enables) and the kernel
/// path this build compiled (`KernelPath`): `policylab bench` prints it, and `--json` keeps it under `machine`, so
/// a sitting's files say which path each figure measured on which CPU.
public struct BenchmarkMachine: Encodable, Sendable, Equatable {
    /// CPUID's brand string ("AMD EPYC" on these VMs).
    public var cpu: String
    public var cpuFamily: Int?
    public var cpuModel: Int?
    /// Among fma, avx2, avx512f.
    public var cpuFeatures: [String]
    /// avx512, avx2, neon or portable.
    public var kernelPath: String
    /// The gemm's register tile on that path.
    public var gemmTile: String

    public static var current: BenchmarkMachine {
        let identity = CPUIdentity.current
        return BenchmarkMachine(
            cpu: identity.brand, cpuFamily: identity.family, cpuModel: identity.model, cpuFeatures: identity.features,
            kernelPath: KernelPath.name, gemmTile: KernelPath.gemmTile.label)
    }

    /// "kernels avx512 (gemm 8x32 SIMD16) on AMD EPYC (family 25, model 17; fma avx2 avx512f)".
    public var summary: String {
        let signature = cpuFamily.map { family in "family \(family), model \(cpuModel ?? 0); " } ?? ""
        return "kernels \(kernelPath) (gemm \(gemmTile)) on \(cpu) (\(signature)\(cpuFeatures.joined(separator: " ")))"
    }
}
