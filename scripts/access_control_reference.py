"""Independent reference for the access-control queuing task (Sutton & Barto 2018, Example 10.2).

Written apart from PolicyLab's Swift code: builds the MDP from the example's text with the binomial
probabilities of Python's math.comb, solves it by policy iteration (exact average-reward evaluation of each policy by a linear
solve, then greedy improvement), and writes the optimal average reward and policy as a fixture that
VerificationTests compares with the shipped relative value iteration.

Task: 10 servers; the customer at the head of the queue has priority 1, 2, 4 or 8 (uniform). Each step:
the decision (accepting while a server is free pays the priority and takes a server; otherwise 0), then
each busy server frees with probability 0.06, then the next priority is drawn. State = (free, priority).

usage: python scripts/access_control_reference.py > Tests/VerificationTests/Fixtures/access-control-queuing.json
(needs numpy).
"""
import json

import numpy as np
from math import comb

SERVERS, PRIORITIES, P_FREE = 10, [1, 2, 4, 8], 0.06
K = len(PRIORITIES)
S = (SERVERS + 1) * K  # state index: free * K + priority index


def model():
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    for free in range(SERVERS + 1):
        for k, priority in enumerate(PRIORITIES):
            s = free * K + k
            for a in (0, 1):
                f = free
                if a == 1 and free > 0:
                    R[s, a] = priority
                    f -= 1
                busy = SERVERS - f
                for freed in range(busy + 1):
                    p = comb(busy, freed) * P_FREE**freed * (1 - P_FREE) ** (busy - freed)
                    for k2 in range(K):
                        P[s, a, (f + freed) * K + k2] += p / K
    return P, R


def evaluate(P, R, policy):
    Pp = P[np.arange(S), policy]  # (S, S)
    rp = R[np.arange(S), policy]
    # unknowns: h(0..S-1), rho; equations h + rho = r + P h, and h(0) = 0
    A = np.zeros((S + 1, S + 1))
    A[:S, :S] = np.eye(S) - Pp
    A[:S, S] = 1
    A[S, 0] = 1
    b = np.concatenate([rp, [0.0]])
    x = np.linalg.solve(A, b)
    return x[S], x[:S]


def main():
    P, R = model()
    assert np.allclose(P.sum(axis=2), 1)
    policy = np.ones(S, dtype=int)  # accept everything
    for iteration in range(100):
        rho, h = evaluate(P, R, policy)
        q = R + P @ h  # (S, 2)
        improved = policy.copy()
        for s in range(S):
            if q[s, 1 - policy[s]] > q[s, policy[s]] + 1e-12:
                improved[s] = 1 - policy[s]
        if (improved == policy).all():
            break
        policy = improved
    thresholds = []
    for k in range(K):
        accepting = [free for free in range(1, SERVERS + 1) if policy[free * K + k] == 1]
        thresholds.append(min(accepting) if accepting else None)
    print(json.dumps({
        "source": "scripts/access_control_reference.py (numpy, policy iteration)",
        "optimal_average_reward": float(rho),
        "policy_iterations": iteration + 1,
        "acceptance_thresholds": thresholds,
        "accept_all_average_reward": float(evaluate(P, R, np.ones(S, dtype=int))[0]),
    }, indent=2))


if __name__ == "__main__":
    main()
