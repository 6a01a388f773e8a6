#!/usr/bin/python3
"""PyTorch reference outputs for the built-in architectures (test/archs/*.test.ts).

Run with Debian's interpreter (torch 1.13 + torchvision + onnx):
    /usr/bin/python3 scripts/make_arch_fixtures.py

Weights are not stored: every model gets synthetic weights from scripts/synthetic_weights.py, which
src/testing/synthetic-weights.ts reproduces bit for bit from the key list and seed. For each model,
fixtures/archs/ holds:
  <model>.json          key list (name, shape, dtype in state-dict order), seed, expected
                        hyper-parameters, the first/last raw float32 bits of some tensors (to check
                        the TypeScript generator), and the list of saved outputs
  <model>.input.npy     the probe batch (float32, NCHW)
  <model>.<tap>.npy     PyTorch's eval-mode values at taps (penultimate, logits and a few layers)
  <model>.onnx          torch.onnx.export of the model (small models only; opset 17, no constant
                        folding, training=PRESERVE) for tests of the ONNX import path
plus torchvision_keys.json, the state-dict keys and shapes of torchvision resnet18/34/50.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic_weights import synthetic_state_dict  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'archs')


class PaperMlp(nn.Module):
    """The paper's MNIST MLP 784-1024-256-128-10 with the zoo names fc1..fc4."""

    def __init__(self, sizes=(784, 1024, 256, 128, 10)):
        super().__init__()
        for i in range(len(sizes) - 1):
            setattr(self, f'fc{i + 1}', nn.Linear(sizes[i], sizes[i + 1]))
        self.depth = len(sizes) - 1

    def taps(self, x):
        h = x.flatten(1)
        out = {}
        for i in range(1, self.depth + 1):
            if i == self.depth:
                out['penultimate'] = h
            h = getattr(self, f'fc{i}')(h)
            if i < self.depth:
                h = F.relu(h)
            out[f'fc{i}'] = h
        out['logits'] = h
        return out

    def forward(self, x):
        return self.taps(x)['logits']


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
    """The `convnet` family of src/archs/convnet.ts."""

    def __init__(self, in_channels=1, widths=(16, 32, 64), num_classes=10):
        super().__init__()
        chans = [in_channels, *widths]
        self.blocks = nn.ModuleList(ConvBlock(chans[i], chans[i + 1], i < len(widths) - 1) for i in range(len(widths)))
        self.head = nn.Linear(widths[-1], num_classes)

    def taps(self, x):
        out = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            out[f'block{i}'] = x
        out['penultimate'] = x.mean((2, 3))
        out['logits'] = self.head(out['penultimate'])
        return out

    def forward(self, x):
        return self.taps(x)['logits']


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """timm's VisionTransformer (class token, pre-norm blocks) with timm's state-dict names."""

    def __init__(self, img_size=28, patch=4, in_chans=1, num_classes=10, dim=64, depth=2, heads=4):
        super().__init__()
        self.patch_embed = PatchEmbed(in_chans, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img_size // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def taps(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        out = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            out[f'blocks.{i}'] = x
        out['penultimate'] = self.norm(x)[:, 0]
        out['logits'] = self.head(out['penultimate'])
        return out

    def forward(self, x):
        return self.taps(x)['logits']


def resnet_taps(model, x):
    """torchvision's ResNet._forward_impl, keeping the intermediate values."""
    out = {}
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    out['stem'] = x
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        x = getattr(model, name)(x)
        out[name] = x
    out['penultimate'] = torch.flatten(model.avgpool(x), 1)
    out['logits'] = model.fc(out['penultimate'])
    return out


def mnist_resnet18():
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return model


def cifar_resnet18():
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


def with_taps(model, fn):
    model.taps = lambda x: fn(model, x)
    return model


# name -> (constructor, seed, input shape (with batch), taps to save, expected spec, export ONNX)
MODELS = {
    'mlp': (lambda: PaperMlp(), 101, (8, 1, 28, 28), ['fc2', 'penultimate', 'logits'],
            {'name': 'mlp', 'layers': ['fc1', 'fc2', 'fc3', 'fc4'], 'sizes': [784, 1024, 256, 128, 10]}, False),
    'resnet18': (lambda: with_taps(mnist_resnet18(), resnet_taps), 102, (8, 1, 28, 28), ['stem', 'layer2', 'penultimate', 'logits'],
                 {'name': 'resnet18', 'block': 'basic', 'blocks': [2, 2, 2, 2], 'stem': 'imagenet', 'inChannels': 1, 'numClasses': 10}, False),
    'resnet18_cifar': (lambda: with_taps(cifar_resnet18(), resnet_taps), 103, (4, 3, 32, 32), ['layer4', 'penultimate', 'logits'],
                       {'name': 'resnet18', 'block': 'basic', 'blocks': [2, 2, 2, 2], 'stem': 'cifar', 'inChannels': 3, 'numClasses': 10}, False),
    'resnet50': (lambda: with_taps(torchvision.models.resnet50(num_classes=10), resnet_taps), 104, (2, 3, 64, 64), ['layer4', 'penultimate', 'logits'],
                 {'name': 'resnet50', 'block': 'bottleneck', 'blocks': [3, 4, 6, 3], 'stem': 'imagenet', 'inChannels': 3, 'numClasses': 10}, False),
    'vit': (lambda: VisionTransformer(), 105, (8, 1, 28, 28), ['blocks.0', 'penultimate', 'logits'],
            {'name': 'vit', 'depth': 2, 'width': 64, 'heads': 4, 'patchSize': 4, 'inChannels': 1, 'imageSize': [28, 28], 'mlpHidden': 256, 'numClasses': 10}, True),
    'convnet': (lambda: ConvNet(), 106, (8, 1, 28, 28), ['block1', 'penultimate', 'logits'],
                {'name': 'convnet', 'inChannels': 1, 'widths': [16, 32, 64], 'numClasses': 10}, True),
}


def bits(a):
    return [int(v) for v in np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def samples(state):
    """Raw bits of the first 8 (and, for the largest tensor, last 8) values of a few tensors of each kind."""
    picked = {}
    seen = set()
    for name, a in state.items():
        if a.dtype != np.float32:
            continue
        kind = (name.rsplit('.', 1)[-1], a.ndim)
        if kind in seen:
            continue
        seen.add(kind)
        picked[name] = {'first': bits(a.reshape(-1)[:8])}
    largest = max((n for n, a in state.items() if a.dtype == np.float32), key=lambda n: state[n].size)
    picked.setdefault(largest, {'first': bits(state[largest].reshape(-1)[:8])})
    picked[largest]['last'] = bits(state[largest].reshape(-1)[-8:])
    return picked


def make(name, ctor, seed, input_shape, taps, expected, export_onnx):
    torch.manual_seed(0)
    model = ctor().eval()
    template = model.state_dict()
    state = synthetic_state_dict(template, seed)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*input_shape, generator=g)
    with torch.no_grad():
        out = model.taps(x)
        full = model(x)
    assert torch.equal(out['logits'], full), f'{name}: taps disagree with forward()'
    np.save(os.path.join(OUT, f'{name}.input.npy'), x.numpy().astype(np.float32))
    for tap in taps:
        np.save(os.path.join(OUT, f'{name}.{tap}.npy'), out[tap].numpy().astype(np.float32))
    meta = {
        'model': name,
        'seed': seed,
        'inputShape': list(input_shape[1:]),
        'expected': expected,
        'taps': taps,
        'keys': [{'name': k, 'shape': list(t.shape), 'dtype': 'float32' if t.is_floating_point() else 'int64'} for k, t in template.items()],
        'samples': samples(state),
    }
    if export_onnx:
        onnx_path = os.path.join(OUT, f'{name}.onnx')
        torch.onnx.export(model, x, onnx_path, opset_version=17, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
        meta['onnx'] = f'{name}.onnx'
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    print(f'{name}: {len(template)} tensors, logits max |v| {out["logits"].abs().max().item():.4g}')


def torchvision_keys():
    out = {}
    for arch in ('resnet18', 'resnet34', 'resnet50'):
        sd = getattr(torchvision.models, arch)().state_dict()
        out[arch] = [{'name': k, 'shape': list(t.shape), 'dtype': 'float32' if t.is_floating_point() else 'int64'} for k, t in sd.items()]
    with open(os.path.join(OUT, 'torchvision_keys.json'), 'w') as f:
        json.dump(out, f)
        f.write('\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    for name, args in MODELS.items():
        make(name, *args)
    torchvision_keys()


if __name__ == '__main__':
    main()
