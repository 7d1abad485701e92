// Dense linear solve for the small systems of exact tabular policy evaluation.
//
// Gaussian elimination with partial pivoting (Golub & Van Loan, "Matrix Computations", §3.4):
// at step k the row with the largest |a_ik| (i ≥ k) is swapped into place, which bounds every
// multiplier by 1. O(n³) time, O(n²) memory; n here is the number of states (a handful).

/// Solves `A x = b` for a dense row-major `n × n` matrix `A`.
/// A (numerically) singular matrix is a programmer bug here — the Bellman systems
/// `(I − γ P_π) v = r_π` are non-singular whenever γ < 1 or episodes terminate — so it traps with
/// the pivot.
func solveLinearSystem(matrix: [Double], rightHandSide: [Double]) -> [Double] {
    let n = rightHandSide.count
    precondition(matrix.count == n * n,
                 "solveLinearSystem: matrix has \(matrix.count) entries, expected \(n)×\(n)")
    var a = matrix          // (n, n), overwritten by U
    var x = rightHandSide   // (n), overwritten by the solution
    for k in 0..<n {
        var pivotRow = k
        for i in (k + 1)..<max(n, k + 1) where abs(a[i * n + k]) > abs(a[pivotRow * n + k]) {
            pivotRow = i
        }
        let pivot = a[pivotRow * n + k]
        precondition(abs(pivot) > 1e-300,
                     "solveLinearSystem: singular matrix, pivot \(pivot) in column \(k) of \(n)")
        if pivotRow != k {
            for j in 0..<n { a.swapAt(k * n + j, pivotRow * n + j) }
            x.swapAt(k, pivotRow)
        }
        for i in (k + 1)..<max(n, k + 1) {
            let multiplier = a[i * n + k] / pivot
            if multiplier == 0 { continue }
            a[i * n + k] = 0
            for j in (k + 1)..<n { a[i * n + j] -= multiplier * a[k * n + j] }
            x[i] -= multiplier * x[k]
        }
    }
    for k in stride(from: n - 1, through: 0, by: -1) {
        var sum = x[k]
        for j in (k + 1)..<n { sum -= a[k * n + j] * x[j] }
        x[k] = sum / a[k * n + k]
    }
    return x
}
