#!/usr/bin/python3
# Reference trajectories for src/optim: torch.optim.AdamW / SGD, LambdaLR schedules
# written as Hugging Face's get_*_schedule_with_warmup, and clip_grad_norm_.
# Run once with Debian's PyTorch (`/usr/bin/python3 tools/reference/make_optim_fixtures.py`);
# the output, test/fixtures/reference/optim.json, is committed and the tests read it.

import json
import math
import os

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
STEPS = 15
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'reference', 'optim.json')


def r(values):
    """Round to 8 significant digits: float32 needs ~7.2, and the file stays small."""
    return [float('%.8g' % v) for v in values]


# A tiny encoder + head: loss = mean((ln_w * tanh(x @ enc_w + enc_b)) @ head_w + head_b - y)^2).
# Parameter names follow Hugging Face so the no-decay rule (bias, LayerNorm) is exercised.
SHAPES = {
    'encoder.weight': [3, 4],
    'encoder.bias': [4],
    'encoder.LayerNorm.weight': [4],
    'head.weight': [4, 2],
    'head.bias': [2],
}
INIT = {name: (torch.randn(shape) * 0.5) for name, shape in SHAPES.items()}
X = torch.randn(5, 3)
Y = torch.randn(5, 2)


def loss_of(p):
    h = torch.tanh(X @ p['encoder.weight'] + p['encoder.bias']) * p['encoder.LayerNorm.weight']
    return ((h @ p['head.weight'] + p['head.bias'] - Y) ** 2).mean()


def no_decay(name):
    return name.endswith('bias') or 'LayerNorm' in name or 'layer_norm' in name or 'norm.weight' in name


def linear_warmup(warmup, total):
    # transformers.get_linear_schedule_with_warmup
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def cosine_warmup(warmup, total, cycles=0.5):
    # transformers.get_cosine_schedule_with_warmup
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))
    return f


def constant_warmup(warmup):
    # transformers.get_constant_schedule_with_warmup
    def f(step):
        return float(step) / float(max(1.0, warmup)) if step < warmup else 1.0
    return f


def run(kind, options, groups=None, schedule=None, clip=None):
    """Train STEPS steps; record loss, every parameter, lrs and gradient norm per step."""
    params = {n: t.clone().requires_grad_(True) for n, t in INIT.items()}
    if groups is None:
        param_groups = [{'params': list(params.values())}]
    else:
        # One torch group per (our group, decay or not): how HF scripts build AdamW groups.
        param_groups = []
        for g in groups:
            for decayed in (True, False):
                names = [n for n in g['names'] if no_decay(n) != decayed]
                if names:
                    param_groups.append({'params': [params[n] for n in names], 'lr': g['lr'],
                                         'weight_decay': options['weight_decay'] if decayed else 0.0})
    opt = torch.optim.AdamW(param_groups, **options) if kind == 'adamw' else torch.optim.SGD(param_groups, **options)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule[1]) if schedule else None
    record = {'losses': [], 'params': [], 'lrs': [], 'norms': []}
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_of(params)
        loss.backward()
        record['losses'].append(loss.item())
        if clip is not None:
            record['norms'].append(torch.nn.utils.clip_grad_norm_(list(params.values()), clip).item())
        record['lrs'].append([g['lr'] for g in opt.param_groups])
        opt.step()
        if sched:
            sched.step()
        record['params'].append({n: r(t.detach().flatten().tolist()) for n, t in params.items()})
    record['losses'] = r(record['losses'])
    record['norms'] = r(record['norms'])
    return record


fixtures = {
    'init': {n: {'shape': SHAPES[n], 'values': t.flatten().tolist()} for n, t in INIT.items()},
    'x': {'shape': [5, 3], 'values': X.flatten().tolist()},
    'y': {'shape': [5, 2], 'values': Y.flatten().tolist()},
    'runs': {},
}
runs = fixtures['runs']
runs['adamw_plain'] = {'kind': 'adamw', 'options': {'lr': 1e-2, 'betas': [0.9, 0.999], 'eps': 1e-8, 'weight_decay': 0.01}, 'decayEverything': True}
runs['adamw_groups'] = {
    'kind': 'adamw', 'options': {'lr': 1e-2, 'betas': [0.9, 0.98], 'eps': 1e-6, 'weight_decay': 0.1},
    'groups': [{'name': 'encoder', 'names': ['encoder.weight', 'encoder.bias', 'encoder.LayerNorm.weight'], 'lr': 5e-3},
               {'name': 'head', 'names': ['head.weight', 'head.bias'], 'lr': 3e-2}],
    'schedule': ['linear', 3, STEPS], 'clip': 0.5,
}
runs['sgd_momentum'] = {'kind': 'sgd', 'options': {'lr': 0.1, 'momentum': 0.9}}
runs['sgd_nesterov'] = {'kind': 'sgd', 'options': {'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.01}}
runs['sgd_dampening'] = {'kind': 'sgd', 'options': {'lr': 0.1, 'momentum': 0.5, 'dampening': 0.3, 'weight_decay': 0.05}, 'schedule': ['cosine', 2, STEPS]}
runs['sgd_plain'] = {'kind': 'sgd', 'options': {'lr': 0.2}, 'clip': 0.3}

for name, spec in runs.items():
    options = dict(spec['options'])
    if 'betas' in options:
        options['betas'] = tuple(options['betas'])
    schedule = None
    if 'schedule' in spec:
        kind, warmup, total = spec['schedule']
        schedule = (kind, linear_warmup(warmup, total) if kind == 'linear' else cosine_warmup(warmup, total))
    groups = spec.get('groups')
    if groups is None and spec['kind'] == 'adamw' and not spec.get('decayEverything'):
        groups = [{'names': list(SHAPES), 'lr': options['lr']}]
    spec['trajectory'] = run(spec['kind'], options, groups, schedule, spec.get('clip'))

# Schedules alone: the lr LambdaLR sets before each optimizer step, base lr 1.
schedules = {}
for label, fn in [('linear_4_20', linear_warmup(4, 20)), ('cosine_4_20', cosine_warmup(4, 20)),
                  ('cosine_0_10_cycles_1.5', cosine_warmup(0, 10, 1.5)), ('constant_5', constant_warmup(5))]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
    lrs = []
    for _ in range(25):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    schedules[label] = r(lrs)
fixtures['schedules'] = schedules

# Clipping on fixed gradients: total norm and the clipped gradients, for the 2-norm and the inf-norm.
clip_cases = []
grads = [torch.randn(3, 4), torch.randn(7), torch.randn(2, 2, 2) * 3]
for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, float('inf'))]:
    ps = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type).item()
    clip_cases.append({'maxNorm': max_norm, 'normType': 'inf' if math.isinf(norm_type) else norm_type, 'total': total,
                       'clipped': [r(p.grad.flatten().tolist()) for p in ps]})
fixtures['clipping'] = {'grads': [{'shape': list(g.shape), 'values': g.flatten().tolist()} for g in grads], 'cases': clip_cases}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(fixtures, f, separators=(',', ':'))
    f.write('\n')
print('wrote', os.path.normpath(OUT), os.path.getsize(OUT), 'bytes; torch', torch.__version__)
