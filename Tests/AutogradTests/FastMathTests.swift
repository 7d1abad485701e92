import Foundation
import Testing
@testable import Autograd

@Suite struct FastMathTests {
    @Test func expMatchesLibmWithinAFewUlps() {
        let xs = stride(from: -80.0 as Float, through: 80, by: 0.0137).map { $0 }
        let fast = FastMath.exp(xs)
        let worst = zip(xs, fast).map { x, y in abs(y - Foundation.exp(x)) / Foundation.exp(x) }.max()!
        #expect(worst < 4e-7, "max relative error \(worst)")
        #expect(FastMath.exp([-200])[0] < 1e-37)
    }

    @Test func tanhMatchesLibm() {
        let xs = stride(from: -12.0 as Float, through: 12, by: 0.0011).map { $0 }
        let fast = FastMath.tanh(xs)
        let worst = zip(xs, fast).map { x, y in abs(y - Foundation.tanh(x)) }.max()!
        #expect(worst < 3e-7, "max absolute error \(worst)")
        #expect(FastMath.tanh([0])[0] == 0)
    }
}
