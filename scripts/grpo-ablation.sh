#!/usr/bin/env bash
# Reruns the GRPO ablation of the README's section "GRPO that learns" (issue 20): PolicyLab's default recipe
# and TRL's anchor setting (`--preset trl`), the default with one component changed, and each component alone
# on top of TRL's setting, on `sort` from random weights at TRL's budget (600 steps × 8 prompts × G 8 =
# 38,400 completions), seeds 1–10; then the default and TRL's setting on `reverse` and `addition` (seeds
# 1–5). Each part is an ordinary, resumable `policylab study` in its own database, so the parts can run side
# by side (PARALLEL=1) on a machine with the cores for it; ONLY="grpo-ablation-a …" runs some parts. Part f is
# the default with DAPO's cut at P groups per step (`--keep-surplus-groups false`: the default before it).
#
#   scripts/grpo-ablation.sh                 # one study after another
#   PARALLEL=1 scripts/grpo-ablation.sh      # side by side
#   BIN=path/to/policylab DIR=out scripts/grpo-ablation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/policylab}
DIR=${DIR:-grpo-ablation}
mkdir -p "$DIR"
[ -x "$BIN" ] || swift build -c release

T="grpo --preset trl"
study() {  # study NAME TASK SEEDS COMPLETIONS ALGORITHMS
    "$BIN" study run "$1" --db "$DIR/$1.sqlite" --task "$2" --seeds "$3" --budget "completions=$4" \
        --algorithms "$5" > "$DIR/$1.log" 2>&1
}
# In order of what the README's argument needs first.
parts=(
    "grpo-ablation-a|sort|1-10|38400|default=grpo,trl=$T"
    "grpo-ablation-b|sort|1-10|38400|mu1=grpo --iterations 1 --dynamic-sampling false,$(
        )no-dynamic=grpo --dynamic-sampling false"
    "grpo-ablation-f|sort|1-10|38400|dapo-cut=grpo --keep-surplus-groups false"
    "grpo-ablation-c|sort|1-10|38400|mu2=$T --iterations 2 --epsilon-high 0.28,beta=$T --beta 0.04,$(
        )entropy=$T --entropy-coef 0.03"
    "grpo-ablation-d|sort|1-10|38400|lr=$T --learning-rate 2e-3,dynamic=$T --dynamic-sampling true,$(
        )scale-none=$T --scale-rewards none"
    "grpo-ablation-e|sort|1-10|38400|target-entropy=$T --target-entropy 0.5,clip-higher=$T --epsilon-high 0.28,$(
        )mask-truncated=$T --mask-truncated-completions true"
    "grpo-reverse|reverse|1-5|38400|default=grpo,trl=$T"
    "grpo-addition|addition|1-5|38400|default=grpo,trl=$T"
)
selected() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
for part in "${parts[@]}"; do
    IFS='|' read -r name task seeds completions algorithms <<< "$part"
    selected "$name" || continue
    if [ "${PARALLEL:-0}" = 1 ]; then
        study "$name" "$task" "$seeds" "$completions" "$algorithms" &
    else
        study "$name" "$task" "$seeds" "$completions" "$algorithms"
    fi
done
wait
for part in "${parts[@]}"; do
    name=${part%%|*}
    selected "$name" || continue
    "$BIN" study show "$name" --db "$DIR/$name.sqlite"
    "$BIN" study show "$name" --db "$DIR/$name.sqlite" --json > "$DIR/$name.json"
done
# The README's chart: per-token entropy of the default and of TRL's setting over seeds 1–10.
if selected grpo-ablation-a; then
    "$BIN" study show grpo-ablation-a --db "$DIR/grpo-ablation-a.sqlite" --metric entropy \
        --svg docs/grpo-entropy.svg > /dev/null
fi
