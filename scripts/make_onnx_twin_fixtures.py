#!/usr/bin/python3
"""Twin fixtures for test/lineage/onnx-twin.test.ts: the same PyTorch models saved both as
.safetensors and as torch.onnx.export files, so that lineage scores on the ONNX files can be checked
against the scores on their safetensors twins.

Run with Debian's interpreter (torch 1.13 + onnx): /usr/bin/python3 scripts/make_onnx_twin_fixtures.py

Two families in the naming of the built-in architectures (src/archs/mlp.ts, src/archs/convnet.ts),
each with parents A and B (independent seeds, briefly trained) and a child fine-tuned from A:
  mlp-{a,b,child}    fc1..fc3, 64-32-16-10 on 1x8x8 inputs
  conv-{a,b,child}   convnet widths [8, 8] with BatchNorm, 1x8x8 inputs
Every model is written as <name>.safetensors (built by hand with struct + json, the safetensors
package is not installed; metadata input_shape 1,8,8 tells the built-in architectures the input
size) and <name>.onnx (opset 13, no constant folding, training=PRESERVE: BatchNorm stays a node).

conv-child's block-1 BatchNorm is replaced by a fresh one and frozen before fine-tuning (weight 1,
bias 0, statistics 0 and 1), so its export stores equal tensors once and re-creates the others as
Identity nodes (blocks.1.bn.running_var = Identity(blocks.1.bn.weight), running_mean =
Identity(bias)), while conv-a's BatchNorm is trained and has no such alias: a reader that binds a
candidate's weights by the child file's initializer names misses those two.

conv-child.folded.onnx and conv-a.folded.onnx are eval-mode exports with constant folding: torch
folds each BatchNorm into the convolution before it (new `onnx::Conv_N` tensors, no
BatchNormalization node), a different parametrisation of the same function.

probe.npy is 16 x 1 x 8 x 8 float32. The whole folder is about 110 kB.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx-twins')
INPUT_SHAPE = (1, 8, 8)


class Mlp(nn.Module):
    """The `mlp` family: fc1..fcK with ReLU between them, on the flattened input."""

    def __init__(self, sizes=(64, 32, 16, 10)):
        super().__init__()
        self.depth = len(sizes) - 1
        for i in range(self.depth):
            setattr(self, f'fc{i + 1}', nn.Linear(sizes[i], sizes[i + 1]))

    def forward(self, x):
        h = x.flatten(1)
        for i in range(1, self.depth + 1):
            h = getattr(self, f'fc{i}')(h)
            if i < self.depth:
                h = F.relu(h)
        return h


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, pool):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pool = pool

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return F.max_pool2d(x, 2) if self.pool else x


class ConvNet(nn.Module):
    """The `convnet` family (as in scripts/make_arch_fixtures.py), here widths [8, 8]."""

    def __init__(self, in_channels=1, widths=(8, 8), num_classes=10):
        super().__init__()
        chans = [in_channels, *widths]
        self.blocks = nn.ModuleList(ConvBlock(chans[i], chans[i + 1], i < len(widths) - 1) for i in range(len(widths)))
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean((2, 3)))


def train(model, seed, steps, lr):
    """A few SGD steps on random data with random labels (train mode: BatchNorm statistics move)."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)
    model.train()
    for _ in range(steps):
        x = torch.randn(32, *INPUT_SHAPE, generator=gen)
        y = torch.randint(0, 10, (32,), generator=gen)
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    return model


class FrozenBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm2d that fine-tuning leaves alone: always in eval mode, no trainable parameters."""

    def __init__(self, channels):
        super().__init__(channels)
        for p in self.parameters():
            p.requires_grad_(False)
        super().train(False)

    def train(self, mode=True):
        return self


def fresh_frozen_batchnorm(model, block):
    model.blocks[block].bn = FrozenBatchNorm2d(model.blocks[block].bn.num_features)


ST_DTYPES = {torch.float32: ('F32', '<f4'), torch.int64: ('I64', '<i8')}


def write_safetensors(path, state):
    """safetensors laid out by hand: u64 header length, JSON header, data in state-dict order."""
    header = {'__metadata__': {'format': 'pt', 'input_shape': ','.join(map(str, INPUT_SHAPE))}}
    chunks = []
    offset = 0
    for name, tensor in state.items():
        code, np_dtype = ST_DTYPES[tensor.dtype]
        raw = np.ascontiguousarray(tensor.detach().numpy().astype(np_dtype)).tobytes()
        header[name] = {'dtype': code, 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def export_onnx(path, model, folded=False):
    model.eval()
    options = dict(do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL) if folded else dict(
        do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    torch.onnx.export(
        model, torch.zeros(2, *INPUT_SHAPE), path, opset_version=13,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **options)


def save(name, model):
    write_safetensors(os.path.join(OUT, f'{name}.safetensors'), model.state_dict())
    export_onnx(os.path.join(OUT, f'{name}.onnx'), model)


def write_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)

    mlp_a = train(Mlp(), seed=1, steps=40, lr=0.05)
    torch.manual_seed(1)
    mlp_b = train(Mlp(), seed=2, steps=40, lr=0.05)
    mlp_child = Mlp()
    mlp_child.load_state_dict(mlp_a.state_dict())
    train(mlp_child, seed=3, steps=20, lr=0.02)
    for name, model in (('mlp-a', mlp_a), ('mlp-b', mlp_b), ('mlp-child', mlp_child)):
        save(name, model)

    torch.manual_seed(2)
    conv_a = train(ConvNet(), seed=4, steps=40, lr=0.05)
    torch.manual_seed(3)
    conv_b = train(ConvNet(), seed=5, steps=40, lr=0.05)
    conv_child = ConvNet()
    conv_child.load_state_dict(conv_a.state_dict())
    fresh_frozen_batchnorm(conv_child, 1)
    train(conv_child, seed=6, steps=20, lr=0.02)
    for name, model in (('conv-a', conv_a), ('conv-b', conv_b), ('conv-child', conv_child)):
        save(name, model)
    export_onnx(os.path.join(OUT, 'conv-child.folded.onnx'), conv_child, folded=True)
    export_onnx(os.path.join(OUT, 'conv-a.folded.onnx'), conv_a, folded=True)

    gen = torch.Generator().manual_seed(7)
    write_npy(os.path.join(OUT, 'probe.npy'), torch.randn(16, *INPUT_SHAPE, generator=gen).numpy())

    for f in sorted(os.listdir(OUT)):
        print(f'{f}: {os.path.getsize(os.path.join(OUT, f))} bytes')


if __name__ == '__main__':
    main()
