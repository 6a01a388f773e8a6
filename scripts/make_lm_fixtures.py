"""Tiny language-model families for test/lineage/lm-family.test.ts (issue 15, "any model, any format").

Run with Debian's Python: /usr/bin/python3 scripts/make_lm_fixtures.py   (torch 1.13 + numpy; no transformers)

Two Llama-architecture parents (P1, P2: different seeds) are trained on byte-level text of
/usr/share/common-licenses/GPL-3 (Debian's base-files); children are full fine-tunes on
/usr/share/common-licenses/Apache-2.0: C1 from P1, C2 from P2. Second children C3 (from P1) and C4
(from P2) are fine-tuned on MPL-2.0 and a grandchild D1 (from C1) on Artistic, for family trees.
The same for GPT-2 (G1, G2, GC1 from G1).
Each child's loss on its fine-tuning text is printed before and after, and must have dropped.

Outputs fixtures/lm/:
  llama-{p1,p2,c1,c2}/          Hugging Face folders: config.json + model.safetensors (float32)
  llama-{c3,c4,d1}/             the rest of the Llama family tree, float32 folders
  llama-c1-bf16/                C1 in bfloat16 (round to nearest even, as torch's .to(bfloat16))
  llama-p1-sharded/             P1 as model.safetensors.index.json + 2 shards
  llama-{p1,p2,c1}.{f16,q8_0,q4_0}.gguf
                                GGUF v3 with llama.cpp's names and convert_hf_to_gguf's Q/K row permutation;
                                2-d weights in the named type, 1-d norms in F32 (as llama.cpp does)
  gpt2-{g1,g2,gc1}/             Hugging Face GPT-2 folders: Conv1D weights [in, out], tied head not stored
  manifest.json                 per stored form: parameter count and float64 norm of its values; per
                                (parent form, child form) pair the float64 relative L2 distance that
                                `lineage compare parent child` should report, computed here with numpy
                                on the values each file decodes to (GGUF blocks via the dequantisers of
                                scripts/make_gguf_fixtures.py, which follow ggml-quants.c bit for bit).

Safetensors and GGUF are written by hand (the safetensors package is not installed), so the readers
are checked against bytes laid out independently of the TypeScript under test. Deterministic: fixed
seeds, one thread.
"""
import ast
import itertools
import json
import math
import os
import shutil
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "lm")
PARENT_TEXT = "/usr/share/common-licenses/GPL-3"
CHILD_TEXT = "/usr/share/common-licenses/Apache-2.0"
# Texts of the second children (C3, C4) and of the grandchild (D1), for trees with more than one generation.
SIBLING_TEXT = "/usr/share/common-licenses/MPL-2.0"
GRANDCHILD_TEXT = "/usr/share/common-licenses/Artistic"

torch.set_num_threads(1)


def load_gguf_helpers():
    """The GGUF writer and Q8_0/Q4_0 (de)quantisers of make_gguf_fixtures.py, without running its
    top level (which rewrites fixtures/gguf): only imports, functions and its constant tables."""
    path = os.path.join(HERE, "make_gguf_fixtures.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    constants = {"F32", "QK", "QK_K", "GGML_TYPES", "VALUE_TYPE_IDS", "STRUCT_CODES"}

    def wanted(node):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)):
            return True
        return isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id in constants for t in node.targets)

    module = ast.Module(body=[n for n in tree.body if wanted(n)], type_ignores=[])
    scope = {"__file__": path}
    exec(compile(module, path, "exec"), scope)
    return scope


G = load_gguf_helpers()

# ---------------------------------------------------------------------------------------------
# Models, in plain torch with Hugging Face state-dict names

LLAMA = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "intermediate_size": 64,
    "vocab_size": 256,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}

GPT2 = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "n_embd": 32,
    "n_head": 4,
    "n_layer": 2,
    "n_positions": 64,
    "n_ctx": 64,
    "vocab_size": 256,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
}

CONTEXT = 64


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def causal_attention(q, k, v):
    t = q.shape[-2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


class LlamaAttention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c["hidden_size"] // self.heads
        d = c["hidden_size"]
        self.q_proj = torch.nn.Linear(d, self.heads * self.head_dim, bias=False)
        self.k_proj = torch.nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = torch.nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = torch.nn.Linear(self.heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        # Hugging Face's rotary layout: the two halves of each head's dimensions form the pairs.
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        return self.o_proj(causal_attention(q, k, v).transpose(1, 2).reshape(b, t, -1))


class LlamaMLP(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = torch.nn.Linear(d, i, bias=False)
        self.up_proj = torch.nn.Linear(d, i, bias=False)
        self.down_proj = torch.nn.Linear(i, d, bias=False)

    def forward(self, x):
        return self.down_proj(torch.nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = LlamaMLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaBackbone(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList([LlamaLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = LlamaBackbone(c)
        self.lm_head = torch.nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        head_dim = c["hidden_size"] // c["num_attention_heads"]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(CONTEXT, dtype=torch.float32), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        # Plain attributes, not buffers: Hugging Face does not save rotary tables either.
        self.cos, self.sin = angles.cos(), angles.sin()
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, self.cos[:t], self.sin[:t])
        return self.lm_head(self.model.norm(x))


class Conv1D(torch.nn.Module):
    """Hugging Face's GPT-2 projection: weight stored [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class GPT2Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.heads = c["n_head"]
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in self.c_attn(x).split(d, dim=-1))
        return self.c_proj(causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d))


class GPT2MLP(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.c_fc = Conv1D(d, 4 * d)
        self.c_proj = Conv1D(4 * d, d)

    def forward(self, x):
        return self.c_proj(torch.nn.functional.gelu(self.c_fc(x), approximate="tanh"))


class GPT2Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["n_embd"], c["layer_norm_epsilon"]
        self.ln_1 = torch.nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(c)
        self.ln_2 = torch.nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = torch.nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = torch.nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = torch.nn.ModuleList([GPT2Block(c) for _ in range(c["n_layer"])])
        self.ln_f = torch.nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        torch.nn.init.normal_(self.wte.weight, std=0.02)
        torch.nn.init.normal_(self.wpe.weight, std=0.01)


class GPT2LMHeadModel(torch.nn.Module):
    """The LM head is wte itself (tied), so the state dict has no lm_head.weight, as HF's safetensors."""

    def __init__(self, c):
        super().__init__()
        self.transformer = GPT2Model(c)

    def forward(self, ids):
        tr = self.transformer
        x = tr.wte(ids) + tr.wpe(torch.arange(ids.shape[1]))
        for block in tr.h:
            x = block(x)
        return tr.ln_f(x) @ tr.wte.weight.T


# ---------------------------------------------------------------------------------------------
# Training


def read_bytes(path):
    with open(path, "rb") as f:
        return torch.tensor(list(f.read()), dtype=torch.long)


def batches(data, seed, batch=16):
    g = torch.Generator().manual_seed(seed)
    while True:
        starts = torch.randint(0, len(data) - CONTEXT - 1, (batch,), generator=g)
        window = torch.stack([data[s : s + CONTEXT + 1] for s in starts.tolist()])
        yield window[:, :-1], window[:, 1:]


def loss_of(model, x, y):
    return torch.nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))


@torch.no_grad()
def held_out_loss(model, data):
    """Mean loss over fixed windows of the text, the same for every call."""
    x, y = next(batches(data, seed=12345, batch=64))
    return loss_of(model, x, y).item()


def train(model, data, steps, lr, seed):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _, (x, y) in zip(range(steps), batches(data, seed)):
        opt.zero_grad()
        loss_of(model, x, y).backward()
        opt.step()
    return model


def make_family(cls, config, seeds, children, parent_text, child_text):
    """Parents trained from scratch (one per seed); each child a full fine-tune of its parent."""
    parents = {}
    for name, seed in seeds.items():
        torch.manual_seed(seed)
        parents[name] = train(cls(config), parent_text, steps=400, lr=3e-3, seed=seed)
        print(f"{name}: loss on parent text {held_out_loss(parents[name], parent_text):.3f}")
    kids = {}
    for name, (parent, seed, *text) in children.items():
        data = text[0] if text else child_text
        torch.manual_seed(seed)
        child = cls(config)
        source = parents[parent] if parent in parents else kids[parent]
        child.load_state_dict(source.state_dict())
        before = held_out_loss(child, data)
        train(child, data, steps=200, lr=1e-3, seed=seed)
        after = held_out_loss(child, data)
        print(f"{name} (from {parent}): loss on fine-tuning text {before:.3f} -> {after:.3f}")
        assert after < before - 0.1, f"{name} did not learn its fine-tuning text"
        kids[name] = child
    return parents, kids


def state(model):
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------------------------------
# Hugging Face folders, safetensors by hand


def bf16_round(x):
    """float32 -> bfloat16 bits, round to nearest even (torch's conversion)."""
    return torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


def bf16_values(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def safetensors_bytes(tensors):
    """tensors: [(name, dtype, shape, raw bytes)] -> the file: u64 LE header length, JSON header, data."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(raw for _, _, _, raw in tensors)


def f32_entries(weights):
    return [(k, "F32", v.shape, v.astype("<f4").tobytes()) for k, v in weights.items()]


def write_folder(name, config):
    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return folder


def write_hf(name, config, weights):
    folder = write_folder(name, config)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(f32_entries(weights)))


def write_hf_bf16(name, config, weights):
    folder = write_folder(name, dict(config, torch_dtype="bfloat16"))
    entries = [(k, "BF16", v.shape, bf16_round(v).astype("<u2").tobytes()) for k, v in weights.items()]
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(entries))
    return {k: bf16_values(bf16_round(v)).reshape(v.shape) for k, v in weights.items()}


def write_hf_sharded(name, config, weights, shards=2):
    folder = write_folder(name, config)
    entries = f32_entries(weights)
    per = math.ceil(len(entries) / shards)
    weight_map = {}
    for i in range(shards):
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = entries[i * per : (i + 1) * per]
        with open(os.path.join(folder, file), "wb") as f:
            f.write(safetensors_bytes(part))
        weight_map.update({k: file for k, _, _, _ in part})
    index = {"metadata": {"total_size": sum(len(raw) for _, _, _, raw in entries)}, "weight_map": weight_map}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


# ---------------------------------------------------------------------------------------------
# GGUF (spec: ggml docs/gguf.md; names: gguf-py constants.py; layout: convert_hf_to_gguf.py)

GGUF_STEMS = [
    ("model.embed_tokens", "token_embd"),
    ("model.norm", "output_norm"),
    ("lm_head", "output"),
    ("model.layers.{N}.input_layernorm", "blk.{N}.attn_norm"),
    ("model.layers.{N}.self_attn.q_proj", "blk.{N}.attn_q"),
    ("model.layers.{N}.self_attn.k_proj", "blk.{N}.attn_k"),
    ("model.layers.{N}.self_attn.v_proj", "blk.{N}.attn_v"),
    ("model.layers.{N}.self_attn.o_proj", "blk.{N}.attn_output"),
    ("model.layers.{N}.post_attention_layernorm", "blk.{N}.ffn_norm"),
    ("model.layers.{N}.mlp.gate_proj", "blk.{N}.ffn_gate"),
    ("model.layers.{N}.mlp.up_proj", "blk.{N}.ffn_up"),
    ("model.layers.{N}.mlp.down_proj", "blk.{N}.ffn_down"),
]

FILE_TYPE = {"F16": 1, "Q8_0": 7, "Q4_0": 2}  # llama_ftype: MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_0


def gguf_name(hf_name):
    stem = hf_name.removesuffix(".weight")
    for hf, gg in GGUF_STEMS:
        for n in range(LLAMA["num_hidden_layers"]):
            if stem == hf.replace("{N}", str(n)):
                return gg.replace("{N}", str(n)) + ".weight"
    raise KeyError(hf_name)


def rope_permute(w, heads):
    """convert_hf_to_gguf LlamaModel.permute: Hugging Face's rotary halves back to Meta's interleaved pairs."""
    rows, cols = w.shape
    return w.reshape(heads, 2, rows // heads // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def rope_unpermute(w, heads):
    rows, cols = w.shape
    return w.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def permute_heads(hf_name):
    """Heads to permute by: query rows by the query heads, key rows by the KV heads (GQA)."""
    if hf_name.endswith("q_proj.weight"):
        return LLAMA["num_attention_heads"]
    if hf_name.endswith("k_proj.weight"):
        return LLAMA["num_key_value_heads"]
    return None


def encode(values, type_name):
    """(raw bytes, the float32 values a reader decodes them to), for one 2-d tensor in ggml row order."""
    if type_name == "F16":
        bits = G["f16_bits"](values)
        return bits.astype("<u2").tobytes(), G["f16_to_f32"](bits).reshape(values.shape)
    quantize, dequantize = G[f"{type_name.lower()}_quantize"], G[f"{type_name.lower()}_dequantize"]
    blocks = quantize(np.ascontiguousarray(values).reshape(-1))
    return blocks.tobytes(), dequantize(blocks).reshape(values.shape)


def write_gguf(name, weights, type_name):
    """Returns the values the file decodes to, in Hugging Face names and row order."""
    c = LLAMA
    head_dim = c["hidden_size"] // c["num_attention_heads"]
    metadata = [
        ("general.architecture", "string", "llama", None),
        ("general.name", "string", name, None),
        ("general.file_type", "uint32", FILE_TYPE[type_name], None),
        ("general.quantization_version", "uint32", 2, None),
        ("llama.context_length", "uint32", c["max_position_embeddings"], None),
        ("llama.embedding_length", "uint32", c["hidden_size"], None),
        ("llama.block_count", "uint32", c["num_hidden_layers"], None),
        ("llama.feed_forward_length", "uint32", c["intermediate_size"], None),
        ("llama.attention.head_count", "uint32", c["num_attention_heads"], None),
        ("llama.attention.head_count_kv", "uint32", c["num_key_value_heads"], None),
        ("llama.attention.layer_norm_rms_epsilon", "float32", c["rms_norm_eps"], None),
        ("llama.rope.dimension_count", "uint32", head_dim, None),
        ("llama.rope.freq_base", "float32", c["rope_theta"], None),
        ("llama.vocab_size", "uint32", c["vocab_size"], None),
    ]
    tensors, decoded = [], {}
    for hf_name, w in weights.items():
        heads = permute_heads(hf_name)
        stored = rope_permute(w, heads) if heads else w
        if w.ndim == 1:
            raw, values = stored.astype("<f4").tobytes(), stored
            ggml_type = "F32"
        else:
            raw, values = encode(stored, type_name)
            ggml_type = type_name
        # ggml lists dimensions fastest first: numpy [rows, cols] is ne = [cols, rows].
        tensors.append((gguf_name(hf_name), ggml_type, list(reversed(w.shape)), raw))
        decoded[hf_name] = rope_unpermute(values, heads) if heads else values
    G["write_gguf"](os.path.join(OUT, f"{name}.{type_name.lower()}.gguf"), metadata, tensors)
    return decoded


# ---------------------------------------------------------------------------------------------
# Expected numbers (float64, numpy): what `lineage compare` must report


def norm(weights):
    return math.sqrt(sum(float(np.sum(v.astype(np.float64) ** 2)) for v in weights.values()))


def relative_l2(parent, child):
    """sqrt(sum ||child - parent||^2) / sqrt(sum ||parent||^2) over all tensors (same names)."""
    assert parent.keys() == child.keys()
    diff = sum(float(np.sum((child[k].astype(np.float64) - parent[k].astype(np.float64)) ** 2)) for k in parent)
    return math.sqrt(diff) / norm(parent)


def main():
    for path in (PARENT_TEXT, CHILD_TEXT, SIBLING_TEXT, GRANDCHILD_TEXT):
        assert os.path.isfile(path), f"{path} is missing: install Debian's base-files"
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    parent_text, child_text = read_bytes(PARENT_TEXT), read_bytes(CHILD_TEXT)

    sibling_text, grandchild_text = read_bytes(SIBLING_TEXT), read_bytes(GRANDCHILD_TEXT)
    # Children in this order: each model's seed fixes it, so models added later leave earlier ones unchanged.
    children = {"c1": ("p1", 11), "c2": ("p2", 12), "c3": ("p1", 21, sibling_text), "c4": ("p2", 22, sibling_text), "d1": ("c1", 31, grandchild_text)}
    parents, kids = make_family(LlamaForCausalLM, LLAMA, {"p1": 1, "p2": 2}, children, parent_text, child_text)
    llama = {name: state(m) for name, m in {**parents, **kids}.items()}
    gparents, gkids = make_family(GPT2LMHeadModel, GPT2, {"g1": 3, "g2": 4}, {"gc1": ("g1", 13)}, parent_text, child_text)
    gpt2 = {name: state(m) for name, m in {**gparents, **gkids}.items()}
    assert not any("lm_head" in k for k in gpt2["g1"]), "the tied GPT-2 head must not be stored"

    # Every stored form of every model: path under fixtures/lm -> the float32 values it decodes to.
    forms = {}
    for name, weights in llama.items():
        write_hf(f"llama-{name}", LLAMA, weights)
        forms[f"llama-{name}"] = weights
    forms["llama-c1-bf16"] = write_hf_bf16("llama-c1-bf16", LLAMA, llama["c1"])
    write_hf_sharded("llama-p1-sharded", LLAMA, llama["p1"])
    forms["llama-p1-sharded"] = llama["p1"]
    for name in ("p1", "p2", "c1"):
        for type_name in ("F16", "Q8_0", "Q4_0"):
            forms[f"llama-{name}.{type_name.lower()}.gguf"] = write_gguf(f"llama-{name}", llama[name], type_name)
    for name, weights in gpt2.items():
        write_hf(f"gpt2-{name}", GPT2, weights)
        forms[f"gpt2-{name}"] = weights

    def model_of(form):
        return form.split(".")[0].removesuffix("-bf16").removesuffix("-sharded")

    llama_forms = [f for f in forms if f.startswith("llama-")]
    parent_forms = [f for f in llama_forms if model_of(f) in ("llama-p1", "llama-p2")]
    child_forms = [f for f in llama_forms if model_of(f) in ("llama-c1", "llama-c2")]
    # The later family members are stored as float32 folders only and enter no pair below.
    llama_forms = [f for f in llama_forms if model_of(f) not in ("llama-c3", "llama-c4", "llama-d1")]
    pairs = list(itertools.product(parent_forms, child_forms))
    # Each copy against the float32 model it was made from, for the rounding bounds.
    pairs += [(model_of(f), f) for f in llama_forms if model_of(f) != f]
    pairs += [(p, "gpt2-gc1") for p in ("gpt2-g1", "gpt2-g2")] + [("gpt2-g1", "gpt2-g2")]
    manifest = {
        "parent_text": PARENT_TEXT,
        "child_text": CHILD_TEXT,
        "parents": {"llama-c1": "llama-p1", "llama-c2": "llama-p2", "gpt2-gc1": "gpt2-g1"},
        # The whole Llama family (issue 15: tree, ancestors), beside the pairs `compare` is checked on.
        "family": {"llama-p1": None, "llama-p2": None, "llama-c1": "llama-p1", "llama-c2": "llama-p2", "llama-c3": "llama-p1", "llama-c4": "llama-p2", "llama-d1": "llama-c1"},
        "forms": {f: {"model": model_of(f), "parameters": int(sum(v.size for v in w.values())), "norm": norm(w)} for f, w in forms.items()},
        "distances": [{"a": a, "b": b, "distance": relative_l2(forms[a], forms[b])} for a, b in pairs],
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, files in os.walk(OUT) for n in files)
    print(f"wrote {len(forms)} model forms, {total} bytes, to {os.path.normpath(OUT)}")
    assert total < 2_500_000


if __name__ == "__main__":
    main()
