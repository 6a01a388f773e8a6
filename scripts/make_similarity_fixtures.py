"""Reference values for src/lineage/similarity: every metric's raw value and its directional
derivative along a tangent, computed independently in float64 with PyTorch autograd.

The implementations here follow the textbook definitions (full N x N Gram / distance matrices,
the centring matrix H, the unbiased HSIC estimator on UNcentred features), not the reductions used
in TypeScript, so the fixtures check those reductions too.

Run: /usr/bin/python3 scripts/make_similarity_fixtures.py   (writes fixtures/similarity/cases.json)
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
LSE_CLAMP = 10.0


def l1(x, y, p, t):
    return -(x - y).abs().mean()


def l2(x, y, p, t):
    return -((x - y) ** 2).mean()


def lp(x, y, p, t):
    return -((x - y).abs() ** p).mean()


def lse(x, y, p, t):
    u = torch.clamp(t * (x - y).abs(), max=LSE_CLAMP)
    return -(torch.logsumexp(u, dim=1) / t).mean()


def linf(x, y, p, t):
    return -(x - y).abs().max(dim=1).values.mean()


def hsic_biased(k, l):
    n = k.shape[0]
    h = torch.eye(n) - torch.ones(n, n) / n
    return torch.trace(k @ h @ l @ h)


def cka(x, y, p, t):
    k = x @ x.T
    l = y @ y.T
    return hsic_biased(k, l) / torch.sqrt(hsic_biased(k, k) * hsic_biased(l, l))


def hsic_unbiased(k, l):
    # Song et al. 2012, eq. (5); features deliberately left uncentred.
    n = k.shape[0]
    kt = k - torch.diag(torch.diag(k))
    lt = l - torch.diag(torch.diag(l))
    one = torch.ones(n)
    return (
        torch.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def cka_unbiased(x, y, p, t):
    k = x @ x.T
    l = y @ y.T
    return hsic_unbiased(k, l) / torch.sqrt(hsic_unbiased(k, k) * hsic_unbiased(l, l))


def pairwise_distances(x):
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    # sqrt(sq + 1) on the diagonal keeps the unused branch's gradient finite (sqrt'(0) = inf).
    return torch.where(eye, torch.zeros_like(sq), torch.sqrt(sq + eye.to(sq.dtype)))


def double_centre(a):
    return a - a.mean(dim=0, keepdim=True) - a.mean(dim=1, keepdim=True) + a.mean()


def dc(x, y, p, t):
    a = double_centre(pairwise_distances(x))
    b = double_centre(pairwise_distances(y))
    dcov2 = (a * b).mean()
    dvar_x = (a * a).mean()
    dvar_y = (b * b).mean()
    return torch.sqrt(dcov2 / torch.sqrt(dvar_x * dvar_y))


METRICS = {
    'l1': l1,
    'l2': l2,
    'lp': lp,
    'lse': lse,
    'linf': linf,
    'cka': cka,
    'cka-unbiased': cka_unbiased,
    'dc': dc,
}


def value_and_directional(fn, fp, fc, tangent, p, t):
    x = fp.clone().requires_grad_(True)
    s = fn(x, fc, p, t)
    (grad,) = torch.autograd.grad(s, x)
    return float(s), float((grad * tangent).sum())


def as_float32_exact(m):
    # Stored values are exactly representable in float32, so TS sees the same inputs bit for bit.
    return m.to(torch.float32).to(torch.float64)


def make_case(name, gen, n, d, child_noise, child_scale, p, t):
    fp = as_float32_exact(torch.randn(n, d, generator=gen, dtype=torch.float32) + 0.5)
    noise = torch.randn(n, d, generator=gen, dtype=torch.float32).to(torch.float64)
    fc = as_float32_exact(child_scale * fp + child_noise * noise - 0.25)
    tangent = as_float32_exact(torch.randn(n, d, generator=gen, dtype=torch.float32))
    clamped = int((t * (fp - fc).abs() >= LSE_CLAMP).sum())
    values = {}
    for metric, fn in METRICS.items():
        raw, directional = value_and_directional(fn, fp, fc, tangent, p, t)
        values[metric] = {'raw': raw, 'directional': directional}
    return {
        'name': name,
        'n': n,
        'd': d,
        'params': {'p': p, 't': t},
        'lseClampedEntries': clamped,
        'fp': [float(v) for v in fp.flatten()],
        'fc': [float(v) for v in fc.flatten()],
        'tangent': [float(v) for v in tangent.flatten()],
        'values': values,
    }


def main():
    gen = torch.Generator().manual_seed(20240613)
    cases = [
        # N >= 2D: CKA sums over feature pairs.
        make_case('tall-unrelated', gen, 16, 4, child_noise=1.0, child_scale=0.0, p=4.0, t=0.01),
        # N < 2D: CKA sums over sample pairs; t large enough that some entries hit the lse clamp.
        make_case('wide-clamped-lse', gen, 6, 10, child_noise=2.5, child_scale=0.3, p=3.0, t=3.0),
        # N = 2D boundary, child close to the parent.
        make_case('related', gen, 12, 6, child_noise=0.2, child_scale=1.0, p=4.0, t=0.5),
        make_case('small-related', gen, 9, 3, child_noise=0.5, child_scale=-0.8, p=2.5, t=0.01),
    ]
    assert cases[1]['lseClampedEntries'] > 0, 'the clamped-lse case must exercise the clamp'
    out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'similarity', 'cases.json')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump({'generator': 'scripts/make_similarity_fixtures.py', 'lseClamp': LSE_CLAMP, 'cases': cases}, f)
        f.write('\n')
    print(f'wrote {out} ({os.path.getsize(out)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()
