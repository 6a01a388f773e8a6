"""Models derived from the tiny Llama family in a known way, for the edge relations of issue 16
(finetune, lora, quantized, converted, pruned, merge, independent) and for PEFT adapter folders.

Run with Debian's Python after scripts/make_lm_fixtures.py (whose outputs these derive from):
    /usr/bin/python3 scripts/make_relation_fixtures.py      (torch 1.13 + numpy; no transformers, no peft)

Every model is made from the exact float32 values stored in fixtures/lm/ (read back here from the
safetensors files), not retrained, so the relation of each new file to its parents is known exactly.
The model code, training loop and safetensors writer are those of make_lm_fixtures.py (imported).
All arithmetic is float64; the results are stored as float32 unless said.

Outputs fixtures/relations/ (Hugging Face folders: config.json from llama-p1 with torch_dtype set, and
no _name_or_path / base_model: declared lineage is another issue's, so nothing here states a parent):
  lora-merged/    P1 fine-tuned with LoRA as PEFT does it (r = 4, lora_alpha = 8, so scaling alpha/r = 2;
                  q_proj and v_proj of every layer; A kaiming-uniform(a = sqrt 5), B zeros, no dropout),
                  200 Adam steps (lr 3e-3) on the bytes of /usr/share/common-licenses/Apache-2.0 with the
                  base frozen, then merged: W' = W + 2 * B @ A. Every other tensor is byte-identical to P1
                  (checked). The loss on the fine-tuning text must drop, and the merged model's loss must
                  equal the adapted model's (checked).
  lora-adapter/   the same adapter as a PEFT folder: adapter_config.json + adapter_model.safetensors with
                  base_model.model.model.layers.{N}.self_attn.{q,v}_proj.lora_{A,B}.weight, A [r, in], B [out, r].
  fp16/           P1 in float16 (F16 in safetensors, round to nearest even, as torch's .half()).
  pruned/         P1 with 50% unstructured magnitude pruning of every 2-d weight, embed_tokens and lm_head
                  included: per matrix, the half with the smallest |w| (stable order on ties) set to +0.0;
                  the kept half and the 1-d norms are bit-identical to P1 (checked).
  merge-avg/      0.3 * C1 + 0.7 * C3 (C1, C3: children of P1).
  merge-ta/       task arithmetic over P1: P1 + 0.6 (C1 - P1) + 0.9 (C3 - P1) = -0.5 P1 + 0.6 C1 + 0.9 C3.
  merge-ties/     TIES over P1, on every tensor (norms too): tau_k = C_k - P1; trim keeps the
                  int(0.2 * size) entries of largest |tau_k| per tensor (stable order on ties) and zeroes
                  the rest; elected sign = sign of the sum of the trimmed taus; disjoint mean of the trimmed
                  values whose sign agrees (0 where none does); result P1 + 1.0 * merged.
  merge-blocks/   a merge whose weights differ by block: model.layers.0.* = 0.2 C1 + 0.8 C3,
                  model.layers.1.* = 0.7 C1 + 0.3 C3, every other tensor 0.5 C1 + 0.5 C3.
  manifest.json   {"script", "fine_tune_text", "models": {path: entry}}, paths relative to fixtures/.
                  Each entry: "relation", "parents": [{"model", "coefficient"}] (coefficient 1 for a single
                  parent, the linear weight for linear merges, null where no single weight describes it:
                  TIES, block merges), "made_by" (the script that wrote that model), and where relevant:
                    lora: rank, lora_alpha, scaling, target_modules, changed_tensors, and per changed tensor
                      the top 8 singular values of the stored delta (float64(file) - float64(P1): r large ones,
                      then float32 rounding noise near 1e-8) and the r singular values of the exact adapter
                      delta scaling * B @ A (float64), loss_before / loss_after on the fine-tuning text;
                    pruned: zero_share (zeros among all 2-d weights, counted in the file), zeros_per_tensor;
                    merges: base, coefficients, linear_combination (for task arithmetic: over P1, C1, C3),
                      blocks (merge-blocks: tensor-name prefix -> coefficients), density/lambda (TIES), and
                      fit: the float64 least-squares coefficients of the stored model over [P1, C1, C3]
                      with the relative residual (for linear merges they restate the coefficients);
                    every model made here: parameters, norm (float64, of the stored values) and
                      relative_l2 to each parent (sqrt sum ||m - p||^2 / sqrt sum ||p||^2).
                  The models of fixtures/lm are listed too with their known relations ("made_by":
                  make_lm_fixtures.py): fine-tunes, bf16 / sharded / GGUF F16 conversions, Q8_0 / Q4_0
                  quantisations, and P2 (parents []) independent of P1.

Deterministic: fixed seeds, one thread. The whole folder stays under 1.5 MB (checked).
"""
import importlib.util
import json
import math
import os
import shutil
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
OUT = os.path.join(FIXTURES, "relations")
LM = os.path.join(FIXTURES, "lm")
FINE_TUNE_TEXT = "/usr/share/common-licenses/Apache-2.0"
SCRIPT = "scripts/make_relation_fixtures.py"
LM_SCRIPT = "scripts/make_lm_fixtures.py"

LORA_RANK, LORA_ALPHA, LORA_TARGETS = 4, 8, ["q_proj", "v_proj"]
LORA_SEED, LORA_STEPS, LORA_LR = 41, 200, 3e-3
PRUNE_SHARE = 0.5
TIES_DENSITY, TIES_LAMBDA = 0.2, 1.0
AVG = {"c1": 0.3, "c3": 0.7}
TA = {"c1": 0.6, "c3": 0.9}
BLOCKS = {"model.layers.0": {"c1": 0.2, "c3": 0.8}, "model.layers.1": {"c1": 0.7, "c3": 0.3}}
BLOCK_REST = {"c1": 0.5, "c3": 0.5}
MAX_BYTES = 1_500_000

torch.set_num_threads(1)


def load_lm_module():
    """make_lm_fixtures.py as a module: its model classes, training loop and safetensors writer."""
    path = os.path.join(HERE, "make_lm_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_lm_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


L = load_lm_module()

# ---------------------------------------------------------------------------------------------
# Safetensors, read by hand


SAFETENSORS_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}


def read_safetensors(path):
    """-> {name: (dtype name, numpy array, raw bytes)} in file order. u64 LE header length, JSON header, data."""
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + length].decode("utf-8"))
    header.pop("__metadata__", None)
    base = 8 + length
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        start, end = info["data_offsets"]
        raw = blob[base + start : base + end]
        values = np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = (info["dtype"], values, raw)
    return out


def read_f32_model(name):
    tensors = read_safetensors(os.path.join(LM, name, "model.safetensors"))
    assert all(dtype == "F32" for dtype, _, _ in tensors.values()), f"{name} is not float32"
    return {k: v.astype(np.float32) for k, (_, v, _) in tensors.items()}


def f64(weights):
    return {k: v.astype(np.float64) for k, v in weights.items()}


def to_f32(weights):
    return {k: v.astype(np.float32) for k, v in weights.items()}


# ---------------------------------------------------------------------------------------------
# Writing


def base_config():
    with open(os.path.join(LM, "llama-p1", "config.json")) as f:
        return json.load(f)


def write_folder(name, config):
    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return folder


def write_f32(name, weights):
    folder = write_folder(name, dict(base_config(), torch_dtype="float32"))
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(L.safetensors_bytes(L.f32_entries(weights)))


def write_f16(name, weights):
    """Returns the float16 values stored."""
    folder = write_folder(name, dict(base_config(), torch_dtype="float16"))
    halves = {k: v.astype(np.float16) for k, v in weights.items()}
    for k, v in weights.items():  # numpy's and torch's float32 -> float16 rounding agree
        assert np.array_equal(halves[k].view(np.uint16), torch.from_numpy(v).half().numpy().view(np.uint16)), k
    entries = [(k, "F16", v.shape, v.astype("<f2").tobytes()) for k, v in halves.items()]
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(L.safetensors_bytes(entries))
    return halves


# ---------------------------------------------------------------------------------------------
# LoRA, as PEFT's LoraLayer for nn.Linear (no dropout, fan_in_fan_out false)


class LoraLinear(torch.nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.lora_A = torch.nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scaling


def lora_target_names():
    return [f"model.layers.{n}.self_attn.{m}.weight" for n in range(L.LLAMA["num_hidden_layers"]) for m in LORA_TARGETS]


def train_lora(p1):
    """-> ({HF weight name: (A, B)} float32, loss before, loss after) for the adapter trained on P1."""
    data = L.read_bytes(FINE_TUNE_TEXT)
    torch.manual_seed(LORA_SEED)
    model = L.LlamaForCausalLM(L.LLAMA)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in p1.items()})
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = {}
    for n, layer in enumerate(model.model.layers):
        for m in LORA_TARGETS:
            lora = LoraLinear(getattr(layer.self_attn, m), LORA_RANK, LORA_ALPHA)
            setattr(layer.self_attn, m, lora)
            adapters[f"model.layers.{n}.self_attn.{m}.weight"] = lora
    before = L.held_out_loss(model, data)
    opt = torch.optim.Adam([p for a in adapters.values() for p in (a.lora_A, a.lora_B)], lr=LORA_LR)
    for _, (x, y) in zip(range(LORA_STEPS), L.batches(data, LORA_SEED)):
        opt.zero_grad()
        L.loss_of(model, x, y).backward()
        opt.step()
    after = L.held_out_loss(model, data)
    weights = {k: (a.lora_A.detach().numpy().copy(), a.lora_B.detach().numpy().copy()) for k, a in adapters.items()}
    return weights, before, after


def loss_with(weights):
    model = L.LlamaForCausalLM(L.LLAMA)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32).copy()) for k, v in weights.items()})
    return L.held_out_loss(model, L.read_bytes(FINE_TUNE_TEXT))


def lora_delta(a, b):
    return (LORA_ALPHA / LORA_RANK) * (b.astype(np.float64) @ a.astype(np.float64))


def write_adapter(name, adapters):
    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    config = {
        "peft_type": "LORA",
        "r": LORA_RANK,
        "lora_alpha": LORA_ALPHA,
        "target_modules": LORA_TARGETS,
        "fan_in_fan_out": False,
        "bias": "none",
        "base_model_name_or_path": "llama-p1",
        "task_type": "CAUSAL_LM",
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    entries = []
    for hf_name, (a, b) in adapters.items():
        stem = "base_model.model." + hf_name.removesuffix(".weight")
        entries.append((f"{stem}.lora_A.weight", "F32", a.shape, a.astype("<f4").tobytes()))
        entries.append((f"{stem}.lora_B.weight", "F32", b.shape, b.astype("<f4").tobytes()))
    with open(os.path.join(folder, "adapter_model.safetensors"), "wb") as f:
        f.write(L.safetensors_bytes(entries))
    return [e[0] for e in entries]


def top_singular_values(m, k=8):
    return [float(s) for s in np.linalg.svd(m, compute_uv=False)[:k]]


# ---------------------------------------------------------------------------------------------
# Pruning and merges (float64)


def prune(weights, share):
    """Per 2-d matrix, the floor(share * size) entries of smallest |w| set to +0.0; 1-d tensors untouched."""
    out = {}
    for k, v in weights.items():
        if v.ndim != 2:
            out[k] = v.copy()
            continue
        flat = v.reshape(-1).copy()
        drop = np.argsort(np.abs(flat), kind="stable")[: int(share * flat.size)]
        flat[drop] = 0.0
        out[k] = flat.reshape(v.shape)
    return out


def linear(models, coefficients):
    """sum_k c_k * models[k], per tensor, float64."""
    names = next(iter(models.values())).keys()
    return {n: sum(c * models[m][n] for m, c in coefficients.items()) for n in names}


def task_arithmetic(base, models, coefficients):
    return {n: base[n] + sum(c * (models[m][n] - base[n]) for m, c in coefficients.items()) for n in base}


def trim(tau, density):
    flat = tau.reshape(-1)
    keep = np.argsort(-np.abs(flat), kind="stable")[: int(density * flat.size)]
    out = np.zeros_like(flat)
    out[keep] = flat[keep]
    return out.reshape(tau.shape)


def ties(base, models, density, lam):
    out = {}
    for n in base:
        taus = np.stack([trim(m[n] - base[n], density) for m in models])
        elected = np.sign(taus.sum(axis=0))
        agree = (np.sign(taus) == elected) & (taus != 0)
        count = agree.sum(axis=0)
        merged = np.where(count > 0, (taus * agree).sum(axis=0) / np.maximum(count, 1), 0.0)
        out[n] = base[n] + lam * merged
    return out


def block_of(name):
    for prefix in BLOCKS:
        if name.startswith(prefix + "."):
            return prefix
    return None


def block_merge(models):
    out = {}
    for n in models["c1"]:
        c = BLOCKS.get(block_of(n), BLOCK_REST)
        out[n] = c["c1"] * models["c1"][n] + c["c3"] * models["c3"][n]
    return out


# ---------------------------------------------------------------------------------------------
# Expected numbers (float64)


def flat(weights, names=None):
    return np.concatenate([weights[n].astype(np.float64).reshape(-1) for n in (names or weights)])


def norm(weights):
    return float(np.linalg.norm(flat(weights)))


def relative_l2(model, parent):
    assert model.keys() == parent.keys()
    return float(np.linalg.norm(flat(model) - flat(parent, model.keys())) / norm(parent))


def fit(model, bases, names=None):
    """Least squares model ~ sum_k x_k bases[k] over the named tensors -> ({key: x_k}, relative residual)."""
    names = list(names or model.keys())
    a = np.stack([flat(b, names) for b in bases.values()], axis=1)
    y = flat(model, names)
    x, *_ = np.linalg.lstsq(a, y, rcond=None)
    residual = float(np.linalg.norm(a @ x - y) / np.linalg.norm(y))
    return {k: float(v) for k, v in zip(bases, x)}, residual


def described(weights, parents):
    """parameters, norm and relative_l2 to each parent {path: weights}."""
    return {
        "parameters": int(sum(v.size for v in weights.values())),
        "norm": norm(weights),
        "relative_l2": {p: relative_l2(weights, w) for p, w in parents.items()},
    }


# ---------------------------------------------------------------------------------------------
# The known relations of fixtures/lm


def lm_relations():
    def entry(relation, parent, **extra):
        return {"relation": relation, "parents": [{"model": parent, "coefficient": 1.0}], "made_by": LM_SCRIPT, **extra}

    out = {}
    finetunes = {"c1": "p1", "c2": "p2", "c3": "p1", "c4": "p2", "d1": "c1"}
    for child, parent in finetunes.items():
        out[f"lm/llama-{child}"] = entry("finetune", f"lm/llama-{parent}")
    out["lm/gpt2-gc1"] = entry("finetune", "lm/gpt2-g1")
    out["lm/llama-c1-bf16"] = entry("converted", "lm/llama-c1", dtype="bfloat16")
    out["lm/llama-p1-sharded"] = entry("converted", "lm/llama-p1", dtype="float32", format="sharded safetensors")
    for name in ("p1", "p2", "c1"):
        out[f"lm/llama-{name}.f16.gguf"] = entry("converted", f"lm/llama-{name}", dtype="F16", format="gguf")
        for q in ("q8_0", "q4_0"):
            out[f"lm/llama-{name}.{q}.gguf"] = entry("quantized", f"lm/llama-{name}", quantization=q.upper(), format="gguf")
    independent = {"lm/llama-p2": "lm/llama-p1", "lm/gpt2-g2": "lm/gpt2-g1"}
    for model, other in independent.items():
        out[model] = {"relation": "independent", "parents": [], "independent_of": [other], "made_by": LM_SCRIPT}
    for path in out:
        assert os.path.exists(os.path.join(FIXTURES, path)), f"{path} is missing: run {LM_SCRIPT} first"
    return out


# ---------------------------------------------------------------------------------------------


def make_lora(p1, models):
    adapters, before, after = train_lora(p1)
    print(f"lora: loss on fine-tuning text {before:.3f} -> {after:.3f}")
    assert after < before - 0.1, "the LoRA adapter did not learn its fine-tuning text"
    merged = dict(f64(p1))
    for n, (a, b) in adapters.items():
        merged[n] = merged[n] + lora_delta(a, b)
    merged = to_f32(merged)
    write_f32("lora-merged", merged)
    merged_loss = loss_with(merged)
    print(f"lora-merged: loss {merged_loss:.6f} (adapted model {after:.6f})")
    assert abs(merged_loss - after) < 1e-4, "merging W + (alpha/r) B A does not reproduce the adapted model"
    names = write_adapter("lora-adapter", adapters)

    stored = read_safetensors(os.path.join(OUT, "lora-merged", "model.safetensors"))
    parent = read_safetensors(os.path.join(LM, "llama-p1", "model.safetensors"))
    assert list(stored) == list(parent), "lora-merged must list P1's tensors in P1's order"
    for n in parent:
        same = stored[n][2] == parent[n][2]
        assert same == (n not in adapters), f"{n}: {'unchanged' if same else 'changed'}, expected the opposite"
    print(f"lora-merged: {len(parent) - len(adapters)} tensors byte-identical to P1, {len(adapters)} changed")
    back = read_safetensors(os.path.join(OUT, "lora-adapter", "adapter_model.safetensors"))
    assert list(back) == names and all(d == "F32" for d, _, _ in back.values())
    for n, (a, b) in adapters.items():
        stem = "base_model.model." + n.removesuffix(".weight")
        assert np.array_equal(back[f"{stem}.lora_A.weight"][1], a) and np.array_equal(back[f"{stem}.lora_B.weight"][1], b)

    stored_sv = {n: top_singular_values(merged[n].astype(np.float64) - p1[n].astype(np.float64)) for n in adapters}
    # B @ A has rank r: the singular values past r are 0 in exact arithmetic (about 1e-16 here), so left out.
    exact_sv = {n: top_singular_values(lora_delta(a, b), LORA_RANK) for n, (a, b) in adapters.items()}
    for n in adapters:
        print(f"  {n}: delta singular values {' '.join(f'{s:.3g}' for s in stored_sv[n][: LORA_RANK + 1])}")
        assert stored_sv[n][LORA_RANK - 1] > 1e3 * stored_sv[n][LORA_RANK], f"{n}: the stored delta is not clearly rank {LORA_RANK}"
    lora = {
        "rank": LORA_RANK,
        "lora_alpha": LORA_ALPHA,
        "scaling": LORA_ALPHA / LORA_RANK,
        "target_modules": LORA_TARGETS,
        "changed_tensors": list(adapters),
        "loss_before": before,
        "loss_after": after,
        "adapter_delta_singular_values": exact_sv,
    }
    p1_parent = [{"model": "lm/llama-p1", "coefficient": 1.0}]
    models["relations/lora-merged"] = {
        "relation": "lora",
        "parents": p1_parent,
        "made_by": SCRIPT,
        **lora,
        "adapter": "relations/lora-adapter",
        "delta_singular_values": stored_sv,
        **described(merged, {"lm/llama-p1": p1}),
    }
    models["relations/lora-adapter"] = {
        "relation": "lora",
        "parents": p1_parent,
        "made_by": SCRIPT,
        **lora,
        "merged": "relations/lora-merged",
        "adapter_tensors": names,
    }


def make_fp16(p1, models):
    halves = write_f16("fp16", p1)
    back = read_safetensors(os.path.join(OUT, "fp16", "model.safetensors"))
    assert all(d == "F16" and np.array_equal(v.view(np.uint16), halves[k].view(np.uint16)) for k, (d, v, _) in back.items())
    worst = max(float(np.max(np.abs(halves[k].astype(np.float64) - p1[k]))) for k in p1)
    print(f"fp16: largest rounding error {worst:.3g}")
    models["relations/fp16"] = {
        "relation": "converted",
        "parents": [{"model": "lm/llama-p1", "coefficient": 1.0}],
        "made_by": SCRIPT,
        "dtype": "float16",
        "max_abs_error": worst,
        **described(halves, {"lm/llama-p1": p1}),
    }


def make_pruned(p1, models):
    pruned = to_f32(prune(f64(p1), PRUNE_SHARE))
    write_f32("pruned", pruned)
    back = {k: v for k, (_, v, _) in read_safetensors(os.path.join(OUT, "pruned", "model.safetensors")).items()}
    matrices = [k for k, v in back.items() if v.ndim == 2]
    for k, v in back.items():
        kept = v != 0
        assert np.array_equal(v[kept].view(np.uint32), p1[k][kept].view(np.uint32)), f"{k}: a kept value changed"
        assert not np.any(np.signbit(v[~kept])), f"{k}: a pruned value is -0.0"
        if v.ndim == 2:
            assert np.max(np.abs(p1[k][~kept])) <= np.min(np.abs(v[kept])), f"{k}: a pruned value outranks a kept one"
        else:
            assert np.array_equal(v.view(np.uint32), p1[k].view(np.uint32)), f"{k}: a 1-d tensor changed"
    zeros = {k: int(np.sum(back[k] == 0)) for k in matrices}
    share = sum(zeros.values()) / sum(back[k].size for k in matrices)
    print(f"pruned: zero share among 2-d weights {share:.6f} ({sum(zeros.values())} zeros in {len(matrices)} matrices)")
    assert abs(share - PRUNE_SHARE) < 1e-3
    models["relations/pruned"] = {
        "relation": "pruned",
        "parents": [{"model": "lm/llama-p1", "coefficient": 1.0}],
        "made_by": SCRIPT,
        "method": "unstructured magnitude, per 2-d matrix (embeddings and lm_head included), 1-d norms untouched",
        "zero_share": share,
        "zeros_per_tensor": zeros,
        "pruned_tensors": matrices,
        **described(back, {"lm/llama-p1": p1}),
    }


def merge_entry(stored, parents, coefficients, relation_fields, lm):
    bases = {"lm/llama-p1": lm["p1"], "lm/llama-c1": lm["c1"], "lm/llama-c3": lm["c3"]}
    x, residual = fit(stored, bases)
    return {
        "relation": "merge",
        "parents": [{"model": f"lm/llama-{k}", "coefficient": coefficients.get(k) if coefficients else None} for k in parents],
        "made_by": SCRIPT,
        **relation_fields,
        "fit": {"over": list(bases), "coefficients": x, "relative_residual": residual},
        **described(stored, {p: bases[p] for p in bases}),
    }


def make_merges(lm, models):
    w = {k: f64(v) for k, v in lm.items()}
    made = {
        "merge-avg": to_f32(linear({"c1": w["c1"], "c3": w["c3"]}, AVG)),
        "merge-ta": to_f32(task_arithmetic(w["p1"], w, TA)),
        "merge-ties": to_f32(ties(w["p1"], [w["c1"], w["c3"]], TIES_DENSITY, TIES_LAMBDA)),
        "merge-blocks": to_f32(block_merge(w)),
    }
    for name, weights in made.items():
        write_f32(name, weights)
        back = {k: v for k, (_, v, _) in read_safetensors(os.path.join(OUT, name, "model.safetensors")).items()}
        assert all(np.array_equal(back[k], weights[k]) for k in weights), name
    ta_linear = {"p1": 1.0 - sum(TA.values()), **TA}
    models["relations/merge-avg"] = merge_entry(made["merge-avg"], ["c1", "c3"], AVG, {"method": "linear"}, lm)
    models["relations/merge-ta"] = merge_entry(
        made["merge-ta"],
        ["c1", "c3"],
        TA,
        {
            "method": "task_arithmetic",
            "base": "lm/llama-p1",
            "coefficients": {f"lm/llama-{k}": c for k, c in TA.items()},
            "linear_combination": [{"model": f"lm/llama-{k}", "coefficient": c} for k, c in ta_linear.items()],
        },
        lm,
    )
    sizes = {k: int(v.size) for k, v in lm["p1"].items()}
    models["relations/merge-ties"] = merge_entry(
        made["merge-ties"],
        ["c1", "c3"],
        None,
        {
            "method": "ties",
            "base": "lm/llama-p1",
            "density": TIES_DENSITY,
            "lambda": TIES_LAMBDA,
            "kept_per_task_vector": {k: int(TIES_DENSITY * s) for k, s in sizes.items()},
        },
        lm,
    )
    blocks = {p: {f"lm/llama-{k}": c for k, c in cs.items()} for p, cs in BLOCKS.items()}
    rest = sorted({n.removesuffix(".weight") for n in lm["p1"] if block_of(n) is None})
    blocks.update({p: {f"lm/llama-{k}": c for k, c in BLOCK_REST.items()} for p in rest})
    parents2 = {"lm/llama-c1": lm["c1"], "lm/llama-c3": lm["c3"]}
    block_fits = {}
    for prefix in blocks:
        names = [n for n in lm["p1"] if n.startswith(prefix + ".")]
        x, residual = fit(made["merge-blocks"], parents2, names)
        block_fits[prefix] = {"coefficients": x, "relative_residual": residual}
        assert all(abs(x[k] - c) < 1e-4 for k, c in blocks[prefix].items()), f"merge-blocks {prefix}: fit {x}"
    models["relations/merge-blocks"] = merge_entry(
        made["merge-blocks"], ["c1", "c3"], None, {"method": "linear per block", "blocks": blocks, "block_fits": block_fits}, lm
    )
    expected = {"merge-avg": {"lm/llama-p1": 0.0, "lm/llama-c1": 0.3, "lm/llama-c3": 0.7}}
    expected["merge-ta"] = {f"lm/llama-{k}": c for k, c in ta_linear.items()}
    for name in made:
        f = models[f"relations/{name}"]["fit"]
        print(f"{name}: fit over P1, C1, C3 {' '.join(f'{c:+.6f}' for c in f['coefficients'].values())}, residual {f['relative_residual']:.3g}")
        if name in expected:
            assert all(abs(f["coefficients"][k] - c) < 1e-4 for k, c in expected[name].items()), name


def main():
    assert os.path.isfile(FINE_TUNE_TEXT), f"{FINE_TUNE_TEXT} is missing: install Debian's base-files"
    lm = {name: read_f32_model(f"llama-{name}") for name in ("p1", "c1", "c3")}
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    models = {}
    make_lora(lm["p1"], models)
    make_fp16(lm["p1"], models)
    make_pruned(lm["p1"], models)
    make_merges(lm, models)
    models.update(lm_relations())
    manifest = {"script": SCRIPT, "fine_tune_text": FINE_TUNE_TEXT, "models": models}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, files in os.walk(OUT) for n in files)
    print(f"wrote {len(models)} manifest entries ({sum(1 for m in models.values() if m['made_by'] == SCRIPT)} new models), {total} bytes, to {os.path.relpath(OUT)}")
    assert total < MAX_BYTES, f"fixtures/relations is {total} bytes, over {MAX_BYTES}"


if __name__ == "__main__":
    main()
