"""Small MLPs for test/lineage/independence/unit-test.test.ts (issue 17: a calibrated p-value for
"the two models were trained independently").

Run with Debian's Python: /usr/bin/python3 scripts/make_independence_fixtures.py   (torch 1.13 + numpy)

The task is a seeded Gaussian mixture, generated here (no downloaded data): 10 classes in 32
dimensions, each class the union of 3 clusters with random means, so the classes are not linearly
separable and the hidden layers have to learn features.

  mlp-iNN.safetensors   24 independent models 32-128-64-10 (fc1, fc2: ReLU; head: the 10 class
                        logits), each trained on the same task from its own seed (initialisation and
                        batch order): the null hypothesis "trained independently" holds for every
                        pair of them.
  mlp-cNN.safetensors   6 fine-tuned children, one from each of 6 of the 24 (manifest "derived"),
                        each trained further for 300 Adam steps on a different mixture (other means,
                        other labels): every (parent, child) pair is derived.
  manifest.json         the model lists, the derived pairs and, per listed pair, the statistic T
                        computed here in float64 numpy: the rows of fc1 and fc2 are at most 256
                        each, so the test uses every row and T does not depend on its seed:
                        T = mean_i cos(A.fc1[i], B.fc1[i]) + mean_i cos(A.fc2[i], B.fc2[i]).
                        The head (rows are classes) and the biases (1-d) take no part.

Safetensors are written by hand (the safetensors package is not installed; the writer is
scripts/make_lm_fixtures.py's). Deterministic: fixed seeds, one thread.
"""
import json
import os
import shutil
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "independence")

INPUTS, HIDDEN1, HIDDEN2, CLASSES = 32, 128, 64, 10
INDEPENDENT = 24
# Parents of the fine-tuned children: spread over the 24 so no seed range is favoured.
CHILD_PARENTS = [0, 4, 8, 12, 16, 20]
PARENT_TASK_SEED, CHILD_TASK_SEED = 1000, 2000

torch.set_num_threads(1)


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(INPUTS, HIDDEN1)
        self.fc2 = torch.nn.Linear(HIDDEN1, HIDDEN2)
        self.head = torch.nn.Linear(HIDDEN2, CLASSES)

    def forward(self, x):
        return self.head(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def mixture(seed, samples=4096, clusters_per_class=3):
    """Inputs and labels of a Gaussian mixture: each class is `clusters_per_class` unit-variance clusters."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 1.2, size=(CLASSES * clusters_per_class, INPUTS))
    cluster = rng.integers(0, len(means), size=samples)
    x = means[cluster] + rng.normal(0.0, 1.0, size=(samples, INPUTS))
    y = cluster % CLASSES
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def train(model, data, steps, lr, seed, batch=64):
    x, y = data
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model


@torch.no_grad()
def accuracy(model, data):
    x, y = data
    return (model(x).argmax(dim=1) == y).float().mean().item()


def weights(model):
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def safetensors_bytes(tensors):
    """tensors: [(name, dtype, shape, raw bytes)] -> the file: u64 LE header length, JSON header, data."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(raw for _, _, _, raw in tensors)


def write(name, w):
    entries = [(k, "F32", v.shape, v.astype("<f4").tobytes()) for k, v in w.items()]
    with open(os.path.join(OUT, f"{name}.safetensors"), "wb") as f:
        f.write(safetensors_bytes(entries))


def mean_row_cosine(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.mean(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def statistic(wa, wb):
    return sum(mean_row_cosine(wa[k], wb[k]) for k in ("fc1.weight", "fc2.weight"))


def relative_l2(wa, wb):
    num = sum(float(np.sum((wb[k].astype(np.float64) - wa[k]) ** 2)) for k in wa)
    den = sum(float(np.sum(wa[k].astype(np.float64) ** 2)) for k in wa)
    return (num / den) ** 0.5


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    task, child_task = mixture(PARENT_TASK_SEED), mixture(CHILD_TASK_SEED)
    models, parents = {}, {}
    for i in range(INDEPENDENT):
        torch.manual_seed(100 + i)
        model = train(MLP(), task, steps=600, lr=3e-3, seed=200 + i)
        name = f"mlp-i{i:02d}"
        models[name], parents[i] = weights(model), model
        print(f"{name}: accuracy {accuracy(model, task):.3f}")
    derived = []
    for k, i in enumerate(CHILD_PARENTS):
        child = MLP()
        child.load_state_dict(parents[i].state_dict())
        before = accuracy(child, child_task)
        train(child, child_task, steps=300, lr=1e-3, seed=300 + k)
        after = accuracy(child, child_task)
        name, parent = f"mlp-c{k:02d}", f"mlp-i{i:02d}"
        models[name] = weights(child)
        print(f"{name} (from {parent}): accuracy on its own task {before:.3f} -> {after:.3f}")
        assert after > before + 0.2, f"{name} did not learn its fine-tuning task"
        derived.append({"parent": parent, "child": name, "relative_l2": relative_l2(models[parent], models[name])})
    for name, w in models.items():
        write(name, w)
    independent = [f"mlp-i{i:02d}" for i in range(INDEPENDENT)]
    # T for every derived pair and for a few independent ones, to check the statistic against.
    checked = [(d["parent"], d["child"]) for d in derived] + [(independent[i], independent[i + 1]) for i in range(0, 6)]
    manifest = {
        "architecture": f"{INPUTS}-{HIDDEN1}-{HIDDEN2}-{CLASSES} MLP (fc1, fc2 ReLU, head)",
        "task": f"Gaussian mixture, {CLASSES} classes x 3 clusters in {INPUTS} dims, numpy seed {PARENT_TASK_SEED}; children: seed {CHILD_TASK_SEED}",
        "independent": independent,
        "derived": derived,
        "statistics": [{"a": a, "b": b, "statistic": statistic(models[a], models[b])} for a, b in checked],
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(models)} models, {total} bytes, to {os.path.normpath(OUT)}")
    assert total < 2_000_000


if __name__ == "__main__":
    main()
