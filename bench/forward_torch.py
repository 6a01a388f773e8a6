"""PyTorch reference for bench/forward.mjs: ResNet-18 forward throughput on CPU, and the FLOP count
of each configuration (convolutions and linear layers, 2 FLOPs per multiply-add).

Run with Debian's Python (/usr/bin/python3). Prints one JSON line.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from make_arch_fixtures import mnist_resnet18  # noqa: E402
import torchvision  # noqa: E402

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
CONFIGS = [('1x28x28', 1024, 1, 28), ('3x64x64', 256, 3, 64)]


def flops(model, x):
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += 2 * out.numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return total[0] * x.shape[0]


results = []
for name, n, c, size in CONFIGS:
    model = (mnist_resnet18() if c == 1 else torchvision.models.resnet18(num_classes=10)).eval()
    x = torch.randn(n, c, size, size)
    f = flops(model, x)
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    best = min(times)
    results.append({'config': name, 'batch': n, 'flops': f, 'seconds': best, 'imagesPerSecond': n / best, 'gflops': f / best / 1e9})
print(json.dumps({'engine': f'pytorch {torch.__version__}', 'threads': torch.get_num_threads(), 'results': results}))
