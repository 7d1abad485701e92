#!/usr/bin/env bash
# Reruns the README's study of `reverse` and `addition` from random weights (section "GRPO that learns",
# issue 20): GRPO at 8× TRL's budget (307,200 completions = 4,800 steps × 64) with the default recipe and
# the variants screened against its collapse, and the supervised ceilings of the same 2-layer policy.
# Each part is an ordinary, resumable `policylab study` (or run) in its own database, so the parts can run
# side by side (PARALLEL=1); ONLY="reverse-screen-g16 …" runs some parts. The README stopped several
# screens early (it says where); this script runs them to the end of their budget. A study is seeded:
# running its seeds as separate studies (as the README's figures were, on a shared machine) gives the same
# figures. The README's figures are on 9f26dfd, whose default cut dynamic sampling's surplus groups; later
# builds keep them unless told (1978f80), so every run here says --keep-surplus-groups false.
#
#   scripts/grpo-tasks.sh                    # one part after another
#   PARALLEL=1 ONLY="reverse-controller-4x sft" scripts/grpo-tasks.sh
#   BIN=path/to/policylab DIR=out scripts/grpo-tasks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/policylab}
DIR=${DIR:-grpo-tasks}
mkdir -p "$DIR"
[ -x "$BIN" ] || swift build -c release

G16="--prompts 4 --samples 16"
C="--learning-rate 1e-3 --target-entropy 0.3 --max-entropy-coef 1 --entropy-coef-lr 0.05"
# name|task|seeds|completions|study options|algorithms (the README's rows; seed 6 is the screen)
parts=(
    "reverse-g16-lr|reverse|1-5|307200|$G16|g16-lr1e-3=grpo --learning-rate 1e-3"
    "reverse-controller-4x|reverse|1-5|153600|$G16|g16-lr1e-3-controller=grpo $C"
    "reverse-screen-g16|reverse|6|307200|$G16|g16=grpo,g16-lr1e-3=grpo --learning-rate 1e-3,$(
        )g16-lr5e-4=grpo --learning-rate 5e-4,$(
        )g16-controller=grpo --target-entropy 0.3 --max-entropy-coef 0.3,$(
        )g16-scale-none=grpo --scale-rewards none,$(
        )g16-lr1e-3-batch=grpo --learning-rate 1e-3 --scale-rewards batch"
    "reverse-controller-8x|reverse|6-8|307200|$G16|g16-lr1e-3-controller=grpo $C"
    "reverse-screen-g8|reverse|6|307200|--prompts 8 --samples 8|max-new-tokens-6=grpo --max-new-tokens 6"
    "addition-screen-g8|addition|6|307200|--prompts 8 --samples 8|free=grpo --beta 0 --entropy-coef 0,$(
        )max-new-tokens-4=grpo --max-new-tokens 4"
    "addition-screen-g16|addition|6|307200|$G16|g16=grpo,$(
        )beta0-controller=grpo --beta 0 --target-entropy 1 --max-entropy-coef 1 --entropy-coef-lr 0.05,$(
        )max-new-tokens-4-controller=grpo --max-new-tokens 4 --beta 0 --entropy-coef 0 --target-entropy 0.5 $(
        )--max-entropy-coef 0.3"
    "addition-screen-g32|addition|6|307200|--prompts 2 --samples 32|g32=grpo"
)
selected() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
study() {  # study NAME TASK SEEDS COMPLETIONS STUDY-OPTIONS ALGORITHMS
    # shellcheck disable=SC2086  # the study options are words
    "$BIN" study run "$1" --db "$DIR/$1.sqlite" --task "$2" --seeds "$3" --budget "completions=$4" $5 \
        --algorithms "$6" -- --eval-interval 800 --keep-surplus-groups false > "$DIR/$1.log" 2>&1
}
for part in "${parts[@]}"; do
    IFS='|' read -r name task seeds completions options algorithms <<< "$part"
    selected "$name" || continue
    if [ "${PARALLEL:-0}" = 1 ]; then
        study "$name" "$task" "$seeds" "$completions" "$options" "$algorithms" &
    else
        study "$name" "$task" "$seeds" "$completions" "$options" "$algorithms"
    fi
done
# The supervised ceilings: the same policy shape, trained on the reference answers.
if selected sft; then
    "$BIN" train sft --task addition --steps 6000 --batch-size 64 --eval-interval 1000 --db "$DIR/sft.sqlite" \
        --name sft-addition > "$DIR/sft-addition.log" 2>&1
    "$BIN" train sft --task reverse --steps 1500 --batch-size 64 --eval-interval 250 --db "$DIR/sft.sqlite" \
        --name sft-reverse > "$DIR/sft-reverse.log" 2>&1
fi
wait
for part in "${parts[@]}"; do
    name=${part%%|*}
    selected "$name" || continue
    "$BIN" study show "$name" --db "$DIR/$name.sqlite"
done
