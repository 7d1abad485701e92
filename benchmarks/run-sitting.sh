#!/bin/bash
# One benchmark sitting: PolicyLab's `bench --json` and the PyTorch and TRL anchors, interleaved round by round on
# this machine, every raw result file kept under benchmarks/sittings/<date>-<cpu>/. Render the README's table from it
# with `python3 benchmarks/render_table.py benchmarks/sittings/<date>-<cpu>`.
#
# usage: VENV=/path/to/anchor/venv [TRL112=/path/to/trl112] [RUNS=3] bash benchmarks/run-sitting.sh
#   VENV        the anchors' python venv: torch 2.15 + numpy (PyTorch anchors), trl 1.16 + transformers + datasets (TRL
#               anchors); see ../shared/anchors/*/README.md. Required (or PY=/path/to/python).
#   TRL112      TRL 1.12.0 for the PPO rows: a `pip install --no-deps --target DIR trl==1.12.0` folder (or PPO_PY, the
#               python of a venv with it). Without it the TRL PPO rows are skipped.
#   ANCHORS     the anchors' folder, with torch/ and trl/ (default: ../shared/anchors beside the repository)
#   RUNS        rounds (default 3); each round runs, in this order: `policylab bench --json`, the PyTorch quick anchors
#               (QUICK=1 run_all.sh, this round only), the TRL quick anchors (the same), and TRL's GRPO 600-step run
#               (grpo_run.py --size s --beta 0.0 --steps 600) that `grpo_s_beta0_sort600_seconds` is read against
#   POLICYLAB_TARGET_CPU  the CPU the build targets (default native): the script builds with it, in .build for native
#               and .build-<cpu> otherwise (e.g. haswell: the AVX2 + FMA kernel path on any x86 machine), and records it
#   POLICYLAB   the policylab binary (default: the build above); its kernel path and the CPU come from its
#               `bench --json` (`machine`), so a given binary is recorded as what it is
#   OUT         the sitting folder (default benchmarks/sittings/<UTC date>-<cpu model>-<family>-<model>-<kernel path>;
#               must not exist yet)
# For checking this script (not for a sitting): BENCH_ARGS (extra `bench` arguments, e.g. "--filter sampling_s_b1"),
#   TORCH_SET / TRL_SET = quick (default) | smoke (one figure: gpt.py sampling S / grpo_run.py s β 0, 12 steps) | none,
#   GRPO600 = 1 (default) | 0.
# Nothing else busy may run on the machine meanwhile: every figure is a wall-clock timing.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
ANCHORS=${ANCHORS:-$REPO/../shared/anchors}
RUNS=${RUNS:-3}
TORCH_SET=${TORCH_SET:-quick}; TRL_SET=${TRL_SET:-quick}; GRPO600=${GRPO600:-1}
BENCH_ARGS=${BENCH_ARGS:-}
fail() { echo "run-sitting.sh: $*" >&2; exit 1; }

[ -n "${VENV:-}${PY:-}" ] ||
  fail "set VENV to the anchors' venv (torch 2.15, trl 1.16), e.g. VENV=/work/anchor-env/venv"
PY=${PY:-$VENV/bin/python}
[ -x "$PY" ] || fail "no python at '$PY' — set VENV to the anchors' venv (or PY to its python)"
[ -f "$ANCHORS/torch/run_all.sh" ] && [ -f "$ANCHORS/trl/run_all.sh" ] ||
  fail "no anchors at '$ANCHORS' (torch/run_all.sh, trl/run_all.sh) — set ANCHORS"
ANCHORS=$(cd "$ANCHORS" && pwd)
for set in "$TORCH_SET" "$TRL_SET"; do
  case $set in quick|smoke|none) ;; *) fail "TORCH_SET / TRL_SET must be quick, smoke or none (got '$set')";; esac
done
[ "$TORCH_SET" = none ] || "$PY" -c "import torch, numpy" 2>/dev/null ||
  fail "'$PY' has no torch/numpy (PyTorch anchors)"
[ "$TRL_SET" = none ] && [ "$GRPO600" = 0 ] ||
  "$PY" -c "import trl, transformers, datasets" 2>/dev/null ||
  fail "'$PY' has no trl/transformers/datasets (TRL anchors)"

TARGET_CPU=${POLICYLAB_TARGET_CPU:-native}
if [ -z "${POLICYLAB:-}" ]; then
  BUILD_PATH=$REPO/.build
  [ "$TARGET_CPU" = native ] || BUILD_PATH=$REPO/.build-$TARGET_CPU
  echo "=== POLICYLAB_TARGET_CPU=$TARGET_CPU swift build -c release --build-path $BUILD_PATH $(date -u +%T)"
  (cd "$REPO" && POLICYLAB_TARGET_CPU=$TARGET_CPU swift build -c release --build-path "$BUILD_PATH") >&2 ||
    fail "the release build failed"
  POLICYLAB=$BUILD_PATH/release/policylab
fi
[ -x "$POLICYLAB" ] || fail "no policylab binary at '$POLICYLAB'"
# The binary's kernel path and the CPU as it sees them (a one-figure bench, a few milliseconds).
PROBE=$("$POLICYLAB" bench --json --quick --filter env_cartpole_raw 2>/dev/null) ||
  fail "'$POLICYLAB bench' did not run (an AVX-512 build on a CPU without AVX-512 stops with Illegal instruction)"
probe() { echo "$PROBE" | python3 -c "import json, sys; print(json.load(sys.stdin)['machine'].get('$1', ''))"; }
KERNEL_PATH=$(probe kernel_path); GEMM_TILE=$(probe gemm_tile)
CPU_FAMILY=$(probe cpu_family); CPU_MODEL_NUMBER=$(probe cpu_model)
[ -n "$KERNEL_PATH" ] || fail "'$POLICYLAB bench --json' names no kernel path — a build from before the kernel paths?"

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
SLUG=$(echo "${CPU:-unknown-cpu}" | tr 'A-Z' 'a-z' |
  sed -e 's/([^)]*)//g' -e 's/[^a-z0-9]\{1,\}/-/g' -e 's/^-//' -e 's/-$//' | cut -c1-40)
[ -n "$CPU_FAMILY" ] && SLUG=$SLUG-f$CPU_FAMILY-m$CPU_MODEL_NUMBER
OUT=${OUT:-$REPO/benchmarks/sittings/$(date -u +%Y-%m-%d)-$SLUG-$KERNEL_PATH}
[ -e "$OUT" ] && fail "'$OUT' already exists — choose another OUT (a sitting is never pooled with another)"
mkdir -p "$OUT/policylab" "$OUT/torch" "$OUT/trl" && OUT=$(cd "$OUT" && pwd)
SCRATCH=$(mktemp -d) && trap 'rm -rf "$SCRATCH"' EXIT

# --- the machine and the builds
lscpu > "$OUT/lscpu.txt"
grep -qw avx512f /proc/cpuinfo && AVX512=true || AVX512=false
grep -qw avx2 /proc/cpuinfo && AVX2=true || AVX2=false
git -C "$REPO" diff --quiet HEAD 2>/dev/null && CLEAN=true || CLEAN=false
# machine FIELD=VALUE…: sets fields of the sitting's machine.json
# (true, false and small integers as such, else strings).
machine() { python3 - "$OUT/machine.json" "$@" <<'PYTHON'
import json, os, sys
path, pairs = sys.argv[1], sys.argv[2:]
data = json.load(open(path)) if os.path.exists(path) else {}
for pair in pairs:
    key, value = pair.split("=", 1)
    small_integer = value.isdigit() and len(value) < 10
    data[key] = json.loads(value) if value in ("true", "false") or small_integer else value
json.dump(data, open(path, "w"), indent=1)
PYTHON
}
machine "cpu_model=$CPU" "avx512f=$AVX512" "avx2=$AVX2" "logical_cpus=$(nproc)" "kernel=$(uname -sr)" \
  "cpu_family=$CPU_FAMILY" "cpu_model_number=$CPU_MODEL_NUMBER" "kernel_path=$KERNEL_PATH" "gemm_tile=$GEMM_TILE" \
  "target_cpu=$TARGET_CPU" "policylab_binary=$POLICYLAB" \
  "started_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "runs=$RUNS" \
  "policylab_commit=$(git -C "$REPO" rev-parse HEAD 2>/dev/null)" \
  "policylab_tree_clean=$CLEAN" "swift=$(swift --version 2>&1 | head -1)" "python=$("$PY" --version 2>&1)" \
  "torch=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)" \
  "trl=$("$PY" -c 'import trl; print(trl.__version__)' 2>/dev/null)" \
  "bench_args=$BENCH_ARGS" "torch_set=$TORCH_SET" "trl_set=$TRL_SET" "grpo600=$GRPO600"
echo "=== sitting $OUT: $CPU (avx512f $AVX512), kernel path $KERNEL_PATH ($GEMM_TILE), $RUNS rounds"

export RESULTS MODELS="$SCRATCH/models"  # the TRL anchors' random-init checkpoints stay out of the sitting
for r in $(seq 1 "$RUNS"); do
  echo "=== round $r: policylab bench $(date -u +%T)"
  # shellcheck disable=SC2086
  "$POLICYLAB" bench --json $BENCH_ARGS > "$OUT/policylab/run-$r.json" 2> "$OUT/policylab/run-$r.stderr" ||
    echo "FAILED  policylab bench round $r: $(tail -1 "$OUT/policylab/run-$r.stderr")"

  RESULTS=$OUT/torch
  case $TORCH_SET in
    quick) echo "=== round $r: PyTorch quick anchors $(date -u +%T)"
           QUICK=1 RUNS=$r PY=$PY bash "$ANCHORS/torch/run_all.sh" > "$OUT/torch/round-$r.log" 2>&1 ||
             echo "FAILED  PyTorch anchors round $r (see torch/round-$r.log)" ;;
    smoke) echo "=== round $r: PyTorch smoke figure $(date -u +%T)"
           "$PY" "$ANCHORS/torch/gpt.py" --bench sample --shape S --threads 1 --attn manual --sample-kinds kv \
             --min-time 0.3 --min-reps 1 --sample-warmup 1 --run "$r" --out "$OUT/torch/sample.jsonl" \
             > "$OUT/torch/round-$r.log" 2>&1 || echo "FAILED  PyTorch smoke figure round $r" ;;
  esac

  RESULTS=$OUT/trl
  mkdir -p "$OUT/trl/logs"
  case $TRL_SET in
    quick) echo "=== round $r: TRL quick anchors $(date -u +%T)"
           QUICK=1 RUNS=$r PY=$PY TRL112=${TRL112:-} bash "$ANCHORS/trl/run_all.sh" > "$OUT/trl/round-$r.log" 2>&1 ||
             echo "FAILED  TRL anchors round $r (see trl/round-$r.log)" ;;
    smoke) echo "=== round $r: TRL smoke run $(date -u +%T)"
           (cd "$ANCHORS/trl" && "$PY" grpo_run.py --size s --beta 0.0 --steps 12 --tag "grpo_s_b0_r$r") \
             > "$OUT/trl/logs/grpo_s_b0_r$r.log" 2>&1 || echo "FAILED  TRL smoke run round $r" ;;
  esac
  if [ "$GRPO600" = 1 ]; then
    echo "=== round $r: TRL GRPO s β 0, 600 steps $(date -u +%T)"
    (cd "$ANCHORS/trl" && HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_DISABLED=true \
      TOKENIZERS_PARALLELISM=false "$PY" grpo_run.py --size s --beta 0.0 --steps 600 --tag "grpo600_s_b0_r$r") \
      > "$OUT/trl/logs/grpo600_s_b0_r$r.log" 2>&1 || echo "FAILED  TRL GRPO 600 steps round $r"
  fi
done
# Nothing built or downloaded stays in the sitting: the PyTorch anchors' compiled peak loop, TRL's empty output_dirs.
rm -rf "$OUT/torch/bin" "$OUT/torch/tmp" "$OUT/trl/ckpt" "$OUT/trl/models"
machine "finished_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "=== done $(date -u +%T): python3 $REPO/benchmarks/render_table.py $OUT"
python3 "$REPO/benchmarks/render_table.py" "$OUT"
