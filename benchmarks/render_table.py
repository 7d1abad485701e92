#!/usr/bin/env python3
"""Renders the README's throughput table from one sitting's raw files (benchmarks/run-sitting.sh made them).

usage: python3 benchmarks/render_table.py SITTING_DIR [--write README.md]
  prints the Markdown section; with --write, replaces the block between the markers
  <!-- throughput-table:begin --> and <!-- throughput-table:end --> in that file instead.

Like with like: a row compares round r of PolicyLab with round r of its anchor, and only the rounds that both sides
measured count (n in the table), so each side has the same number of runs; "best" is the best run of each side (the
highest throughput, the fewest seconds) and "median" the median run of each side; the ratio is PolicyLab's over the
anchor's (the anchor's over PolicyLab's for seconds), so > 1 means PolicyLab is faster. Python standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys
import textwrap

BEGIN, END = "<!-- throughput-table:begin -->", "<!-- throughput-table:end -->"


def load_policylab(sitting):
    runs = {}
    for path in glob.glob(os.path.join(sitting, "policylab", "run-*.json")):
        r = int(re.search(r"run-(\d+)\.json$", path).group(1))
        try:
            with open(path) as f:
                # Figures only: `machine` (the CPU and kernel path the bench reports) is not one.
                runs[r] = {k: v for k, v in json.load(f).items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)}
        except (json.JSONDecodeError, OSError):
            runs[r] = {}  # a failed bench run: no figures from it
    return runs


def load_torch(sitting):
    records = []
    for path in glob.glob(os.path.join(sitting, "torch", "*.jsonl")):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def load_trl(sitting):
    results = {}
    for path in glob.glob(os.path.join(sitting, "trl", "out", "*", "result.json")):
        with open(path) as f:
            result = json.load(f)
        match = re.match(r"(.*)_r(\d+)$", result["tag"])
        if match:
            results.setdefault(match.group(1), {})[int(match.group(2))] = result
    return results


def torch_figure(figure, best_of=False, **fields):
    """Per round: the value of the record `figure` whose fields match (the best of those that match, with best_of)."""
    def chosen(records):
        out = {}
        for rec in records:
            if rec.get("figure") == figure and all(rec.get(k) == v for k, v in fields.items()):
                r = rec.get("run")
                out[r] = max(out.get(r, rec["value"]), rec["value"]) if best_of else rec["value"]
        return out
    return chosen


def trl_field(group, field):
    def chosen(trl):
        return {r: res.get(field) for r, res in trl.get(group, {}).items() if res.get(field) is not None}
    return chosen


def trl_greedy(group):
    def chosen(trl):
        return {r: res["greedy_after"]["greedy_exact"] for r, res in trl.get(group, {}).items()
                if isinstance(res.get("greedy_after"), dict) and "greedy_exact" in res["greedy_after"]}
    return chosen


# (PolicyLab key, the anchor's figure in words, "torch" | "trl", per-round selector, higher is better)
def rows(avx512):
    fma = "fma512" if avx512 else "fma256"
    t = []
    for n in (64, 256, 512):
        t.append((f"matmul_gflops_{n}", f"PyTorch `torch.mm` n = {n}, 2 threads", "torch",
                  torch_figure(f"matmul_torch_n{n}", threads=2), True))
    t.append(("fma_peak_1t_gflops", f"C loop of `vfmadd231ps` on {'zmm' if avx512 else 'ymm'}, 1 core (`peak.c`)",
              "torch", torch_figure(f"cpu_{fma}_1core"), True))
    for shape, key in (("S", "gpt_s_train_tokens_per_s"), ("M", "gpt_m_train_tokens_per_s")):
        t.append((key, f"PyTorch GPT {shape} training, 2 threads, eager, manual attention", "torch",
                  torch_figure(f"train_{shape}", threads=2, mode="eager", attn="manual", opt="default"), True))
        t.append((key, "the same, best of PyTorch's variants in the round "
                       "(eager / compile, manual / SDPA, fused AdamW)",
                  "torch", torch_figure(f"train_{shape}", best_of=True, threads=2), True))
    for key, figure, threads in (("sampling_s_b1_tokens_per_s", "sample_kv_S_b1", 1),
                                 ("sampling_s_b64_tokens_per_s", "sample_kv_S_b64", 2),
                                 ("sampling_m_b1_tokens_per_s", "sample_kv_M_b1", 1),
                                 ("sampling_m_b32_tokens_per_s", "sample_kv_M_b32", 2)):
        t.append((key, f"PyTorch `{figure}` (KV cache), {threads} thread{'s' if threads > 1 else ''}, manual attention",
                  "torch", torch_figure(figure, threads=threads, attn="manual"), True))
    for size in ("s", "m"):
        t += [
            (f"grpo_{size}_beta0_completions_per_s", "TRL 1.16 GRPOTrainer β 0", "trl",
             trl_field(f"grpo_{size}_b0", "completions_per_s_steady"), True),
            (f"grpo_{size}_beta004_completions_per_s", "TRL 1.16 GRPOTrainer β 0.04", "trl",
             trl_field(f"grpo_{size}_b004", "completions_per_s_steady"), True),
            (f"rloo_{size}_beta005_completions_per_s", "TRL 1.16 RLOOTrainer β 0.05", "trl",
             trl_field(f"rloo_{size}_b005", "completions_per_s_steady"), True),
            (f"ppo_tokens_{size}_completions_per_s", "TRL 1.12 PPOTrainer, as shipped", "trl",
             trl_field(f"ppo_{size}_gpt2rm", "completions_per_s_steady"), True),
            (f"ppo_tokens_{size}_completions_per_s", "TRL 1.12 PPOTrainer, its `gc.collect()` removed", "trl",
             trl_field(f"ppo_{size}_gpt2rm_nogc", "completions_per_s_steady"), True),
            (f"dpo_{size}_precomputed_pairs_per_s", "TRL 1.16 DPOTrainer, reference log-probs precomputed", "trl",
             trl_field(f"dpo_{size}_pre", "pairs_per_s_steady"), True),
            (f"dpo_{size}_reference_pairs_per_s", "TRL 1.16 DPOTrainer, reference model every step", "trl",
             trl_field(f"dpo_{size}_ref", "pairs_per_s_steady"), True),
        ]
    t.append(("grpo_s_beta0_sort600_seconds",
              "TRL GRPO s β 0, 600 steps from random weights: `train()` seconds", "trl",
              trl_field("grpo600_s_b0", "train_s"), False))
    # `train grpo`'s default recipe at the same 38,400 completions, read against the same TRL run (issue 20's
    # wall-time target: at most 1/5 of TRL's).
    t.append(("grpo_s_default_sort600_seconds",
              "TRL GRPO s β 0, 600 steps, vs `train grpo`'s default recipe at the same 38,400 completions", "trl",
              trl_field("grpo600_s_b0", "train_s"), False))
    return t


# Keys with no anchor in a sitting: what they are read against, if anything.
UNPAIRED = {
    "grpo_s_beta0_sort600_greedy_exact": "learning, not speed: greedy exact-sort rate on 256 held-out prompts "
                                         "after the 600 steps",
    "grpo_s_default_sort600_greedy_exact": "learning, not speed: greedy exact-sort rate on 256 held-out prompts "
                                           "after the default recipe's 38,400 completions",
    "env_cartpole_steps_per_s": "Gymnasium `env.step` ≈ 43,000–46,000 steps/s "
                                "(ANCHORS.md, Zen 5; not in the sitting)",
    "ppo_cartpole_sps": "CleanRL `ppo.py` defaults 1,592–1,692 steps/s over 500k steps (ANCHORS.md, Zen 5; "
                        "not in the sitting)",
}


def fmt(x):
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def paired(ours, theirs):
    """Rounds both sides measured, and each side's values in them."""
    common = sorted(set(ours) & set(theirs))
    return common, [ours[r] for r in common], [theirs[r] for r in common]


def render(sitting):
    with open(os.path.join(sitting, "machine.json")) as f:
        machine = json.load(f)
    policylab = load_policylab(sitting)
    torch_records, trl = load_torch(sitting), load_trl(sitting)
    name = os.path.basename(os.path.normpath(sitting))
    clean = "" if machine.get("policylab_tree_clean", True) else " (uncommitted changes)"
    instructions = "AVX-512" if machine.get("avx512f") else "AVX2, no AVX-512" if machine.get("avx2") else "no AVX2"
    # The kernel path the PolicyLab build ran (an AVX2 build runs on an AVX-512 CPU too); older sittings: the CPU's.
    path = machine.get("kernel_path") or ("avx512" if machine.get("avx512f") else "avx2")
    family = (f", family {machine['cpu_family']} model {machine['cpu_model_number']}"
              if machine.get("cpu_family") is not None else "")
    kernels = (f"PolicyLab kernel path **{path}**" + (f" (gemm {machine['gemm_tile']}, target "
               f"`{machine.get('target_cpu', '?')}`)" if machine.get("gemm_tile") else ""))
    bench = "policylab bench --json" + (" " + machine["bench_args"] if machine.get("bench_args") else "")
    grpo600 = " and TRL's 600-step GRPO run" if machine.get("grpo600", 1) else ""
    header = (f"Sitting `benchmarks/sittings/{name}`: {machine.get('cpu_model', '?')} ({instructions}{family}), "
              f"{kernels}, "
              f"{machine.get('logical_cpus', '?')} logical CPUs, started {machine.get('started_utc', '?')}, "
              f"PolicyLab {str(machine.get('policylab_commit', '?'))[:10]}{clean}, "
              f"torch {machine.get('torch', '?')} / TRL {machine.get('trl', '?')}; {machine.get('runs', '?')} "
              f"rounds of `{bench}`, the PyTorch ({machine.get('torch_set', 'quick')}) and TRL "
              f"({machine.get('trl_set', 'quick')}) anchor sets (quick: `QUICK=1 run_all.sh`){grpo600}, "
              "interleaved. Rendered by `python3 benchmarks/render_table.py` from the raw files.")
    out = textwrap.wrap(header, 110, break_long_words=False, break_on_hyphens=False) + [
           "",
           "| key | anchor (same sitting) | n | PolicyLab best (median) | anchor best (median) | ratio best (median) |",
           "|---|---|---|---|---|---|"]
    shown = set()
    for key, label, side, select, higher in rows(path == "avx512"):
        ours = {r: run[key] for r, run in policylab.items() if key in run}
        theirs = select(torch_records) if side == "torch" else select(trl)
        common, a, b = paired(ours, theirs)
        if not common:
            continue
        shown.add(key)
        best = max if higher else min
        ours_best, ours_median = best(a), statistics.median(a)
        theirs_best, theirs_median = best(b), statistics.median(b)
        ratio = (lambda x, y: x / y) if higher else (lambda x, y: y / x)
        out.append(f"| `{key}` | {label} | {len(common)} | {fmt(ours_best)} ({fmt(ours_median)}) | "
                   f"{fmt(theirs_best)} ({fmt(theirs_median)}) | "
                   f"{ratio(ours_best, theirs_best):.2f}× ({ratio(ours_median, theirs_median):.2f}×) |")
    if out[-1].startswith("|---"):
        out.append("| — | no key has an anchor measured in the same rounds | | | | |")
    greedy = trl_greedy("grpo600_s_b0")(trl)
    rest = sorted({k for run in policylab.values() for k in run} - shown)
    if rest:
        out += ["", "PolicyLab figures without an anchor in this sitting (n = rounds measured):", "",
                "| key | n | best (median) | read against |", "|---|---|---|---|"]
        for key in rest:
            values = [run[key] for run in policylab.values() if key in run]
            # Seconds: fewer is better.
            best = min(values) if key.endswith("_seconds") else max(values)
            note = UNPAIRED.get(key, "")
            if key == "grpo_s_beta0_sort600_greedy_exact" and greedy:
                note += f"; TRL's greedy exact in the same rounds: {', '.join(fmt(greedy[r]) for r in sorted(greedy))}"
            out.append(f"| `{key}` | {len(values)} | {fmt(best)} ({fmt(statistics.median(values))}) | {note} |")
    for r in sorted(policylab):
        errors = os.path.join(sitting, "policylab", f"run-{r}.stderr")
        lines = open(errors).read().strip().splitlines() if os.path.isfile(errors) else []
        if not policylab[r] or lines:
            out += ["", f"`policylab bench` round {r} failed: {lines[-1] if lines else 'no JSON'}"]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--write"):
        sys.exit("usage: python3 benchmarks/render_table.py SITTING_DIR [--write README.md]")
    sitting = argv[1]
    if not os.path.isfile(os.path.join(sitting, "machine.json")):
        sys.exit(f"render_table.py: no machine.json in '{sitting}' — give a folder made by benchmarks/run-sitting.sh")
    table = render(sitting)
    if len(argv) == 2:
        sys.stdout.write(table)
        return
    path = argv[3]
    with open(path) as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        sys.exit(f"render_table.py: '{path}' needs one {BEGIN} … {END} block to replace")
    head, tail = text.split(BEGIN)[0], text.split(END)[1]
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + table + END + tail)
    print(f"render_table.py: wrote the table of {sitting} into {path}")


if __name__ == "__main__":
    main(sys.argv)
