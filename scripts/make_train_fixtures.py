#!/usr/bin/python3
"""PyTorch reference values for the trainer (test/train/*.test.ts).

Run with Debian's interpreter (torch 1.13):
    /usr/bin/python3 scripts/make_train_fixtures.py

Writes fixtures/train/reference.json (a few tens of KB):
  optimizers  torch.optim.SGD / Adam (momentum, Nesterov, weight_decay) on given gradients
  losses      F.cross_entropy (ignore_index=-1), per-pixel cross-entropy, detection loss
              (smooth L1 on filled slots + class cross-entropy), each with its gradient
  mlp_train   an MLP 12-8-6-3 trained 3 SGD steps (momentum, weight decay)
  convnet_train  a convnet (widths 4, 6; 3 classes) trained 2 SGD steps in train mode: BatchNorm
              uses batch statistics and updates running_mean/var (momentum 0.1) and
              num_batches_tracked; then eval-mode logits
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'train')


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def state(model):
    return {k: {'shape': list(v.shape), 'data': flat(v.float())} for k, v in model.state_dict().items()}


def optimizer_cases():
    torch.manual_seed(0)
    p0 = torch.randn(3, 4)
    grads = [torch.randn(3, 4) for _ in range(4)]
    configs = {
        'sgd_plain': dict(optimizer='sgd', lr=0.1),
        'sgd_momentum_wd': dict(optimizer='sgd', lr=0.1, momentum=0.9, weightDecay=0.01),
        'sgd_nesterov': dict(optimizer='sgd', lr=0.05, momentum=0.9, nesterov=True),
        'adam': dict(optimizer='adam', lr=0.1),
        'adam_wd': dict(optimizer='adam', lr=0.01, betas=[0.8, 0.99], eps=1e-6, weightDecay=0.05),
    }
    cases = {}
    for name, c in configs.items():
        p = p0.clone().requires_grad_(True)
        if c['optimizer'] == 'sgd':
            opt = torch.optim.SGD([p], lr=c['lr'], momentum=c.get('momentum', 0), nesterov=c.get('nesterov', False),
                                  weight_decay=c.get('weightDecay', 0))
        else:
            opt = torch.optim.Adam([p], lr=c['lr'], betas=tuple(c.get('betas', [0.9, 0.999])), eps=c.get('eps', 1e-8),
                                   weight_decay=c.get('weightDecay', 0))
        after = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            after.append(flat(p))
        cases[name] = {'config': c, 'after': after}
    return {'shape': [3, 4], 'initial': flat(p0), 'grads': [flat(g) for g in grads], 'cases': cases}


def loss_cases():
    torch.manual_seed(1)
    logits = torch.randn(6, 4, requires_grad=True)
    labels = torch.tensor([0, 3, -1, 2, 1, 1])
    ce = F.cross_entropy(logits, labels, ignore_index=-1)
    ce.backward()

    pix = torch.randn(2, 3, 4, 5, requires_grad=True)
    masks = torch.randint(0, 3, (2, 4, 5))
    pce = F.cross_entropy(pix, masks)
    pce.backward()

    slots, classes_n = 2, 3
    out = torch.randn(3, slots * (4 + classes_n), requires_grad=True)
    boxes = torch.rand(3, slots, 4)
    classes = torch.tensor([[1, 2], [0, -1], [2, -1]])
    view = out.view(3, slots, 4 + classes_n)
    filled = classes >= 0
    box = F.smooth_l1_loss(view[..., :4][filled], boxes[filled], beta=1.0)
    cls = F.cross_entropy(view[..., 4:].reshape(-1, classes_n), classes.reshape(-1), ignore_index=-1)
    (box + cls).backward()
    return {
        'ce': {'logits': flat(logits), 'shape': [6, 4], 'labels': labels.tolist(), 'loss': float(ce), 'grad': flat(logits.grad)},
        'pixel': {'logits': flat(pix), 'shape': [2, 3, 4, 5], 'masks': flat(masks), 'loss': float(pce), 'grad': flat(pix.grad)},
        'detection': {
            'outputs': flat(out), 'shape': [3, slots * (4 + classes_n)], 'slots': slots,
            'boxes': flat(boxes), 'classes': flat(classes),
            'box': float(box), 'cls': float(cls), 'total': float(box + cls), 'grad': flat(out.grad),
        },
    }


class Mlp(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        for i in range(len(sizes) - 1):
            setattr(self, f'fc{i + 1}', nn.Linear(sizes[i], sizes[i + 1]))
        self.depth = len(sizes) - 1

    def forward(self, x):
        h = x.flatten(1)
        for i in range(1, self.depth + 1):
            h = getattr(self, f'fc{i}')(h)
            if i < self.depth:
                h = F.relu(h)
        return h


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, pool):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pool = pool

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return F.max_pool2d(x, 2) if self.pool else x


class ConvNet(nn.Module):
    """The `convnet` family of src/archs/convnet.ts."""

    def __init__(self, in_channels, widths, num_classes):
        super().__init__()
        chans = [in_channels, *widths]
        self.blocks = nn.ModuleList(ConvBlock(chans[i], chans[i + 1], i < len(widths) - 1) for i in range(len(widths)))
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean((2, 3)))


def train_case(model, batches, make_opt):
    before = state(model)
    opt = make_opt(model.parameters())
    model.train()
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    model.eval()
    with torch.no_grad():
        logits = model(batches[0][0])
    return {
        'before': before,
        'batches': [{'x': flat(x), 'shape': list(x.shape), 'y': y.tolist()} for x, y in batches],
        'losses': losses,
        'after': state(model),
        'eval_logits': flat(logits),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(2)
    mlp = Mlp([12, 8, 6, 3])
    mlp_batches = [(torch.randn(5, 12), torch.randint(0, 3, (5,))) for _ in range(3)]
    mlp_case = train_case(mlp, mlp_batches, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3))
    mlp_case['config'] = dict(optimizer='sgd', lr=0.1, momentum=0.9, weightDecay=1e-3)

    torch.manual_seed(3)
    net = ConvNet(1, (4, 6), 3)
    with torch.no_grad():  # non-trivial affine parameters, so a wrong BN formula shows
        for b in net.blocks:
            b.bn.weight.uniform_(0.5, 1.5)
            b.bn.bias.uniform_(-0.2, 0.2)
    conv_batches = [(torch.randn(4, 1, 8, 8), torch.randint(0, 3, (4,))) for _ in range(2)]
    conv_case = train_case(net, conv_batches, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))
    conv_case['config'] = dict(optimizer='sgd', lr=0.05, momentum=0.9)

    out = {
        'optimizers': optimizer_cases(),
        'losses': loss_cases(),
        'mlp_train': mlp_case,
        'convnet_train': conv_case,
    }
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(out, f)
    print('wrote', os.path.join(OUT, 'reference.json'))


if __name__ == '__main__':
    main()
