import Testing
@testable import Autograd
import Randomness

@Suite struct ElementwiseGradientTests {
    @Test func binaryOpsSameShape() {
        var g = SeededGenerator(seed: 1)
        let a = randomTensor([3, 4], &g), b = randomTensor([3, 4], &g, low: 0.5, high: 2)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        checkGradients([a, b]) { $0[0] / $0[1] }
    }

    @Test func binaryOpsBroadcast() {
        var g = SeededGenerator(seed: 2)
        let a = randomTensor([2, 3, 4], &g), row = randomTensor([4], &g, low: 0.5, high: 2)
        let column = randomTensor([3, 1], &g, low: 0.5, high: 2), scalar = randomTensor([], &g, low: 0.5, high: 2)
        checkGradients([a, row]) { $0[0] + $0[1] }
        checkGradients([a, row]) { $0[0] * $0[1] }
        checkGradients([a, column]) { $0[0] / $0[1] }
        checkGradients([column, row]) { $0[0] - $0[1] }
        checkGradients([a, scalar]) { $0[0] * $0[1] }
        let sum = Tensor(shape: [3, 1], data: [1, 2, 3]) + Tensor(shape: [2], data: [10, 20])
        #expect(sum.shape == [3, 2])
        #expect(sum.data == [11, 21, 12, 22, 13, 23])
    }

    @Test func unaryOps() {
        var g = SeededGenerator(seed: 3)
        let x = randomTensor([2, 5], &g)
        let positive = randomTensor([2, 5], &g, low: 0.3, high: 2)
        checkGradients([x]) { $0[0].exp() }
        checkGradients([positive]) { $0[0].log() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].gelu() }
        checkGradients([x]) { -$0[0] * 3 + 1 }
        checkGradients([positive]) { $0[0].pow(1.7) }
        checkGradients([positive]) { $0[0].sqrt() }
        checkGradients([x]) { $0[0].square() }
        // relu / clamp / abs: inputs kept away from the kinks so central differences are valid.
        let away = Tensor(shape: [6], data: [-1.5, -0.7, -0.2, 0.3, 0.8, 1.6], requiresGrad: true)
        checkGradients([away]) { $0[0].relu() }
        checkGradients([away]) { $0[0].clamp(-0.5, 0.5) }
        checkGradients([away]) { $0[0].abs() }
        checkGradients([away, away.detached()]) { Tensor.maximum($0[0], $0[1] * 0.5) }
        checkGradients([away]) { Tensor.minimum($0[0], Tensor(repeating: 0.5, shape: [6])) }
    }

    @Test func clampStraightThroughPassesGradientOutside() {
        let x = Tensor(shape: [3], data: [-2, 0, 2], requiresGrad: true)
        x.clamp(-1, 1, straightThrough: true).sum().backward()
        #expect(x.grad == [1, 1, 1])
        let y = Tensor(shape: [3], data: [-2, 0, 2], requiresGrad: true)
        y.clamp(-1, 1).sum().backward()
        #expect(y.grad == [0, 1, 0])
    }

    @Test func geluIsTheTanhForm() {
        // PyTorch F.gelu(x, approximate="tanh") at x = 1.0 and -0.5.
        let y = Tensor(shape: [2], data: [1, -0.5]).gelu()
        #expect(abs(y.data[0] - 0.8411920071) < 1e-6)
        #expect(abs(y.data[1] - -0.1542859972) < 1e-6)
    }

    @Test func selectRoutesGradientsByMask() {
        let mask = Tensor(shape: [3], data: [1, 0, 1])
        let a = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        let b = Tensor(shape: [3], data: [.infinity, 5, .nan], requiresGrad: true)
        let y = Tensor.select(mask, a, b)
        #expect(y.data == [1, 5, 3])
        y.sum().backward()
        #expect(a.grad == [1, 0, 1])
        #expect(b.grad == [0, 1, 0])
    }
}
