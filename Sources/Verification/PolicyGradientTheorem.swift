// Exact policy evaluation and the exact policy gradient of a tabular softmax policy.
//
// Reference: Sutton & Barto, "Reinforcement Learning: An Introduction" (2nd ed.), §13.2, the
// policy gradient theorem for the episodic case, here with discounting kept inside the state
// weighting (the form REINFORCE's γ^t factor in §13.3 estimates):
//
//   J(θ)  = Σ_s d0(s) v_π(s)
//   ∇J(θ) = Σ_s μ(s) Σ_a q_π(s, a) ∇π(a|s),      μ(s) = Σ_t γ^t Pr(S_t = s)
//
// μ is the unnormalised discounted visitation, so the theorem holds with equality (S&B's "∝"
// hides the normalising constant Σ_s μ(s)). Every quantity is solved exactly:
//   v_π = r_π + γ P_π v_π         →  (I − γ P_π) v_π = r_π
//   μ   = d0 + γ P_πᵀ μ           →  (I − γ P_πᵀ) μ = d0
//   η   = d0 + P_πᵀ η             →  (I − P_πᵀ) η = d0        (η(s) = Σ_t Pr(S_t = s))
//   q_π(s, a) = r(s, a) + γ Σ_s' P(s'|s, a) v_π(s')
// with P_π(s, s') = Σ_a π(a|s) P(s'|s, a), r_π(s) = Σ_a π(a|s) r(s, a) and P sub-stochastic
// (episodes end with probability p_end per step; see TabularMDP), so every system is non-singular.
// Softmax derivative: ∂π(a|s)/∂θ[s, b] = π(a|s) (1[a = b] − π(b|s)); zero for other states.
//
// The estimator without the γ^t factor (CleanRL's and SB3's practice, `DiscountWeighting.unweighted`)
// has expectation Σ_s η(s) Σ_a q_π(s, a) ∇π(a|s): the same sum with the undiscounted visitation η.

import Objectives

/// Exact values of one policy on one MDP.
public struct TabularPolicyEvaluation: Sendable, Codable, Equatable {
    /// v_π(s).
    public let stateValues: [Double]
    /// q_π(s, a), index s·A + a.
    public let actionValues: [Double]
    /// μ(s) = Σ_t γ^t Pr(S_t = s).
    public let discountedVisitation: [Double]
    /// η(s) = Σ_t Pr(S_t = s), the expected number of visits per episode.
    public let undiscountedVisitation: [Double]
    /// J(θ) = Σ_s d0(s) v_π(s).
    public let objective: Double
}

/// Solves v_π, q_π, μ, η and J exactly (three S × S linear solves, O(S³)).
public func evaluatePolicy(_ policy: TabularSoftmaxPolicy, on mdp: TabularMDP) -> TabularPolicyEvaluation {
    let stateCount = mdp.stateCount, actionCount = mdp.actionCount
    precondition(policy.stateCount == stateCount && policy.actionCount == actionCount,
                 "evaluatePolicy: policy is S=\(policy.stateCount) A=\(policy.actionCount), "
                    + "MDP is S=\(stateCount) A=\(actionCount)")
    let probabilities = policy.probabilityTable()  // (S, A)
    var policyTransition = [Double](repeating: 0, count: stateCount * stateCount)  // P_π: (S, S)
    var policyReward = [Double](repeating: 0, count: stateCount)                   // r_π: (S)
    for state in 0..<stateCount {
        for action in 0..<actionCount {
            let probability = probabilities[state * actionCount + action]
            policyReward[state] += probability * mdp.reward(state: state, action: action)
            for next in 0..<stateCount {
                policyTransition[state * stateCount + next] +=
                    probability * mdp.transitionProbability(from: state, action: action, to: next)
            }
        }
    }
    /// I − factor·P_π, or I − factor·P_πᵀ when `transposed`.
    func system(factor: Double, transposed: Bool) -> [Double] {
        var matrix = [Double](repeating: 0, count: stateCount * stateCount)
        for row in 0..<stateCount {
            for column in 0..<stateCount {
                let identity: Double = row == column ? 1 : 0
                let entry = transposed ? policyTransition[column * stateCount + row]
                    : policyTransition[row * stateCount + column]
                matrix[row * stateCount + column] = identity - factor * entry
            }
        }
        return matrix
    }
    let stateValues = solveLinearSystem(
        matrix: system(factor: mdp.discount, transposed: false), rightHandSide: policyReward)
    let visitation = solveLinearSystem(
        matrix: system(factor: mdp.discount, transposed: true), rightHandSide: mdp.startDistribution)
    let undiscountedVisitation = solveLinearSystem(
        matrix: system(factor: 1, transposed: true), rightHandSide: mdp.startDistribution)
    var actionValues = [Double](repeating: 0, count: stateCount * actionCount)
    for state in 0..<stateCount {
        for action in 0..<actionCount {
            var expectedNextValue = 0.0
            for next in 0..<stateCount {
                expectedNextValue +=
                    mdp.transitionProbability(from: state, action: action, to: next) * stateValues[next]
            }
            actionValues[state * actionCount + action] =
                mdp.reward(state: state, action: action) + mdp.discount * expectedNextValue
        }
    }
    var objective = 0.0
    for state in 0..<stateCount { objective += mdp.startDistribution[state] * stateValues[state] }
    return TabularPolicyEvaluation(
        stateValues: stateValues, actionValues: actionValues, discountedVisitation: visitation,
        undiscountedVisitation: undiscountedVisitation, objective: objective)
}

/// ∇J(θ) by the policy gradient theorem, index s·A + b:
/// ∂J/∂θ[s, b] = μ(s) Σ_a q_π(s, a) π(a|s) (1[a = b] − π(b|s)).
public func exactPolicyGradient(_ policy: TabularSoftmaxPolicy, on mdp: TabularMDP) -> [Double] {
    expectedPolicyGradientEstimate(policy, on: mdp, weighting: .theorem)
}

/// The exact expectation of the per-episode estimator Σ_t c_t (G_t − b(S_t)) ∇ln π(A_t|S_t) for either
/// step weighting c_t: ∇J itself for `.theorem` (c_t = γ^t, state weights μ), and
/// Σ_s η(s) Σ_a q_π(s, a) ∇π(a|s) for `.unweighted` (c_t = 1, state weights η). Index s·A + b.
public func expectedPolicyGradientEstimate(
    _ policy: TabularSoftmaxPolicy, on mdp: TabularMDP, weighting: DiscountWeighting
) -> [Double] {
    let evaluation = evaluatePolicy(policy, on: mdp)
    let stateWeights = switch weighting {
    case .theorem: evaluation.discountedVisitation
    case .unweighted: evaluation.undiscountedVisitation
    }
    return softmaxPolicyGradient(policy, stateWeights: stateWeights, actionValues: evaluation.actionValues)
}

/// Σ_s w(s) Σ_a q(s, a) ∇π(a|s) for a softmax table, index s·A + b, with the softmax derivative
/// ∂π(a|s)/∂θ[s, b] = π(a|s) (1[a = b] − π(b|s)): the sum both forms of the theorem take (episodic: w = μ or η
/// and q = q_π; continuing: w = μ_π, the stationary distribution, and q the differential q_π).
func softmaxPolicyGradient(
    _ policy: TabularSoftmaxPolicy, stateWeights: [Double], actionValues: [Double]
) -> [Double] {
    let actionCount = policy.actionCount
    var gradient = [Double](repeating: 0, count: policy.stateCount * actionCount)
    for state in 0..<policy.stateCount {
        let probabilities = policy.probabilities(in: state)
        for logitAction in 0..<actionCount {
            var sum = 0.0
            for action in 0..<actionCount {
                let indicator: Double = action == logitAction ? 1 : 0
                let probabilityDerivative = probabilities[action] * (indicator - probabilities[logitAction])
                sum += actionValues[state * actionCount + action] * probabilityDerivative
            }
            gradient[state * actionCount + logitAction] = stateWeights[state] * sum
        }
    }
    return gradient
}

/// ∇J(θ) by central finite differences, (J(θ + h e_i) − J(θ − h e_i)) / 2h per component, with J
/// solved exactly. Truncation error O(h²), rounding error O(ε |J| / h): h = 1e-5 balances them near 1e-10.
public func finiteDifferencePolicyGradient(
    _ policy: TabularSoftmaxPolicy, on mdp: TabularMDP, step: Double = 1e-5
) -> [Double] {
    precondition(step > 0, "finiteDifferencePolicyGradient: step must be positive, got \(step)")
    return policy.logits.indices.map { index in
        var plus = policy, minus = policy
        plus.logits[index] += step
        minus.logits[index] -= step
        return (evaluatePolicy(plus, on: mdp).objective - evaluatePolicy(minus, on: mdp).objective) / (2 * step)
    }
}
