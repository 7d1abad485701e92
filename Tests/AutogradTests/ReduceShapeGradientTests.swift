import Testing
@testable import Autograd
import Randomness

@Suite struct ReduceShapeGradientTests {
    @Test func reductions() {
        var g = SeededGenerator(seed: 4)
        let x = randomTensor([2, 3, 4], &g)
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            checkGradients([x]) { $0[0].sum(axis: axis) }
            checkGradients([x]) { $0[0].mean(axis: axis, keepingDimensions: true) }
            checkGradients([x]) { $0[0].logSumExp(axis: axis) }
            checkGradients([x]) { $0[0].max(axis: axis) }
        }
        let m = Tensor(shape: [2, 3], data: [1, 5, 2, 7, 3, 9])
        #expect(m.max(axis: 1).data == [5, 9])
        #expect(m.sum(axis: 0).data == [8, 8, 11])
        #expect(abs(m.logSumExp(axis: 1).data[0] - 5.0658839) < 1e-5)
    }

    @Test func shapeOps() {
        var g = SeededGenerator(seed: 5)
        let x = randomTensor([2, 3, 4], &g)
        checkGradients([x]) { $0[0].reshaped([6, 4]) }
        checkGradients([x]) { $0[0].transposed(0, 2) }
        checkGradients([x]) { $0[0].permuted([1, 2, 0]) }
        checkGradients([x]) { $0[0].slice(axis: 1, 1..<3) }
        let y = randomTensor([2, 2, 4], &g)
        checkGradients([x, y]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        let table = randomTensor([5, 3], &g)
        checkGradients([table]) { $0[0].gatherRows([4, 0, 4, 2]) }
        checkGradients([x]) { $0[0].pick([0, 3, 1, 2, 2, 0]) }

        let t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(t.transposed().data == [1, 4, 2, 5, 3, 6])
        #expect(t.slice(axis: 1, 1..<3).data == [2, 3, 5, 6])
        #expect(t.pick([2, 0]).data == [3, 4])
        #expect(t.reshaped([-1]).shape == [6])
    }

    @Test func gradientsAccumulateAndNoGradStopsTheTape() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad == [5, 7])
        x.zeroGrad()
        let y = Tensor.withoutGradients { x * x }
        #expect(!y.requiresGrad)
        let z = (x.detached() * x).sum()
        z.backward()
        #expect(x.grad == [1, 2])
    }

    @Test func sharedSubexpressionGetsBothContributions() {
        let x = Tensor(shape: [1], data: [3], requiresGrad: true)
        let y = x * x
        (y + y * x).sum().backward()  // d/dx (x² + x³) = 2x + 3x² = 33
        #expect(x.grad == [33])
    }

    @Test func explicitUpstreamGradient() {
        let x = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        (x * 2).backward(gradient: [1, 0, -1])
        #expect(x.grad == [2, 0, -2])
    }
}
