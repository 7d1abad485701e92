"""Reference 95 % percentile bootstrap intervals for StudiesTests, computed with numpy.

For each case: the interval of the mean (one sample) or of mean(a) - mean(b) (two independent samples),
from B = 400 000 resamples (the reference), and the Monte-Carlo standard deviation of each endpoint when
B = 10 000 (the Swift default), measured over 200 repetitions. The Swift test accepts its interval when each
endpoint is within 4 of those standard deviations of the reference.

Run: python3 make_bootstrap_fixture.py > bootstrap.json
"""
import json

import numpy as np

CASES = [
    # GRPO greedy exact match on sort, seeds 1-9 (README's spread, 5-79 %).
    {"name": "nine_seeds", "a": [0.19, 0.32, 0.29, 0.05, 0.79, 0.41, 0.12, 0.55, 0.23]},
    {"name": "five_seeds", "a": [412.0, 500.0, 188.5, 356.0, 499.0]},
    {"name": "two_seeds", "a": [0.25, 0.75]},
    {"name": "difference", "a": [0.41, 0.023, 0.09, 0.281, 0.33], "b": [0.164, 0.184, 0.543, 0.223, 0.2]},
    {"name": "clear_difference", "a": [0.9, 0.85, 0.95, 0.88], "b": [0.1, 0.2, 0.15, 0.05, 0.12]},
]


def statistics(rng, a, b, resamples):
    a = np.asarray(a)
    stat = a[rng.integers(0, len(a), size=(resamples, len(a)))].mean(axis=1)
    if b is not None:
        b = np.asarray(b)
        stat = stat - b[rng.integers(0, len(b), size=(resamples, len(b)))].mean(axis=1)
    return np.percentile(stat, [2.5, 97.5])


def main():
    out = []
    for case in CASES:
        a, b = case["a"], case.get("b")
        reference = statistics(np.random.default_rng(0), a, b, 400_000)
        repeats = np.array([statistics(np.random.default_rng(seed), a, b, 10_000) for seed in range(1, 201)])
        spread = repeats.std(axis=0, ddof=1)
        out.append({
            **case,
            "lower": float(reference[0]), "upper": float(reference[1]),
            "lower_mc_sd": float(spread[0]), "upper_mc_sd": float(spread[1]),
            "mean": float(np.mean(a)), "std": float(np.std(a, ddof=1)),
        })
    print(json.dumps({"resamples": 10_000, "level": 0.95, "numpy": np.__version__, "cases": out}, indent=1))


if __name__ == "__main__":
    main()
