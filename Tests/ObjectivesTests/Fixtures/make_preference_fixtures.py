"""Makes preference_losses.json: TRL 1.16's own outputs for the preference losses beyond plain DPO.

Run with a Python venv that has TRL 1.16 and torch (set up as ../shared/anchors/trl does):

    /work/anchor-env/venv/bin/python Tests/ObjectivesTests/Fixtures/make_preference_fixtures.py

Every output number comes from TRL's code, called on fixed inputs in float64; nothing is re-implemented:

* DPO family (`loss_type` lists with `loss_weights`, `sigmoid_norm`, `sft`): `trl.DPOTrainer._compute_loss`
  on the precomputed-reference path. The trainer is built without `__init__` (only the attributes
  `_compute_loss` reads); the model is a stub whose fused-LM-head output holds the fixture's per-token
  log-probs (0 outside the completion), so TRL's own sums, masks and losses run.
* KTO: `trl.KTOTrainer._compute_loss`, the same way (a stub model that returns the mismatched-pair (KL)
  log-probs on its first call and the completions' on its second, as `_compute_loss` calls it).
* CPO / SimPO: `trl.experimental.cpo.CPOTrainer.get_batch_loss_metrics`, ORPO:
  `trl.experimental.orpo.ORPOTrainer.get_batch_loss_metrics`. These run a model's logits through TRL's
  `concatenated_inputs`, `get_batch_logps` and cross-entropy, so the stub model returns logits over a
  2-token vocabulary built so that the label token (id 0) has exactly the fixture's log-prob:
  logits = [0, log(expm1(−l))] gives log_softmax[0] = l. `logits/chosen` and `logits/rejected` are means
  of those stub logits and mean nothing: they are left out.
"""

import json
import math
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import trl
from trl import DPOTrainer, KTOTrainer
from trl.experimental.cpo import CPOTrainer
from trl.experimental.orpo import ORPOTrainer

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(21)


def token_logps(count):
    return [float(v) for v in rng.uniform(-3.0, -0.05, size=count)]


class Accelerator:
    device = torch.device("cpu")

    def gather(self, x):
        return x

    def gather_for_metrics(self, x):
        return x


def trainer_without_init(cls, **attributes):
    trainer = object.__new__(cls)
    trainer.__dict__.update(
        model=SimpleNamespace(training=True), accelerator=Accelerator(), aux_loss_enabled=False,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)}, _total_train_tokens=0, _tp_size=1,
        args=SimpleNamespace(gradient_checkpointing_kwargs=None), **attributes)
    return trainer


def metrics_of(trainer):
    return {k: float(v[-1]) for k, v in trainer._metrics["train"].items()
            if k not in ("entropy", "num_tokens", "logits/chosen", "logits/rejected", "mean_token_accuracy")}


def padded(rows, width):
    """(rows, width) tensor of per-token log-probs, each row's values at the end of its completion window."""
    out = torch.zeros(len(rows), width)
    for r, values in enumerate(rows):
        out[r, width - len(values):] = torch.tensor(values)
    return out


# ---------------------------------------------------------------- DPO family
def dpo_case(name, batch, loss_types, loss_weights, beta, label_smoothing=0.0):
    prompt_length = 3
    chosen = [token_logps(int(rng.integers(1, 6))) for _ in range(batch)]
    rejected = [token_logps(int(rng.integers(1, 6))) for _ in range(batch)]
    ref_chosen = [float(v) for v in rng.uniform(-8, -1, size=batch)]
    ref_rejected = [float(v) for v in rng.uniform(-8, -1, size=batch)]
    rows = chosen + rejected
    completion = max(len(r) for r in rows)
    width = prompt_length + completion  # T
    completion_mask = torch.zeros(2 * batch, width, dtype=torch.long)
    for r, values in enumerate(rows):
        completion_mask[r, width - len(values):] = 1
    log_probs = padded(rows, width - 1)  # (2B, T-1): position j predicts token j+1

    def model(**kwargs):
        zeros = torch.zeros(2 * batch, width - 1)
        return SimpleNamespace(log_probs=log_probs, entropy=zeros, mean_logits=zeros,
                               is_top1=torch.zeros(2 * batch, width - 1, dtype=torch.bool))

    trainer = trainer_without_init(
        DPOTrainer, ld_alpha=None, precompute_ref_logps=True, f_divergence_type="reverse_kl",
        loss_types=loss_types, loss_weights=loss_weights or [1.0] * len(loss_types), beta=beta,
        label_smoothing=label_smoothing, use_weighting=False)
    inputs = {
        "input_ids": torch.zeros(2 * batch, width, dtype=torch.long),
        "attention_mask": torch.ones(2 * batch, width, dtype=torch.long),
        "completion_mask": completion_mask,
        "ref_chosen_logps": torch.tensor(ref_chosen), "ref_rejected_logps": torch.tensor(ref_rejected),
    }
    loss = DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    sums = log_probs.sum(dim=1)
    return {
        "name": name, "kind": "dpo",
        "params": {"loss_type": loss_types, "loss_weights": loss_weights, "beta": beta,
                   "label_smoothing": label_smoothing},
        "inputs": {"chosen_token_logps": chosen, "rejected_token_logps": rejected,
                   "policy_chosen_logps": sums[:batch].tolist(), "policy_rejected_logps": sums[batch:].tolist(),
                   "reference_chosen_logps": ref_chosen, "reference_rejected_logps": ref_rejected},
        "outputs": {"loss": float(loss), "metrics": metrics_of(trainer)},
    }


# ---------------------------------------------------------------- KTO
def kto_case(name, labels, beta, desirable_weight=1.0, undesirable_weight=1.0, loss_type="kto", kl_shift=0.0):
    batch = len(labels)
    logps = [float(v) for v in rng.uniform(-9, -1, size=batch)]
    ref_logps = [float(v) for v in rng.uniform(-9, -1, size=batch)]
    ref_kl_logps = [float(v) for v in rng.uniform(-12, -4, size=batch)]
    # kl_shift moves the policy's mismatched log-probs below the reference's, so TRL's clamp(min=0) acts.
    kl_logps = [r + float(d) + kl_shift for r, d in zip(ref_kl_logps, rng.normal(0.3, 0.5, size=batch))]
    calculate_kl = loss_type != "apo_zero_unpaired"
    # _compute_loss runs the model on the mismatched pairs first (only when it estimates the KL), then on the rows.
    calls = iter(([torch.tensor(kl_logps).unsqueeze(1)] if calculate_kl else []) + [torch.tensor(logps).unsqueeze(1)])

    def model(**kwargs):
        log_probs = next(calls)  # (B, 1): each sequence's whole log-prob on its one completion position
        zeros = torch.zeros(batch, 1)
        return SimpleNamespace(log_probs=log_probs, entropy=zeros, mean_logits=zeros)

    trainer = trainer_without_init(
        KTOTrainer, calculate_KL=calculate_kl, precompute_ref_logps=True, loss_type=loss_type, beta=beta,
        desirable_weight=desirable_weight, undesirable_weight=undesirable_weight)
    two = torch.zeros(batch, 2, dtype=torch.long)
    mask = torch.tensor([[0, 1]] * batch)
    inputs = {
        "input_ids": two, "attention_mask": torch.ones(batch, 2, dtype=torch.long), "completion_mask": mask,
        "label": torch.tensor(labels), "ref_logps": torch.tensor(ref_logps),
    }
    if calculate_kl:
        inputs.update({"KL_input_ids": two, "KL_attention_mask": torch.ones(batch, 2, dtype=torch.long),
                       "KL_completion_mask": mask, "ref_KL_logps": torch.tensor(ref_kl_logps)})
    loss = KTOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    case_inputs = {"labels": labels, "policy_logps": logps, "reference_logps": ref_logps}
    if calculate_kl:
        case_inputs.update({"policy_kl_logps": kl_logps, "reference_kl_logps": ref_kl_logps})
    return {
        "name": name, "kind": "kto",
        "params": {"loss_type": loss_type, "beta": beta, "desirable_weight": desirable_weight,
                   "undesirable_weight": undesirable_weight},
        "inputs": case_inputs,
        "outputs": {"loss": float(loss), "metrics": metrics_of(trainer)},
    }


# ---------------------------------------------------------------- CPO / SimPO and ORPO (logits stub)
def reference_free_batch(batch, prompt_length):
    """Rows of prompt + completion token log-probs, chosen then rejected, padded to one length."""
    chosen = [token_logps(int(rng.integers(1, 6))) for _ in range(batch)]
    rejected = [token_logps(int(rng.integers(1, 6))) for _ in range(batch)]
    chosen_prompt = [token_logps(prompt_length - 1) for _ in range(batch)]  # the tokens after the first
    rejected_prompt = [list(p) for p in chosen_prompt]  # the same prompt for both answers
    return chosen, rejected, chosen_prompt, rejected_prompt


def stub_logits_and_batch(chosen, rejected, chosen_prompt, rejected_prompt, prompt_length):
    batch = len(chosen)
    length = prompt_length + max(len(r) for r in chosen + rejected)
    tensors = {}
    all_logits = []
    for side, completions, prompts in (("chosen", chosen, chosen_prompt), ("rejected", rejected, rejected_prompt)):
        labels = torch.full((batch, length), -100, dtype=torch.long)
        attention = torch.zeros(batch, length, dtype=torch.long)
        logits = torch.zeros(batch, length, 2)
        for r in range(batch):
            tokens = prompts[r] + completions[r]  # log-probs of tokens 1 … n-1
            n = prompt_length + len(completions[r])
            attention[r, :n] = 1
            labels[r, prompt_length:n] = 0
            for t, l in enumerate(tokens):  # logits at position t predict token t+1
                logits[r, t, 1] = math.log(math.expm1(-l))
        tensors[f"{side}_input_ids"] = torch.zeros(batch, length, dtype=torch.long)
        tensors[f"{side}_attention_mask"] = attention
        tensors[f"{side}_labels"] = labels
        all_logits.append(logits)
    logits = torch.cat(all_logits, dim=0)

    def model(input_ids, attention_mask=None, use_cache=False, **kwargs):
        return SimpleNamespace(logits=logits)

    return tensors, model


def without_logits(metrics):
    return {k: float(v) for k, v in metrics.items() if k not in ("logits/chosen", "logits/rejected")}


def cpo_case(name, batch, loss_type, beta, cpo_alpha, simpo_gamma=0.5, label_smoothing=0.0):
    prompt_length = 3
    chosen, rejected, chosen_prompt, rejected_prompt = reference_free_batch(batch, prompt_length)
    tensors, model = stub_logits_and_batch(chosen, rejected, chosen_prompt, rejected_prompt, prompt_length)
    trainer = trainer_without_init(
        CPOTrainer, is_encoder_decoder=False, pad_token_id=0, padding_value=0, label_pad_token_id=-100,
        loss_type=loss_type, beta=beta, cpo_alpha=cpo_alpha, simpo_gamma=simpo_gamma,
        label_smoothing=label_smoothing, alpha=0.0)
    loss, metrics = CPOTrainer.get_batch_loss_metrics(trainer, model, tensors)
    return {
        "name": name, "kind": "cpo",
        "params": {"loss_type": loss_type, "beta": beta, "cpo_alpha": cpo_alpha, "simpo_gamma": simpo_gamma,
                   "label_smoothing": label_smoothing},
        "inputs": {"chosen_token_logps": chosen, "rejected_token_logps": rejected},
        "outputs": {"loss": float(loss), "metrics": without_logits(metrics)},
    }


def orpo_case(name, batch, beta):
    prompt_length = 4
    chosen, rejected, chosen_prompt, rejected_prompt = reference_free_batch(batch, prompt_length)
    tensors, model = stub_logits_and_batch(chosen, rejected, chosen_prompt, rejected_prompt, prompt_length)
    trainer = trainer_without_init(
        ORPOTrainer, is_encoder_decoder=False, padding_value=0, label_pad_token_id=-100, beta=beta)
    loss, metrics = ORPOTrainer.get_batch_loss_metrics(trainer, model, tensors)
    return {
        "name": name, "kind": "orpo",
        "params": {"beta": beta},
        "inputs": {"chosen_token_logps": chosen, "rejected_token_logps": rejected,
                   "chosen_prompt_token_logps": chosen_prompt},
        "outputs": {"loss": float(loss), "metrics": without_logits(metrics)},
        "note": "TRL's odds_ratio_loss casts the log-probs to float32; its NLL covers prompt and completion",
    }


cases = [
    dpo_case("sigmoid_norm", 6, ["sigmoid_norm"], None, 0.1),
    dpo_case("sigmoid_norm_beta_2", 5, ["sigmoid_norm"], None, 2.0),
    dpo_case("rpo_sigmoid_sft", 6, ["sigmoid", "sft"], [1.0, 0.5], 0.1),
    dpo_case("sigmoid_norm_plus_ipo", 4, ["sigmoid_norm", "ipo"], [0.7, 0.3], 0.5),
    dpo_case("hinge_sft_default_weights", 5, ["hinge", "sft"], None, 0.2),
    dpo_case("robust_sigmoid_mixture", 4, ["robust", "sigmoid"], [0.25, 1.5], 0.3, label_smoothing=0.2),
    kto_case("kto_balanced", [True, False, True, False, True, False], 0.1),
    kto_case("kto_weighted", [True, True, False, True, False], 0.5, desirable_weight=1.33,
             undesirable_weight=0.8),
    kto_case("kto_all_desirable", [True, True, True, True], 0.1),
    kto_case("kto_all_undesirable", [False, False, False], 0.3),
    kto_case("kto_kl_clamped", [True, False, False, True], 0.2, kl_shift=-3.0),
    kto_case("apo_zero_unpaired", [True, False, True, True, False], 0.1, loss_type="apo_zero_unpaired"),
    cpo_case("cpo_sigmoid", 5, "sigmoid", 0.1, 1.0),
    cpo_case("cpo_sigmoid_label_smoothing", 5, "sigmoid", 0.2, 1.0, label_smoothing=0.1),
    cpo_case("simpo", 6, "simpo", 2.0, 0.0, simpo_gamma=0.5),
    cpo_case("cpo_simpo", 4, "simpo", 2.5, 1.0, simpo_gamma=1.2),
    cpo_case("cpo_hinge", 5, "hinge", 0.5, 0.5),
    cpo_case("cpo_ipo", 5, "ipo", 0.1, 0.0),
    orpo_case("orpo", 5, 0.1),
    orpo_case("orpo_beta_1", 6, 1.0),
]

output = {
    "source": "trl " + trl.__version__ + ": DPOTrainer._compute_loss, KTOTrainer._compute_loss, "
              "experimental.cpo.CPOTrainer.get_batch_loss_metrics, "
              "experimental.orpo.ORPOTrainer.get_batch_loss_metrics",
    "trl_version": trl.__version__, "torch_version": torch.__version__,
    "description": "made by make_preference_fixtures.py (beside this file); float64 unless a case's note says",
    "cases": cases,
}
path = Path(__file__).with_name("preference_losses.json")
path.write_text(json.dumps(output, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {path}")
