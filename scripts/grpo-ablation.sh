#!/usr/bin/env bash
# Reruns the GRPO ablation of the README's GRPO section (issue 20): TRL's anchor setting (`--preset trl`),
# each anti-collapse component alone on top of it, and PolicyLab's default recipe, on `sort` from random
# weights at TRL's budget (600 steps × 8 prompts × G 8 = 38,400 completions), 10 seeds each. The
# configurations are split over three studies so that they can run side by side (PARALLEL=1); each study
# is an ordinary `policylab study`, resumable, in its own database. Then the default on `reverse` and
# `addition` (seeds 1–5).
#
#   scripts/grpo-ablation.sh                 # everything, one study after another
#   PARALLEL=1 scripts/grpo-ablation.sh      # the studies side by side
#   BIN=path/to/policylab DIR=out scripts/grpo-ablation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/policylab}
DIR=${DIR:-grpo-ablation}
SEEDS=${SEEDS:-1-10}
mkdir -p "$DIR"
[ -x "$BIN" ] || swift build -c release

T="grpo --preset trl"
study() {  # study NAME TASK SEEDS ALGORITHMS
    "$BIN" study run "$1" --db "$DIR/$1.sqlite" --task "$2" --seeds "$3" --budget completions=38400 \
        --algorithms "$4" > "$DIR/$1.log" 2>&1
}
A="trl=$T,default=grpo,entropy=$T --entropy-coef 0.03,beta=$T --beta 0.04"
B="lr=$T --learning-rate 2e-3,dynamic=$T --dynamic-sampling true,target-entropy=$T --target-entropy 0.5"
B="$B,scale-none=$T --scale-rewards none"
C="mask-truncated=$T --mask-truncated-completions true,clip-higher=$T --epsilon-high 0.28"
C="$C,gspo=$T --importance-sampling-level sequence"
D="default=grpo"

if [ "${PARALLEL:-0}" = 1 ]; then
    study grpo-ablation-a sort "$SEEDS" "$A" & study grpo-ablation-b sort "$SEEDS" "$B" &
    study grpo-ablation-c sort "$SEEDS" "$C" & wait
    study grpo-default-reverse reverse 1-5 "$D" & study grpo-default-addition addition 1-5 "$D" & wait
else
    study grpo-ablation-a sort "$SEEDS" "$A"
    study grpo-ablation-b sort "$SEEDS" "$B"
    study grpo-ablation-c sort "$SEEDS" "$C"
    study grpo-default-reverse reverse 1-5 "$D"
    study grpo-default-addition addition 1-5 "$D"
fi
for name in grpo-ablation-a grpo-ablation-b grpo-ablation-c grpo-default-reverse grpo-default-addition; do
    "$BIN" study show "$name" --db "$DIR/$name.sqlite"
    "$BIN" study show "$name" --db "$DIR/$name.sqlite" --json > "$DIR/$name.json"
done
# The entropy curves of TRL's setting, the default and the two regularisers alone (README chart).
"$BIN" study show grpo-ablation-a --db "$DIR/grpo-ablation-a.sqlite" --metric entropy --svg docs/grpo-entropy.svg \
    > /dev/null
