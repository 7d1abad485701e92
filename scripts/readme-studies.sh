#!/usr/bin/env bash
# Runs every study the README's results quote (mean ± 95 % bootstrap CI over 5 seeds), then prints each with
# `study show`. Re-running it is safe: a study that finished runs nothing, one that was interrupted (Ctrl-C,
# kill -9) runs only its missing runs.
#
#   scripts/readme-studies.sh [DATABASE]          # default: readme-studies.sqlite
#   POLICYLAB=path/to/policylab scripts/readme-studies.sh
#   ONLY="sort-from-sft cartpole-100k" scripts/readme-studies.sh   # a subset, by study name
#
# Learning figures are seeded and do not depend on the machine's load; wall seconds do.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-readme-studies.sqlite}"
policylab="${POLICYLAB:-.build/release/policylab}"
[[ -x "$policylab" ]] || swift build -c release --product policylab
run() { "$policylab" "$@" --db "$db"; }
wanted() { [[ -z "${ONLY:-}" || " $ONLY " == *" $1 "* ]]; }
study() {  # study NAME OPTIONS… [-- TRAIN-OPTIONS…]
    local name="$1"; shift
    wanted "$name" || return 0
    local plan=() rest=()
    while (($#)) && [[ "$1" != "--" ]]; do plan+=("$1"); shift; done
    (($#)) && { shift; rest=("$@"); }
    "$policylab" study run "$name" "${plan[@]}" --db "$db" ${rest[@]+-- "${rest[@]}"}
}

# The demo's SFT policy (`policylab demo`'s step 2: 40 steps of 32 sequences, seed 1): the start of the
# issue-19 acceptance study and of the preference studies. Trained once; later runs of this script reuse it.
if { wanted sort-from-sft || wanted sort-preference; } && ! run runs show readme-demo-sft >/dev/null 2>&1; then
    run train sft --task sort --steps 40 --batch-size 32 --eval-interval 0 --seed 1 --name readme-demo-sft
fi
# 2,000 preference pairs on sort (as the demo's step 1): chosen = the reference sort, rejected = a corrupted one.
if wanted sort-preference && ! run data show readme-pairs >/dev/null 2>&1; then
    run data generate --task sort --kind preference --count 2000 --seed 1 --name readme-pairs
fi

# Tokens. GRPO vs token PPO vs RLOO from the demo's SFT policy at 12,800 completions each (200 steps of
# 8 prompts × 8 completions): the acceptance study of issue 19.
study sort-from-sft --task sort --algorithms grpo,token-ppo,rloo --seeds 1-5 --budget completions=12800 \
    --init readme-demo-sft
# From random weights at the trainers' default 600 steps (38,400 completions): GRPO (β 0) and RLOO (β 0.05).
study sort-grpo-rloo --task sort --algorithms grpo,rloo --seeds 1-5 --budget completions=38400
# GRPO with a KL anchor, β 0.04.
study sort-grpo-beta --task sort --algorithms grpo --seeds 1-5 --budget completions=38400 -- --beta 0.04
# Token PPO (value model, TRL 1.9 semantics), 300 updates (19,200 completions).
study sort-token-ppo --task sort --algorithms token-ppo --seeds 1-5 --budget completions=19200
# SFT from random weights, 600 steps of 64 sequences (38,400).
study sort-sft --task sort --algorithms sft --seeds 1-5 --budget sequences=38400 --batch-size 64
# The preference trainers (issue 21 §5) from the demo's SFT policy on the same 2,000 pairs (1,800 after the
# 10 % held out), 19,200 pairs each (300 steps of 64 pairs, DPO's default): DPO, DPO + RPO (α 1, TRL rpo_alpha),
# IPO, SimPO, ORPO (all `train dpo --loss …`, TRL's defaults), KTO (each pair unpaired into a desirable and
# an undesirable row, as TRL's KTOTrainer does with a paired dataset: 128 rows per step) and online DPO (its
# pairs sampled from the policy on sort's training prompts and ranked by the verifier: 64 prompts × 2 per step).
study sort-preference --dataset readme-pairs --init readme-demo-sft --seeds 1-5 --budget pairs=19200 --task sort \
    --algorithms "dpo,rpo=dpo --rpo-alpha 1,ipo=dpo --loss ipo,simpo=dpo --loss simpo,orpo=dpo --loss orpo,kto,\
online-dpo"

# Classic control at each trainer's default budget; algorithms that share a budget share a study.
study cartpole-100k --env CartPole-v1 --algorithms ppo,ac-lambda --seeds 1-5 --budget steps=100000
study cartpole-200k --env CartPole-v1 --algorithms reinforce --seeds 1-5 --budget steps=200000
study cartpole-300k --env CartPole-v1 --algorithms a2c,off-policy --seeds 1-5 --budget steps=300000
# PPO with CleanRL's own CartPole settings (ppo.py's defaults), 100k steps.
study cartpole-cleanrl --env CartPole-v1 --seeds 1-5 --budget steps=100000 --algorithms \
    "cleanrl=ppo --num-envs 4 --num-steps 128 --update-epochs 4 --num-minibatches 4 --learning-rate 2.5e-4 $(
    )--gamma 0.99 --gae-lambda 0.95 --ent-coef 0.01 --truncation cleanrl"
study pendulum --env Pendulum-v1 --algorithms ppo --seeds 1-5 --budget steps=200000
study acrobot --env Acrobot-v1 --algorithms ppo --seeds 1-5 --budget steps=500000
study mountaincar --env MountainCar-v0 --algorithms ppo --seeds 1-5 --budget steps=1000000
# The average-reward actor-critic on the access-control queue (continuing; S&B Example 10.2).
study queue --env AccessControlQueuing-v0 --algorithms ac-average-reward --seeds 1-5 --budget steps=200000

for name in sort-from-sft sort-grpo-rloo sort-grpo-beta sort-token-ppo sort-sft sort-preference cartpole-100k \
    cartpole-200k cartpole-300k cartpole-cleanrl pendulum acrobot mountaincar queue; do
    wanted "$name" || continue
    echo
    run study show "$name"
done
