// The lab's shipped policy on the tabular test bed: `MLPActorCritic` with no hidden layer, fed
// one-hot states. Its actor is then exactly a softmax table, logits θ[s, a] = W[a, s] + b[a], and its
// critic a value table V(s) = w[s] + c, so the exact gradient of PolicyGradientTheorem.swift applies
// to the very module the trainers train: actions are drawn by `act`, log-probabilities come from
// `evaluate` on the autograd tape, and gradients from `backward`.
//
// Parameter layout compared with the exact gradient (the module's actor parameters, flattened):
// W (A, S) row-major, index a·S + s, then b (A). With one-hot inputs ∂J/∂W[a, s] = ∂J/∂θ[s, a] and
// ∂J/∂b[a] = Σ_s ∂J/∂θ[s, a].

import Autograd
import NN
import Policies
import Randomness

/// One sampled episode S0, A0, R1, S1, … on the tabular MDP.
public struct TabularEpisode: Sendable, Equatable {
    public var states: [Int] = []
    public var actions: [Int] = []
    public var rewards: [Double] = []
}

/// The shipped actor-critic set to a given softmax table and value table.
struct TabularActorCritic {
    let module: MLPActorCritic
    let stateCount: Int
    let actionCount: Int

    /// Logits θ (index s·A + a) go into W with b = 0; `stateValues` into the critic's w with c = 0.
    init(logits: [Float], stateValues: [Float], stateCount: Int, actionCount: Int) throws {
        precondition(logits.count == stateCount * actionCount && stateValues.count == stateCount,
                     "TabularActorCritic: \(logits.count) logits and \(stateValues.count) values for "
                        + "S=\(stateCount) A=\(actionCount)")
        var initialization = SeededGenerator(seed: 0)  // every weight is overwritten below
        module = MLPActorCritic(
            config: .init(observationSize: stateCount, head: .categorical(actions: actionCount), hiddenSizes: []),
            generator: &initialization)
        self.stateCount = stateCount
        self.actionCount = actionCount
        var weight = [Float](repeating: 0, count: actionCount * stateCount)  // (A, S)
        for state in 0..<stateCount {
            for action in 0..<actionCount { weight[action * stateCount + state] = logits[state * actionCount + action] }
        }
        try module.load([
            "actor.0.weight": ([actionCount, stateCount], weight),
            "actor.0.bias": ([actionCount], [Float](repeating: 0, count: actionCount)),
            "critic.0.weight": ([1, stateCount], stateValues),
            "critic.0.bias": ([1], [0]),
        ])
    }

    /// Names of the compared parameters, in layout order.
    var actorParameterNames: [String] {
        (0..<actionCount).flatMap { action in (0..<stateCount).map { "actor.0.weight[\(action), \($0)]" } }
            + (0..<actionCount).map { "actor.0.bias[\($0)]" }
    }

    /// A gradient with respect to θ (index s·A + a) in the actor's parameter layout.
    func actorLayout(ofLogitGradient gradient: [Double]) -> [Double] {
        var weight = [Double](repeating: 0, count: actionCount * stateCount)
        var bias = [Double](repeating: 0, count: actionCount)
        for state in 0..<stateCount {
            for action in 0..<actionCount {
                weight[action * stateCount + state] = gradient[state * actionCount + action]
                bias[action] += gradient[state * actionCount + action]
            }
        }
        return weight + bias
    }

    /// (N, S) one-hot rows.
    func oneHot(_ states: [Int]) -> [Float] {
        var rows = [Float](repeating: 0, count: states.count * stateCount)
        for (row, state) in states.enumerated() { rows[row * stateCount + state] = 1 }
        return rows
    }

    /// `count` episodes run side by side, as the REINFORCE trainer runs one episode per environment:
    /// every step asks the module's `act` for the actions of all unfinished episodes at once.
    func sampleEpisodes(
        count: Int, on mdp: TabularMDP, using generator: inout SeededGenerator
    ) -> [TabularEpisode] {
        var episodes = [TabularEpisode](repeating: TabularEpisode(), count: count)
        var states = (0..<count).map { _ in mdp.sampleStart(using: &generator) }
        var active = Array(0..<count)
        while !active.isEmpty {
            let decision = module.act(
                observations: oneHot(active.map { states[$0] }), count: active.count, generator: &generator)
            var stillActive: [Int] = []
            for (row, episode) in active.enumerated() {
                let state = states[episode], action = decision.discreteActions[row]
                let outcome = mdp.step(state: state, action: action, using: &generator)
                episodes[episode].states.append(state)
                episodes[episode].actions.append(action)
                episodes[episode].rewards.append(outcome.reward)
                if let next = outcome.next {
                    states[episode] = next
                    stillActive.append(episode)
                }
            }
            active = stillActive
        }
        return episodes
    }

    /// log π(a_i|s_i) and V(s_i) from `evaluate`, without keeping gradients.
    func logProbabilitiesAndValues(states: [Int], actions: [Int]) -> (logProbabilities: [Double], values: [Double]) {
        Tensor.withoutGradients {
            let evaluation = module.evaluate(
                observations: Tensor(shape: [states.count, stateCount], data: oneHot(states)),
                actions: actions.map(Float.init))
            return (evaluation.logProbabilities.data.map(Double.init), evaluation.values.data.map(Double.init))
        }
    }

    /// The tape's gradients of Σ_i g_i·log π(a_i|s_i) + Σ_i h_i·V(s_i) with respect to the actor's
    /// parameters (layout above) and the critic's (w then c): an objective's analytic gradients g = ∂L/∂log π
    /// and h = ∂L/∂V fed back through `backward(gradient:)`, as the trainers do.
    func tapeGradients(
        states: [Int], actions: [Int], logProbabilityGradient: [Double], valueGradient: [Double]? = nil
    ) -> (actor: [Double], critic: [Double]) {
        module.zeroGradients()
        let evaluation = module.evaluate(
            observations: Tensor(shape: [states.count, stateCount], data: oneHot(states)),
            actions: actions.map(Float.init))
        evaluation.logProbabilities.backward(gradient: logProbabilityGradient.map(Float.init))
        if let valueGradient { evaluation.values.backward(gradient: valueGradient.map(Float.init)) }
        func gradient(_ tensor: Tensor) -> [Double] {
            (tensor.grad ?? [Float](repeating: 0, count: tensor.count)).map(Double.init)
        }
        let actor = module.actor.layers[0], critic = module.critic.layers[0]
        let actorGradient = gradient(actor.weight) + (actor.bias.map(gradient) ?? [])
        let criticGradient = gradient(critic.weight) + (critic.bias.map(gradient) ?? [])
        return (actorGradient, criticGradient)
    }
}
