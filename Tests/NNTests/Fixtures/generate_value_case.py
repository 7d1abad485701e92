"""Adds the `value_loss` case to the tiny-GPT oracle of this folder (README.md).

The original cases give the value head a zero gradient: no objective reaches it. This case trains both
heads at once, as PPO does with a shared trunk, so every parameter's gradient is non-zero:

    loss = -sum_{b,j} m[b,j+1] * logp[b, j, ids[b,j+1]] / sum m            (policy: mean completion log-prob)
         + 0.5 * sum_{b,t} m[b,t] * (value[b,t] - returns[b,t])^2 / sum m  (value: masked squared error)

on the inputs of `seq_logprob` (m = its completion_mask), with returns[b,t] = k/64, k drawn uniformly
from -64..64 by torch.Generator().manual_seed(1) (exact in float32).

The model is written from README.md's definition. Before writing anything the script checks that it
reproduces the committed `forward` outputs and `backward` gradients from `weights.safetensors`
(float64, within 1e-10 of their max |x|), so the new case comes from the same model.

Run with PyTorch (2.15.0, CPU) and safetensors (0.8.0) from the repository root:
    python Tests/NNTests/Fixtures/generate_value_case.py
It writes value_case.json, value_grads_f64.safetensors and value_grads_f32.safetensors beside itself.
"""
import json
import math
import os

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = json.load(open(os.path.join(HERE, "cases.json")))
CONFIG = CASES["config"]
PARAMETERS = [p["name"] for p in CASES["parameters"]]
HEADS, HEAD_SIZE, EPSILON = CONFIG["n_head"], CONFIG["head_dim"], CONFIG["layer_norm_eps"]


def layer_norm(x, weight, bias):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased, as in README
    return (x - mu) / torch.sqrt(var + EPSILON) * weight + bias


def gelu(z):
    return 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))


def linear(x, p, name, bias=True):
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if bias else y


def forward(p, ids):
    """Logits (B, T, V) and values (B, T) of README.md's model."""
    batch, time = ids.shape
    width = CONFIG["d_model"]
    x = p["tok_emb.weight"][ids] + p["pos_emb.weight"][:time]
    causal = torch.ones(time, time, dtype=torch.bool).tril()
    for i in range(CONFIG["n_layer"]):
        b = f"blocks.{i}."
        qkv = linear(layer_norm(x, p[b + "ln1.weight"], p[b + "ln1.bias"]), p, b + "attn.qkv")
        q, k, v = qkv[..., :width], qkv[..., width:2 * width], qkv[..., 2 * width:]
        heads = []
        for n in range(HEADS):
            part = slice(n * HEAD_SIZE, (n + 1) * HEAD_SIZE)
            scores = q[..., part] @ k[..., part].transpose(-1, -2) / math.sqrt(HEAD_SIZE)
            scores = scores.masked_fill(~causal, float("-inf"))
            heads.append(torch.softmax(scores, -1) @ v[..., part])
        x = x + linear(torch.cat(heads, -1), p, b + "attn.proj")
        hidden = gelu(linear(layer_norm(x, p[b + "ln2.weight"], p[b + "ln2.bias"]), p, b + "mlp.fc"))
        x = x + linear(hidden, p, b + "mlp.proj")
    final = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    logits = final @ p["head.weight"].T
    values = final @ p["value_head.weight"][0] + p["value_head.bias"][0]
    return logits, values


def parameters(dtype):
    weights = load_file(os.path.join(HERE, "weights.safetensors"))
    return {name: weights[name].to(dtype).clone().requires_grad_(True) for name in PARAMETERS}


def check_against_committed_cases():
    """The model above reproduces the committed float64 forward outputs and backward gradients."""
    p = parameters(torch.float64)
    case = CASES["cases"]["forward"]
    ids = torch.tensor(case["inputs"]["input_ids"])
    logits, values = forward(p, ids)
    for field, got in [("logits", logits), ("values", values)]:
        want = torch.tensor(case["outputs"][field], dtype=torch.float64)
        error = (got - want).abs().max().item() / case["max_abs"][field]
        assert error < 1e-10, f"forward {field} differs from cases.json by {error} of max |x|"
    targets = torch.tensor(CASES["cases"]["backward"]["inputs"]["targets"])
    loss = -torch.log_softmax(logits, -1).gather(-1, targets[..., None]).mean()
    loss.backward()
    committed = load_file(os.path.join(HERE, "grads_f64.safetensors"))
    for name in PARAMETERS:
        gradient = p[name].grad if p[name].grad is not None else torch.zeros_like(p[name])  # the value head's
        error = (gradient - committed["backward/" + name]).abs().max().item()
        scale = max(committed["backward/" + name].abs().max().item(), 1e-300)
        assert error <= 1e-10 * scale or error == 0, f"backward gradient of {name} differs by {error}"


def value_case(dtype, ids, mask, returns):
    p = parameters(dtype)
    logits, values = forward(p, ids)
    logp = torch.log_softmax(logits, -1)
    token_logprobs = logp[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]      # (B, T-1)
    count = mask.sum()
    policy_loss = -(mask[:, 1:] * token_logprobs).sum() / count
    value_loss = 0.5 * (mask * (values - returns) ** 2).sum() / count
    loss = policy_loss + value_loss
    loss.backward()
    outputs = {"values": values, "token_logprobs": token_logprobs, "policy_loss": policy_loss,
               "value_loss": value_loss, "loss": loss}
    return outputs, {name: p[name].grad for name in PARAMETERS}


def rounded(tensor, digits=12):
    """float64 values rounded to 12 significant digits, as cases.json's outputs."""
    return json.loads(json.dumps(tensor.tolist(), default=float),
                      parse_float=lambda s: float(f"{float(s):.{digits}g}")) if tensor.dim() else \
        float(f"{tensor.item():.{digits}g}")


def shortest_float32(tensor):
    """Each float32 value as the shortest decimal that round-trips through float32."""
    def one(x):
        for digits in range(1, 18):
            text = f"{x:.{digits}g}"
            if torch.tensor(float(text), dtype=torch.float32).item() == x:
                return float(text)
        return x
    values = [one(x) for x in tensor.flatten().tolist()]
    return torch.tensor(values, dtype=torch.float64).reshape(tensor.shape).tolist() if tensor.dim() else values[0]


def main():
    torch.set_grad_enabled(True)
    check_against_committed_cases()
    base = CASES["cases"]["seq_logprob"]["inputs"]
    ids = torch.tensor(base["input_ids"])
    generator = torch.Generator().manual_seed(1)
    steps = torch.randint(-64, 65, tuple(ids.shape), generator=generator)
    returns64 = steps.to(torch.float64) / 64
    mask64 = torch.tensor(base["completion_mask"], dtype=torch.float64)
    out64, grads64 = value_case(torch.float64, ids, mask64, returns64)
    out32, grads32 = value_case(torch.float32, ids, mask64.float(), returns64.float())
    for name in PARAMETERS:
        assert grads64[name].abs().max().item() > 0, f"{name} has a zero gradient"
    per_parameter = {name: grads64[name].abs().max().item() for name in PARAMETERS}
    case = {
        "inputs": {"input_ids": base["input_ids"], "completion_mask": base["completion_mask"],
                   "returns": returns64.tolist()},
        "outputs": {k: rounded(v.detach()) for k, v in out64.items()},
        "outputs_f32": {k: shortest_float32(v.detach()) for k, v in out32.items()},
        "max_abs": {**{k: v.detach().abs().max().item() for k, v in out64.items()},
                    "grads": max(per_parameter.values()), "grads_per_parameter": per_parameter},
        "f32_vs_f64_max_abs_diff": {
            **{k: (out32[k].detach().double() - out64[k].detach()).abs().max().item() for k in out64},
            "grads_per_parameter": {n: (grads32[n].double() - grads64[n]).abs().max().item() for n in PARAMETERS}},
    }
    document = {
        "format": "value_case/1",
        "made_with": f"generate_value_case.py, torch {torch.__version__}",
        "cases": {"value_loss": case},
    }
    with open(os.path.join(HERE, "value_case.json"), "w") as file:
        json.dump(document, file, separators=(",", ":"))
        file.write("\n")
    save_file({f"value_loss/{n}": grads64[n].contiguous() for n in PARAMETERS},
              os.path.join(HERE, "value_grads_f64.safetensors"))
    save_file({f"value_loss/{n}": grads32[n].contiguous() for n in PARAMETERS},
              os.path.join(HERE, "value_grads_f32.safetensors"))
    print("value_loss:", {k: round(v.item(), 6) for k, v in out64.items() if v.dim() == 0},
          "| smallest per-parameter max |grad|:", min(per_parameter.values()))


if __name__ == "__main__":
    main()
