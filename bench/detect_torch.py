"""PyTorch reference for bench/detect.mjs: the paper's reverse-mode Taylor score for one ResNet-18
(parent, child) pair on a 1024 x 1 x 28 x 28 probe (taylor-l1 on the penultimate features).

Run with Debian's Python (/usr/bin/python3). Prints one JSON line: seconds and peak RSS.
Weights are the synthetic ones of scripts/synthetic_weights.py (the values do not change the cost).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from make_arch_fixtures import mnist_resnet18, resnet_taps  # noqa: E402
from synthetic_weights import synthetic_state_dict  # noqa: E402

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
n = int(os.environ.get('PROBE', '1024'))
config = os.environ.get('CONFIG', '1x28x28')
channels, size = (1, 28) if config == '1x28x28' else (3, 64)
model = (mnist_resnet18() if channels == 1 else torchvision.models.resnet18(num_classes=10)).eval()
template = model.state_dict()
parent = {k: torch.from_numpy(v) for k, v in synthetic_state_dict(template, 1).items()}
child = {k: torch.from_numpy(v) for k, v in synthetic_state_dict(template, 2).items()}
x = torch.randn(n, channels, size, size, generator=torch.Generator().manual_seed(0))
alpha = 0.01
# Memory held before scoring (torch, the model, both weight sets, the probe): the scoring's own
# working memory is the peak above it.
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def run():
    model.load_state_dict(child)
    with torch.no_grad():
        fc = resnet_taps(model, x)['penultimate']
    model.load_state_dict(parent)
    model.zero_grad()
    fp = resnet_taps(model, x)['penultimate']
    s = -(fp - fc).abs().mean()
    s.backward()
    deriv = 0.0
    for k, p in model.named_parameters():
        if p.grad is not None:
            deriv += float((p.grad * (child[k] - parent[k])).sum())
    return float(s) + alpha * deriv

run()  # warm-up
t0 = time.perf_counter()
repeats = 3
for _ in range(repeats):
    score = run()
seconds = (time.perf_counter() - t0) / repeats
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({'config': config, 'probeRows': n, 'engine': f'pytorch {torch.__version__} reverse-mode', 'threads': torch.get_num_threads(), 'secondsPerPair': seconds,
                  'peakRssBytes': peak, 'baselineRssBytes': baseline, 'workingBytes': peak - baseline, 'score': score}))
