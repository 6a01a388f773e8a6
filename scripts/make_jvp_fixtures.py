"""Reference forward-mode tangents for the JVP graph transform, computed by PyTorch in float64.

Run with Debian's Python: /usr/bin/python3 scripts/make_jvp_fixtures.py
For each small network covering the op table it writes fixtures/jvp/<name>.onnx (torch.onnx.export,
no constant folding, eval mode), the probe inputs, a weight delta per parameter (.safetensors
written by hand), and PyTorch's features F and tangent T = J Delta (torch.autograd.functional.jvp
on a float64 copy of the model).
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import stateless

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "jvp")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


class ConvNet(nn.Module):
    """Conv, BN, ReLU, MaxPool, grouped strided Conv, Sigmoid, AvgPool, ConvTranspose, Tanh,
    nearest Resize, GlobalAveragePool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
        self.up = nn.ConvTranspose2d(6, 3, 2, stride=2)
        self.fc = nn.Linear(3, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = torch.sigmoid(self.conv2(x))
        x = F.avg_pool2d(x, 2, stride=1)
        x = torch.tanh(self.up(x))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class Attention(nn.Module):
    """Linear (MatMul + Add), LayerNorm, GELU (erf), attention with Softmax, Transpose, Reshape,
    Div, Concat, Slice, Sub, Mul."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.heads = heads
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.5)
        self.proj = nn.Linear(4, d)
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.fc = nn.Linear(d, 6)

    def forward(self, x):  # x: N x 1 x 5 x 4 -> tokens N x 5 x 4
        t = self.proj(x.flatten(1, 2))
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], dim=1)
        h = self.norm(t)
        n, s, d = h.shape
        qkv = self.qkv(h).reshape(n, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1)
        h = (a @ v).transpose(1, 2).reshape(n, s, d)
        t = t + self.out(h)
        t = t - F.gelu(t) * 0.5
        return self.fc(t[:, 0])


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make(name, model, x):
    model.eval()
    if hasattr(model, "bn1"):
        with torch.no_grad():  # non-trivial running statistics
            model.bn1.running_mean.uniform_(-0.5, 0.5)
            model.bn1.running_var.uniform_(0.5, 1.5)
    torch.onnx.export(model, x, os.path.join(OUT, name + ".onnx"), input_names=["input"], output_names=["features"],
                      opset_version=17, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}})
    params = {k: v for k, v in model.named_parameters()}
    delta = {k: torch.randn_like(v) * 0.1 for k, v in params.items()}
    write_safetensors(os.path.join(OUT, name + ".delta.safetensors"), delta)
    double = model.double()
    names = list(params.keys())
    base = tuple(p.detach().double() for p in double.parameters())
    tangent = tuple(delta[k].double() for k in names)
    buffers = {k: v for k, v in double.named_buffers()}

    def f(*ps):
        return stateless.functional_call(double, {**dict(zip(names, ps)), **buffers}, (x.double(),))

    feats, tan = torch.autograd.functional.jvp(f, base, tangent)
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".features.npy"), feats.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".tangent.npy"), tan.numpy().astype(np.float32))
    print(name, "features", tuple(feats.shape), "params", names)


make("convnet", ConvNet(), torch.randn(3, 3, 12, 12))
make("attention", Attention(), torch.randn(3, 1, 5, 4))
