#!/usr/bin/python3
"""PyTorch reference values for the learned lineage detector (test/lineage/detector.test.ts).

Run with Debian's interpreter (torch 1.13):
    /usr/bin/python3 scripts/make_detector_fixtures.py

Writes fixtures/detector/reference.json (about 100 KB):
  pool      F.adaptive_avg_pool2d of a 10 x 13 and a 70 x 130 matrix down to at most 4 x 5 / 64 x 64
  detector  random weights of a detector with two input modalities, two layers, E = 8, two
            transformer blocks with 2 heads and an FFN, and the no-parent candidate, in the
            detector file's layouts (conv HWIO, linear [in, out]); NHWC pair images for B = 2
            children with K = 3 candidates; then
              eval_logits     BatchNorm with the running statistics
              train_logits    BatchNorm with batch statistics (model.train())
              loss, grads     F.cross_entropy of train_logits against `labels` and its gradient
              running         running_mean / running_var after that training-mode pass
The model is written independently of ours: NCHW F.conv2d, F.batch_norm, F.layer_norm and
F.multi_head_attention_forward (nn.MultiheadAttention; its in_proj packs q, k, v in that order, like our qkv linear).
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'detector')

E = 8
MID = 3
HEADS = 2
FFN = 16
DEPTH = 2
INPUTS = ['weights', 'features']
LAYERS = ['fc1', 'penultimate']
B, K = 2, 3
SIZES = {'weights.0': (5, 7), 'weights.1': (4, 4), 'features.0': (6, 5), 'features.1': (3, 8)}
EPS = 1e-5


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def pool_cases():
    torch.manual_seed(1)
    cases = []
    for rows, cols, out_r, out_c in [(10, 13, 4, 5), (70, 130, 64, 64), (3, 100, 3, 64)]:
        x = torch.randn(rows, cols)
        y = F.adaptive_avg_pool2d(x[None, None], (out_r, out_c))[0, 0]
        cases.append({'rows': rows, 'cols': cols, 'input': flat(x), 'outRows': out_r, 'outCols': out_c, 'output': flat(y)})
    return cases


def detector_case():
    torch.manual_seed(0)
    slots = [f'{m}.{l}' for m in INPUTS for l in range(len(LAYERS))]
    w = {}

    def u(shape, fan_in):
        b = 1 / fan_in ** 0.5
        return (torch.rand(shape) * 2 - 1) * b

    for s in slots:
        p = f'encoders.{s}'
        w[f'{p}.conv1.weight'] = u((1, 1, 2, MID), 2)
        w[f'{p}.conv2.weight'] = u((3, 3, MID, E), 9 * MID)
        w[f'{p}.bn.weight'] = 1 + 0.3 * torch.randn(E)
        w[f'{p}.bn.bias'] = 0.2 * torch.randn(E)
        w[f'{p}.bn.running_mean'] = 0.1 * torch.randn(E)
        w[f'{p}.bn.running_var'] = 0.5 + torch.rand(E)
    w['tokens.cls'] = 0.5 * torch.randn(E)
    for m in INPUTS:
        w[f'tokens.type.{m}'] = 0.5 * torch.randn(E)
    for l in range(len(LAYERS)):
        w[f'tokens.layer.{l}'] = 0.5 * torch.randn(E)
    for b in range(DEPTH):
        p = f'blocks.{b}'
        w[f'{p}.norm1.weight'] = 1 + 0.2 * torch.randn(E)
        w[f'{p}.norm1.bias'] = 0.1 * torch.randn(E)
        w[f'{p}.attn.qkv.weight'] = u((E, 3 * E), E)
        w[f'{p}.attn.qkv.bias'] = u((3 * E,), E)
        w[f'{p}.attn.proj.weight'] = u((E, E), E)
        w[f'{p}.attn.proj.bias'] = u((E,), E)
        w[f'{p}.norm2.weight'] = 1 + 0.2 * torch.randn(E)
        w[f'{p}.norm2.bias'] = 0.1 * torch.randn(E)
        w[f'{p}.ffn.fc1.weight'] = u((E, FFN), E)
        w[f'{p}.ffn.fc1.bias'] = u((FFN,), E)
        w[f'{p}.ffn.fc2.weight'] = u((FFN, E), FFN)
        w[f'{p}.ffn.fc2.bias'] = u((E,), FFN)
    w['none'] = 0.5 * torch.randn(E)
    w['head.weight'] = u((E, 1), E)
    w['head.bias'] = u((1,), E)

    images = {s: torch.randn(B * K, *SIZES[s], 2) for s in slots}
    labels = torch.tensor([2, 3])  # the second child's answer is "no parent" (index K)

    params = {k: v.clone().requires_grad_(not (k.endswith('running_mean') or k.endswith('running_var'))) for k, v in w.items()}

    def forward(training):
        running = {}
        tokens = [params['tokens.cls'].expand(B * K, 1, E)]
        for s in slots:
            m, l = s.split('.')
            p = f'encoders.{s}'
            x = images[s].permute(0, 3, 1, 2)  # NHWC -> NCHW
            h = F.relu(F.conv2d(x, params[f'{p}.conv1.weight'].permute(3, 2, 0, 1)))
            h = F.conv2d(h, params[f'{p}.conv2.weight'].permute(3, 2, 0, 1), padding=1)
            rm = params[f'{p}.bn.running_mean'].detach().clone()
            rv = params[f'{p}.bn.running_var'].detach().clone()
            h = F.batch_norm(h, rm, rv, params[f'{p}.bn.weight'], params[f'{p}.bn.bias'], training=training, momentum=0.1, eps=EPS)
            running[f'{p}.bn.running_mean'] = rm
            running[f'{p}.bn.running_var'] = rv
            t = F.relu(h).mean(dim=(2, 3)) + params[f'tokens.type.{m}'] + params[f'tokens.layer.{l}']
            tokens.append(t[:, None, :])
        x = torch.cat(tokens, 1)
        for b in range(DEPTH):
            p = f'blocks.{b}'
            # nn.MultiheadAttention's functional form, so gradients reach our tensors
            y = F.layer_norm(x, (E,), params[f'{p}.norm1.weight'], params[f'{p}.norm1.bias'], eps=EPS)
            out, _ = F.multi_head_attention_forward(
                y.transpose(0, 1), y.transpose(0, 1), y.transpose(0, 1), E, HEADS,
                params[f'{p}.attn.qkv.weight'].t(), params[f'{p}.attn.qkv.bias'],
                None, None, False, 0.0,
                params[f'{p}.attn.proj.weight'].t(), params[f'{p}.attn.proj.bias'],
                training=training, need_weights=False)
            x = x + out.transpose(0, 1)
            y = F.layer_norm(x, (E,), params[f'{p}.norm2.weight'], params[f'{p}.norm2.bias'], eps=EPS)
            y = F.relu(y @ params[f'{p}.ffn.fc1.weight'] + params[f'{p}.ffn.fc1.bias'])
            x = x + (y @ params[f'{p}.ffn.fc2.weight'] + params[f'{p}.ffn.fc2.bias'])
        cls = x[:, 0, :].reshape(B, K, E)
        cls = torch.cat([cls, params['none'].expand(B, 1, E)], 1)
        z = (cls - cls.mean(1, keepdim=True)) / torch.sqrt(cls.var(1, unbiased=False, keepdim=True) + EPS)
        logits = (z @ params['head.weight'] + params['head.bias'])[..., 0]
        return logits, running

    with torch.no_grad():
        eval_logits, _ = forward(False)
    train_logits, running = forward(True)
    loss = F.cross_entropy(train_logits, labels)
    loss.backward()
    grads = {k: flat(p.grad) for k, p in params.items() if p.grad is not None}
    return {
        'arch': {'inputs': INPUTS, 'layers': LAYERS, 'embed': E, 'depth': DEPTH, 'heads': HEADS, 'ffn': FFN, 'noParent': True},
        'batch': B,
        'candidates': K,
        'weights': {k: {'shape': list(v.shape), 'data': flat(v)} for k, v in w.items()},
        'images': {s: {'shape': list(images[s].shape), 'data': flat(images[s])} for s in slots},
        'labels': labels.tolist(),
        'eval_logits': flat(eval_logits),
        'train_logits': flat(train_logits),
        'loss': float(loss),
        'grads': grads,
        'running': {k: flat(v) for k, v in running.items()},
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    data = {'pool': pool_cases(), 'detector': detector_case()}
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    print('wrote', os.path.join(OUT, 'reference.json'))


if __name__ == '__main__':
    main()
