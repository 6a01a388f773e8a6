"""The paper's reverse-mode Taylor scores, computed by PyTorch, for checking our forward-mode ones.

Run with Debian's Python: /usr/bin/python3 scripts/make_taylor_fixtures.py
For the MLP and the 1-channel ResNet-18 of scripts/make_arch_fixtures.py (weights regenerated from
scripts/synthetic_weights.py, never committed), a parent theta_p, a child theta_c = theta_p + Delta
and an unrelated candidate, it computes in float64 on the penultimate features:
  direct   s(F_q, F_c)
  deriv    < grad_theta s(f(X; theta), F_c) at theta_q , theta_c - theta_q >   (one backward pass)
  taylor   finalize(s + alpha * deriv)
for each candidate q and metric (l1, l2, lp p=4, lse t=0.01, cka), exactly as the reference code.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_arch_fixtures import MODELS  # noqa: E402
from synthetic_weights import synthetic_state_dict  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'taylor')
ALPHA = 0.5
DELTA_SCALE = 2.0 ** -6  # exact in float32, so theta_c = theta_p + Delta is reproducible bit for bit


def raw_metric(name, fp, fc):
    d = fp - fc
    m = d.numel()
    if name == 'l1':
        return -d.abs().sum() / m
    if name == 'l2':
        return -(d * d).sum() / m
    if name == 'lp':
        return -(d.abs() ** 4).sum() / m
    if name == 'lse':
        t = 0.01
        u = torch.clamp(t * d.abs(), max=10.0)
        return -torch.logsumexp(u, dim=1).sum() / (t * fp.shape[0])
    if name == 'cka':
        x = fp - fp.mean(0, keepdim=True)
        y = fc - fc.mean(0, keepdim=True)
        return (y.T @ x).pow(2).sum() / ((x.T @ x).pow(2).sum().sqrt() * (y.T @ y).pow(2).sum().sqrt())
    raise ValueError(name)


def finalize(name, s):
    if name == 'l2':
        return -((-min(s, 0.0)) ** 0.5)
    if name == 'lp':
        return -((-min(s, 0.0)) ** 0.25)
    return s


def child_state(parent, seed):
    noise = synthetic_state_dict({k: torch.from_numpy(v) for k, v in parent.items()}, seed)
    child = {}
    for k, v in parent.items():
        if v.dtype != np.float32 or k.endswith('running_mean') or k.endswith('running_var'):
            child[k] = v.copy()
        else:
            child[k] = (v + noise[k] * np.float32(DELTA_SCALE)).astype(np.float32)
    return child


def penultimate(model, state, x):
    model.load_state_dict({k: torch.from_numpy(v).double() if v.dtype == np.float32 else torch.from_numpy(v) for k, v in state.items()})
    return model.taps(x)['penultimate']


def make(name, parent_seed, child_seed, unrelated_seed, n_probe):
    ctor, _, input_shape, _, _, _ = MODELS[name]
    torch.manual_seed(0)
    model = ctor().double().eval()
    template = model.state_dict()
    parent = synthetic_state_dict(template, parent_seed)
    child = child_state(parent, child_seed)
    unrelated = synthetic_state_dict(template, unrelated_seed)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(n_probe, *input_shape[1:], generator=g).double()
    np.save(os.path.join(OUT, f'{name}.probe.npy'), x.numpy().astype(np.float32))
    with torch.no_grad():
        fc = penultimate(model, child, x)
    results = {}
    for cand_name, cand in (('parent', parent), ('unrelated', unrelated)):
        results[cand_name] = {}
        for metric in ('l1', 'l2', 'lp', 'lse', 'cka'):
            model.load_state_dict({k: torch.from_numpy(v).double() if v.dtype == np.float32 else torch.from_numpy(v) for k, v in cand.items()})
            params = dict(model.named_parameters())
            model.zero_grad()
            fp = model.taps(x)['penultimate']
            s = raw_metric(metric, fp, fc)
            s.backward()
            deriv = 0.0
            for k, p in params.items():
                if p.grad is None:  # the head does not feed the penultimate features
                    continue
                delta = torch.from_numpy(child[k].astype(np.float64) - cand[k].astype(np.float64))
                # Delta in float32 arithmetic, as any float32 implementation computes it.
                delta = torch.from_numpy((child[k] - cand[k]).astype(np.float32)).double()
                deriv += float((p.grad * delta).sum())
            sv = float(s)
            results[cand_name][metric] = {'direct': finalize(metric, sv), 'deriv': deriv, 'taylor': finalize(metric, sv + ALPHA * deriv)}
    meta = {'model': name, 'alpha': ALPHA, 'deltaScale': DELTA_SCALE, 'seeds': {'parent': parent_seed, 'child': child_seed, 'unrelated': unrelated_seed},
            'results': results}
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    print(name, json.dumps(results))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    make('mlp', 201, 202, 203, 64)
    make('resnet18', 211, 212, 213, 32)
