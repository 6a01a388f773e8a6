"""PyTorch reference for bench/train.mjs: training steps per second (forward, cross-entropy,
backward, SGD with momentum) in train mode, batch 64, for the zoo MLP (784-1024-256-128-10) and
the zoo convnet (widths 16, 32, 64; BatchNorm updating running statistics) on 1x28x28 inputs.

Run with Debian's Python (/usr/bin/python3). THREADS (default "1,2") lists the thread counts.
Prints one JSON line.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from make_train_fixtures import ConvNet, Mlp  # noqa: E402

BATCH = 64
MODELS = {
    'mlp': (lambda: Mlp([784, 1024, 256, 128, 10]), 60),
    'convnet': (lambda: ConvNet(1, (16, 32, 64), 10), 30),
}


def steps_per_second(make, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    best = float('inf')
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t) / steps)
    return 1.0 / best


threads = [int(t) for t in os.environ.get('THREADS', '1,2').split(',')]
results = [
    {'model': name, 'threads': t, 'stepsPerSecond': steps_per_second(make, steps, t)}
    for name, (make, steps) in MODELS.items()
    for t in threads
]
print(json.dumps({'engine': f'PyTorch {torch.__version__} CPU', 'batch': BATCH, 'results': results}))
