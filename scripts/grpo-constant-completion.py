#!/usr/bin/env python3
"""The best prompt-independent completion of `sort`, `reverse` and `addition`, and its expected reward.

README § GRPO (why `reverse` and `addition` stay at 0 from random weights): a policy that ignores the prompt
already earns this much, so it is the first rung of the ladder GRPO's group-relative advantages climb. The
rewards are the tasks' (Sources/Tasks): sort scores the first 6 characters against the sorted digits (/6);
reverse and addition score positions over the longer of completion and target (addition right-aligned).
Prompts are drawn as the tasks draw them (sort: 6 digits 0-5; reverse: 3-6 digits 0-9; addition: two 1-3
digit numbers). Coordinate ascent over the digits of each length 1-8, on 4,000 prompts, seed 0.

    python scripts/grpo-constant-completion.py
"""
import random


def positional(completion, target, right_aligned=False):
    if right_aligned:
        completion, target = completion[::-1], target[::-1]
    denominator = max(len(completion), len(target))
    return sum(a == b for a, b in zip(completion, target)) / denominator if denominator else 1.0


def sort_target(rng):
    digits = [rng.randint(0, 5) for _ in range(6)]
    return "".join(map(str, sorted(digits)))


def reverse_target(rng):
    text = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 6)))
    return text[::-1]


def operand(rng):
    digits = rng.randint(1, 3)
    return rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)


def addition_target(rng):
    return str(operand(rng) + operand(rng))


def best_constant(targets, reward, lengths):
    best = (0.0, "")
    for length in lengths:
        completion = ["0"] * length
        for _ in range(3):
            for position in range(length):
                def score(digit):
                    candidate = "".join(completion[:position] + [digit] + completion[position + 1:])
                    return sum(reward(candidate, t) for t in targets) / len(targets)
                completion[position] = max("0123456789", key=score)
        text = "".join(completion)
        value = sum(reward(text, t) for t in targets) / len(targets)
        best = max(best, (value, text))
    return best


def main():
    rng = random.Random(0)
    sort_reward = lambda c, t: sum(a == b for a, b in zip(c[:6], t)) / 6
    tasks = [("sort", sort_target, sort_reward, range(6, 7)),
             ("reverse", reverse_target, positional, range(1, 9)),
             ("addition", addition_target, lambda c, t: positional(c, t, right_aligned=True), range(1, 9))]
    for name, draw, reward, lengths in tasks:
        targets = [draw(rng) for _ in range(4000)]
        value, text = best_constant(targets, reward, lengths)
        print(f"{name}: best constant completion '{text}', expected reward {value:.3f}")


if __name__ == "__main__":
    main()
