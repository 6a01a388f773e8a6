"""Deterministic synthetic weights, bit-identical to src/testing/synthetic-weights.ts.

Reference fixtures do not store weights (a ResNet-18 is 45 MB): PyTorch and TypeScript both
regenerate them from the key list and a seed. Element i of tensor `key` comes from
h = fmix32(i * 0x9E3779B1 + seed(key)), seed(key) = FNV-1a-32(UTF-8 key) XOR the global seed,
u = (h >> 8) * 2^-24. Every value is one float32 rounding of an exact expression.
"""
import math

import numpy as np

GOLDEN = np.uint32(0x9E3779B1)


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode('utf-8'):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def hash32(seed, n):
    """hash32(seed, i) for i = 0..n-1 as a uint32 array (uint32 arithmetic wraps like Math.imul)."""
    x = np.arange(n, dtype=np.uint32) * GOLDEN + np.uint32(seed)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return x


def synthetic_kind(name, shape, dtype='float32'):
    if dtype == 'int64':
        return 'zeros'
    if name.endswith('running_mean'):
        return 'running_mean'
    if name.endswith('running_var'):
        return 'running_var'
    if name.endswith('.bias') or name == 'bias':
        return 'bias'
    if name.endswith('.weight') or name == 'weight':
        return 'norm_weight' if len(shape) <= 1 else 'fan_in'
    return 'embedding'


def synthetic_tensor(name, shape, seed, dtype='float32', kind=None):
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dtype == 'int64':
        return np.zeros(shape, dtype=np.int64)
    kind = kind or synthetic_kind(name, shape, dtype)
    h = hash32((fnv1a32(name) ^ seed) & 0xFFFFFFFF, n)
    k = (h >> np.uint32(8)).astype(np.float64)
    if kind in ('norm_weight', 'running_var'):
        values = (0.5 + k * 2.0 ** -24).astype(np.float32)
    else:
        if kind == 'fan_in':
            fan_in = max(int(np.prod(shape[1:], dtype=np.int64)), 1)
            scale = math.sqrt(3.0 / fan_in)
        else:
            scale = {'bias': 0.1, 'running_mean': 0.2, 'embedding': 0.5}[kind]
        signed = ((k - 2.0 ** 23) * 2.0 ** -23).astype(np.float32)  # exact
        values = signed * np.float32(scale)  # float32 product: rounded once
    return values.reshape(shape)


def synthetic_state_dict(template, seed):
    """{key: numpy array} with the keys, shapes and dtypes of `template` (a torch state dict)."""
    out = {}
    for name, t in template.items():
        dtype = 'int64' if not t.is_floating_point() else 'float32'
        out[name] = synthetic_tensor(name, tuple(t.shape), seed, dtype)
    return out
