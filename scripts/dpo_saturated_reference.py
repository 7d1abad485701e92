"""DPO against a saturated reference: PolicyLab's held-out preference accuracy beside TRL's (issue 17 §5).

Loads a PolicyLab run's exported weights (`policylab export RUN --out W.safetensors`) into the equivalent
`GPT2LMHeadModel` (Conv1D weights are the transposed Linear weights; GELU tanh; LayerNorm ε 1e-5), rebuilds the
DPOTrainer's held-out split (xoshiro256** seeded by SplitMix64, Swift's Lemire draw, Fisher–Yates; the first
10 % of the permutation), and then either

  analyse  prints, for the held-out pairs, the preference accuracy mean 1[(π_c − ρ_c) > (π_r − ρ_r)] overall and
           per pair kind (chosen = the exact answer, or both completions wrong), the ties, the mean log-ratios, the
           reference's log-probs and the float32-vs-float64 difference of the sequence log-probs; or
  trl      trains TRL's DPOTrainer (sigmoid, β, lr, batch, steps, linear decay, clip 1.0 as `policylab train dpo`;
           RPO as loss_type ["sigmoid", "sft"]) from the same weights on the same training pairs, logs its
           `eval_rewards/accuracies` on the same held-out pairs, and prints `analyse` of the result.

  python scripts/dpo_saturated_reference.py analyse --ref sft.safetensors --policy dpo.safetensors --pairs pairs.jsonl
  python scripts/dpo_saturated_reference.py trl --ref sft.safetensors --pairs pairs.jsonl --steps 300 [--rpo-alpha 1]

Needs torch, transformers, safetensors, and for `trl` TRL 1.16 with datasets and tokenizers (../shared/anchors/trl).
"""
import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from safetensors import safe_open
from transformers import GPT2Config, GPT2LMHeadModel

torch.set_num_threads(2)
SYMBOLS = ["<pad>", "<bos>", "<eos>", "<unk>", "="] + [str(d) for d in range(10)] + [chr(97 + i) for i in range(16)]
SYMBOLS.append("|")
VOCAB = {symbol: i for i, symbol in enumerate(SYMBOLS)}
PAD, BOS, EOS = 0, 1, 2


def load_policy(path: str, dtype=torch.float32) -> GPT2LMHeadModel:
    file = safe_open(path, "pt")
    c = json.loads(file.metadata()["config"])
    config = GPT2Config(vocab_size=c["vocabularySize"], n_positions=c["contextLength"], n_embd=c["modelWidth"],
                        n_layer=c["layers"], n_head=c["heads"], n_inner=c["mlpWidth"], activation_function="gelu_new",
                        layer_norm_epsilon=1e-5, resid_pdrop=0, embd_pdrop=0, attn_pdrop=0,
                        tie_word_embeddings=c["tiedEmbeddings"], bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
    get = file.get_tensor
    state = {"transformer.wte.weight": get("tok_emb.weight"), "transformer.wpe.weight": get("pos_emb.weight"),
             "transformer.ln_f.weight": get("ln_f.weight"), "transformer.ln_f.bias": get("ln_f.bias")}
    for i in range(c["layers"]):
        ours, theirs = f"blocks.{i}.", f"transformer.h.{i}."
        for a, b in [("ln1", "ln_1"), ("ln2", "ln_2")]:
            state[theirs + b + ".weight"] = get(ours + a + ".weight")
            state[theirs + b + ".bias"] = get(ours + a + ".bias")
        for a, b in [("attn.qkv", "attn.c_attn"), ("attn.proj", "attn.c_proj"), ("mlp.fc", "mlp.c_fc"),
                     ("mlp.proj", "mlp.c_proj")]:
            state[theirs + b + ".weight"] = get(ours + a + ".weight").T.contiguous()  # Conv1D is (in, out)
            state[theirs + b + ".bias"] = get(ours + a + ".bias")
    state["lm_head.weight"] = state["transformer.wte.weight"] if c["tiedEmbeddings"] else get("head.weight")
    model = GPT2LMHeadModel(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("attn.bias") for k in missing), (missing, unexpected)
    return model.to(dtype).eval()


def held_out_indices(count: int, fraction: float = 0.1, seed: int = 1) -> list[int]:
    """The pairs DPOTrainer holds out: the first round(count·fraction) of
    `SeededGenerator(seed).permutation(count)`."""
    mask = (1 << 64) - 1
    rotate = lambda x, k: ((x << k) | (x >> (64 - k))) & mask
    state, s = seed, []
    for _ in range(4):  # SplitMix64 expands the seed into xoshiro256**'s state
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        s.append(z ^ (z >> 31))

    def next_word():
        result, t = (rotate((s[1] * 5) & mask, 7) * 9) & mask, (s[1] << 17) & mask
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotate(s[3], 45)
        return result

    def below(n):  # Swift's RandomNumberGenerator.next(upperBound:) (Lemire)
        m = next_word() * n
        if (m & mask) < n:
            while (m & mask) < ((1 << 64) - n) % n:
                m = next_word() * n
        return m >> 64

    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order[:min(count - 1, round(count * fraction))]


@torch.no_grad()
def sequence_logps(model, rows, key):
    """Sum of the completion tokens' log-probs (EOS included), accumulated in float64, and the smallest token's."""
    sequences = [[BOS] + [VOCAB[x] for x in r["prompt"] + r[key]] + [EOS] for r in rows]
    width = max(map(len, sequences))
    ids = torch.tensor([q + [PAD] * (width - len(q)) for q in sequences])
    logits = model(ids, attention_mask=(ids != PAD).long()).logits  # right padding
    logps = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0].double()
    sums, smallest = [], []
    for b, r in enumerate(rows):
        tokens = logps[b, len(r["prompt"]):len(r["prompt"]) + len(r[key]) + 1]
        sums.append(tokens.sum().item()); smallest.append(tokens.min().item())
    return torch.tensor(sums, dtype=torch.float64), min(smallest)


def analyse(ref_path: str, policy, rows) -> dict:
    ref = load_policy(ref_path)
    ref_c, lowest_c = sequence_logps(ref, rows, "chosen")
    ref_r, lowest_r = sequence_logps(ref, rows, "rejected")
    ref64 = load_policy(ref_path, torch.float64)
    precision = max((sequence_logps(ref64, rows, k)[0] - x).abs().max().item() for k, x in [("chosen", ref_c),
                                                                                            ("rejected", ref_r)])
    chosen_ratio = sequence_logps(policy, rows, "chosen")[0] - ref_c
    rejected_ratio = sequence_logps(policy, rows, "rejected")[0] - ref_r
    margin = chosen_ratio - rejected_ratio
    exact = torch.tensor([r["chosen_score"] == 1 for r in rows])
    report = {"pairs": len(rows), "accuracy": (margin > 0).double().mean().item(), "ties": int((margin == 0).sum())}
    for name, kind in [("chosen_exact", exact), ("both_wrong", ~exact)]:
        report[name] = {"pairs": int(kind.sum()), "accuracy": (margin[kind] > 0).double().mean().item(),
                        "ref_logp_chosen": ref_c[kind].mean().item(), "ref_logp_rejected": ref_r[kind].mean().item(),
                        "logratio_chosen": chosen_ratio[kind].mean().item(),
                        "logratio_rejected": rejected_ratio[kind].mean().item()}
    report["lowest_token_logp_ref"] = min(lowest_c, lowest_r)
    report["f32_vs_f64_sequence_logp_max_abs"] = precision
    return report


def train_trl(a, rows, held):
    from datasets import Dataset
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast
    from trl import DPOConfig, DPOTrainer

    core = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")  # one token per character
    core.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", BOS)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<bos>", eos_token="<eos>",
                                        pad_token="<pad>", unk_token="<unk>")
    held_set = set(held)
    columns = lambda subset: Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in subset])
    config = DPOConfig(output_dir="/tmp/dpo_trl_output", loss_type=["sigmoid", "sft"] if a.rpo_alpha else ["sigmoid"],
                       loss_weights=[1.0, a.rpo_alpha] if a.rpo_alpha else None, beta=a.beta,
                       per_device_train_batch_size=a.batch_size, per_device_eval_batch_size=len(held),
                       max_steps=a.steps, learning_rate=a.learning_rate, max_grad_norm=1.0, weight_decay=0.0,
                       lr_scheduler_type="linear", eval_strategy="steps", eval_steps=a.eval_interval,
                       logging_steps=a.eval_interval, save_strategy="no", report_to="none", use_cpu=True, seed=a.seed,
                       bf16=False, gradient_checkpointing=False, disable_tqdm=True, dataloader_num_workers=0)
    trainer = DPOTrainer(model=load_policy(a.ref), ref_model=load_policy(a.ref), args=config,
                         processing_class=tokenizer,
                         train_dataset=columns([r for i, r in enumerate(rows) if i not in held_set]),
                         eval_dataset=columns([rows[i] for i in held]))
    trainer.train()
    for log in trainer.state.log_history:
        if "eval_rewards/accuracies" in log:
            print(json.dumps({"step": log["step"], "eval_rewards/accuracies": log["eval_rewards/accuracies"],
                              "eval_rewards/margins": log["eval_rewards/margins"]}))
        elif "rewards/accuracies" in log:
            print(json.dumps({"step": log["step"], "train rewards/accuracies": log["rewards/accuracies"]}))
    return trainer.model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["analyse", "trl"])
    parser.add_argument("--ref", required=True, help="the reference run's exported safetensors")
    parser.add_argument("--policy", help="analyse: the DPO run's exported safetensors")
    parser.add_argument("--pairs", required=True, help="`policylab data export NAME` JSONL")
    parser.add_argument("--seed", type=int, default=1, help="the DPO run's --seed (it draws the held-out split)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rpo-alpha", type=float, default=0.0)
    parser.add_argument("--eval-interval", type=int, default=100)
    a = parser.parse_args()
    rows = [json.loads(line) for line in open(a.pairs)]
    held = held_out_indices(len(rows), seed=a.seed)
    if a.command == "analyse":
        if not a.policy:
            parser.error("analyse needs --policy")
        policy = load_policy(a.policy)
    else:
        policy = train_trl(a, rows, held)
    print(json.dumps(analyse(a.ref, policy, [rows[i] for i in held]), indent=1))


if __name__ == "__main__":
    main()
