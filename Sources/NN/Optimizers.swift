import Autograd
import Foundation

/// An optimiser updates parameters in place from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update from the current gradients (parameters without a gradient are skipped).
    func step()
}

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019, "AdamW"); weight decay 0 is Adam
/// (Kingma & Ba 2015). Matches PyTorch's `torch.optim.AdamW` update:
/// θ ← θ − lr·λ·θ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr·m̂ / (√v̂ + ε).
public final class AdamW: Optimizer {
    public struct Config: Codable, Sendable, Equatable {
        /// lr: step size.
        public var learningRate: Float = 1e-3
        /// β₁: decay of the first-moment estimate.
        public var beta1: Float = 0.9
        /// β₂: decay of the second-moment estimate.
        public var beta2: Float = 0.999
        /// ε: added to √v̂ (PyTorch 1e-8; CleanRL's PPO uses 1e-5).
        public var epsilon: Float = 1e-8
        /// λ: decoupled weight decay (0 = Adam).
        public var weightDecay: Float = 0
        public init(
            learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
            weightDecay: Float = 0
        ) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let parameters: [Tensor]
    public var config: Config
    public var learningRate: Float {
        get { config.learningRate }
        set { config.learningRate = newValue }
    }
    /// Which parameters receive weight decay (GPT convention: matrices yes, biases and norms no).
    public let decays: [Bool]
    public private(set) var stepCount = 0
    var firstMoments: [[Float]]
    var secondMoments: [[Float]]

    public init(parameters: [Tensor], config: Config, decayMask: [Bool]? = nil) {
        self.parameters = parameters
        self.config = config
        decays = decayMask ?? parameters.map { $0.rank >= 2 }
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
        secondMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        stepCount += 1
        let lr = config.learningRate, b1 = config.beta1, b2 = config.beta2, eps = config.epsilon
        let correction1 = 1 - Foundation.pow(b1, Float(stepCount))
        let correction2 = 1 - Foundation.pow(b2, Float(stepCount))
        let stepSize = lr / correction1
        let inverseRootCorrection2 = 1 / correction2.squareRoot()
        // Every parameter with a gradient, pinned for the whole update; then the elements of all of them, end to end,
        // are cut in two halves for the two kernel threads: one hand-off per step, and the small tensors (a GPT's
        // biases, norms and embeddings) no longer run on one thread while the other waits. The update is
        // elementwise and the same in its vector and scalar parts, so where the cut falls does not change the result.
        func update(_ slices: [Slice]) {
            let total = slices.reduce(0) { $0 + $1.count }
            let shared = UncheckedSendable(slices)
            let run: @Sendable (Range<Int>) -> Void = { range in
                var first = 0
                for slice in shared.value {
                    let lower = max(range.lowerBound, first), upper = min(range.upperBound, first + slice.count)
                    if lower < upper {
                        let i = lower - first
                        AdamW.update(
                            theta: slice.theta + i, m: slice.m + i, v: slice.v + i, g: slice.g + i,
                            count: upper - lower, beta1: b1, beta2: b2, decay: slice.decay, stepSize: stepSize,
                            inverseRootCorrection2: inverseRootCorrection2, epsilon: eps)
                    }
                    first += slice.count
                }
            }
            if total < 1 << 14 {
                run(0..<total)
            } else {
                CPUKernels.split(count: total) { _, range in run(range) }
            }
        }
        let active = parameters.indices.filter { parameters[$0].grad != nil && parameters[$0].count > 0 }
        var slices: [Slice] = []
        slices.reserveCapacity(active.count)
        firstMoments.withUnsafeMutableBufferPointer { firstMoments in
            secondMoments.withUnsafeMutableBufferPointer { secondMoments in
                func pin(_ position: Int) {
                    guard position < active.count else {
                        update(slices)
                        return
                    }
                    let index = active[position], parameter = parameters[index]
                    let decay = decays[index] ? 1 - lr * config.weightDecay : 1
                    guard let grad = parameter.grad else { return }
                    parameter.data.withUnsafeMutableBufferPointer { values in
                        firstMoments[index].withUnsafeMutableBufferPointer { m in
                            secondMoments[index].withUnsafeMutableBufferPointer { v in
                                grad.withUnsafeBufferPointer { g in
                                    guard let theta = values.baseAddress, let m = m.baseAddress, let v = v.baseAddress,
                                        let g = g.baseAddress
                                    else { return }
                                    slices.append(
                                        Slice(theta: theta, m: m, v: v, g: g, count: values.count, decay: decay))
                                    pin(position + 1)
                                }
                            }
                        }
                    }
                }
                pin(0)
            }
        }
    }

    /// One parameter's update in `step`: its values, moments and gradient, pinned.
    private struct Slice {
        var theta: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        var g: UnsafePointer<Float>
        var count: Int
        var decay: Float
    }

    /// The update of n parameters, 16 lanes at a time (then one by one), in the same operation order
    /// per element either way, so the result does not depend on where the vector part ends.
    @inline(__always)
    static func update(
        theta: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        g: UnsafePointer<Float>,
        count n: Int, beta1 b1: Float, beta2 b2: Float, decay: Float, stepSize: Float, inverseRootCorrection2: Float,
        epsilon: Float
    ) {
        typealias Vector = SIMD16<Float>
        let vb1 = Vector(repeating: b1), vb2 = Vector(repeating: b2), va1 = Vector(repeating: 1 - b1),
            va2 = Vector(repeating: 1 - b2)
        let vDecay = Vector(repeating: decay), vStep = Vector(repeating: stepSize)
        let vRoot = Vector(repeating: inverseRootCorrection2), vEpsilon = Vector(repeating: epsilon)
        func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
        func store(_ x: Vector, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: x, as: Vector.self)
        }
        var i = 0
        while i + 16 <= n {
            let gi = load(g + i)
            let mi = vb1 * load(m + i) + va1 * gi
            let vi = vb2 * load(v + i) + va2 * gi * gi
            let denominator = vi.squareRoot() * vRoot + vEpsilon
            store(mi, m + i)
            store(vi, v + i)
            store(load(theta + i) * vDecay - vStep * mi / denominator, theta + i)
            i += 16
        }
        while i < n {
            let gi = g[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            let denominator = v[i].squareRoot() * inverseRootCorrection2 + epsilon
            theta[i] = theta[i] * decay - stepSize * m[i] / denominator
            i += 1
        }
    }

    /// The optimiser state (step count and both moments), for checkpoints.
    public func state() -> (step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
        (stepCount, firstMoments, secondMoments)
    }

    /// Restores a state saved by `state()` for the same parameter list.
    public func restore(step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
        precondition(
            firstMoments.map(\.count) == parameters.map(\.count)
                && secondMoments.map(\.count) == parameters.map(\.count),
            "optimizer state does not fit the parameters")
        stepCount = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }
}

/// Stochastic gradient descent with optional momentum: v ← μv + g; θ ← θ − lr·v.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    var velocities: [[Float]]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocities = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            for i in 0..<parameter.count {
                velocities[index][i] = momentum * velocities[index][i] + grad[i]
                parameter.data[i] -= learningRate * velocities[index][i]
            }
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maximumNorm`
/// (PyTorch's `clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maximumNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        p.grad?.withUnsafeBufferPointer { g in
            // Squares summed in Double, eight lanes at a time.
            guard let base = g.baseAddress else { return }
            var lanes = SIMD8<Double>(repeating: 0), i = 0
            while i + 8 <= g.count {
                let x = SIMD8<Double>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self))
                lanes += x * x
                i += 8
            }
            total += lanes.sum()
            while i < g.count { total += Double(g[i]) * Double(g[i]); i += 1 }
        }
    }
    let norm = Float(total.squareRoot())
    let scale = maximumNorm / (norm + 1e-6)
    if scale < 1 {
        for p in parameters { p.grad?.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= scale } } }
    }
    return norm
}

/// Learning-rate schedules as functions of the update index.
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    /// lr constant.
    case constant
    /// Linear decay from lr to 0 over `totalSteps` (CleanRL's `anneal_lr`: frac = 1 − step/total).
    case linear(totalSteps: Int)
    /// Linear warm-up over `warmupSteps`, then cosine decay to `minimumFraction`·lr at `totalSteps`.
    case cosine(warmupSteps: Int, totalSteps: Int, minimumFraction: Float)

    /// The learning rate for update `step` (0-based) given the base rate.
    public func rate(base: Float, step: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .linear(let total):
            return base * max(0, 1 - Float(step) / Float(max(total, 1)))
        case .cosine(let warmup, let total, let minimum):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let progress = min(1, Float(step - warmup) / Float(max(1, total - warmup)))
            return base * (minimum + (1 - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * progress)))
        }
    }

    /// The learning rate for update `step` (0-based) given a Double base rate: the linear decay is computed in
    /// Double and rounded to Float once, `Float(lr · (1 − step/total))`, as the trainers have always set it.
    /// (Disfavoured so that a literal base keeps choosing the Float version.)
    @_disfavoredOverload
    public func rate(base: Double, step: Int) -> Float {
        switch self {
        case .constant:
            return Float(base)
        case .linear(let total):
            return Float(base * max(0, 1 - Double(step) / Double(max(total, 1))))
        case .cosine:
            return rate(base: Float(base), step: step)
        }
    }
}
