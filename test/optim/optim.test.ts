// Optimizers against PyTorch: AdamW and SGD trajectories of 15 steps on a tiny
// encoder + head (parameter groups, no-decay names, warmup schedules, clipping),
// written by tools/reference/make_optim_fixtures.py with torch 1.13.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Tensor, cpuBackend, keep, ops, tensor, tidy, zeros } from '../../src/index.js';
import {
  AdamW, LrScheduler, SGD, clipGradNorm, constantSchedule, cosineScheduleWithWarmup, countTags, inverseFrequencyWeights,
  isNoDecayParameter, linearScheduleWithWarmup, makeSchedule, type LrLambda, type Optimizer,
} from '../../src/optim/index.js';

interface Values { shape: number[]; values: number[] }
interface Trajectory { losses: number[]; params: Record<string, number[]>[]; lrs: number[][]; norms: number[] }
interface RunSpec {
  kind: 'adamw' | 'sgd';
  options: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; momentum?: number; dampening?: number; nesterov?: boolean };
  decayEverything?: boolean;
  groups?: { name: string; names: string[]; lr: number }[];
  schedule?: ['linear' | 'cosine', number, number];
  clip?: number;
  trajectory: Trajectory;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/reference/optim.json', import.meta.url), 'utf8')) as {
  init: Record<string, Values>; x: Values; y: Values; runs: Record<string, RunSpec>;
  schedules: Record<string, number[]>;
  clipping: { grads: Values[]; cases: { maxNorm: number; normType: number | 'inf'; total: number; clipped: number[][] }[] };
};

type Params = Map<string, Tensor>;

function initialParams(): Params {
  return new Map(Object.entries(fixture.init).map(([name, v]) => [name, keep(tensor(v.values, v.shape, { requiresGrad: true }))]));
}

/** The fixture's model: mean((ln_w * tanh(x @ enc_w + enc_b)) @ head_w + head_b - y)^2). */
function loss(p: Params): Tensor {
  const x = tensor(fixture.x.values, fixture.x.shape);
  const y = tensor(fixture.y.values, fixture.y.shape);
  const hidden = ops.mul(ops.tanh(ops.add(ops.matmul(x, p.get('encoder.weight')!), p.get('encoder.bias')!)), p.get('encoder.LayerNorm.weight')!);
  const out = ops.add(ops.matmul(hidden, p.get('head.weight')!), p.get('head.bias')!);
  return ops.mean(ops.square(ops.sub(out, y)));
}

function build(spec: RunSpec, params: Params): { optimizer: Optimizer; scheduler?: LrScheduler } {
  const o = spec.options;
  const named = [...params];
  const groups = spec.groups?.map((g) => ({ name: g.name, lr: g.lr, params: g.names.map((n) => [n, params.get(n)!] as const) }));
  const optimizer = spec.kind === 'adamw'
    ? new AdamW(groups ?? named, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay, noDecay: spec.decayEverything ? () => false : undefined })
    : new SGD(groups ?? named, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay });
  const scheduler = spec.schedule && new LrScheduler(optimizer, makeSchedule(spec.schedule[0], { warmupSteps: spec.schedule[1], totalSteps: spec.schedule[2] }));
  return { optimizer, scheduler };
}

/** One training step as in the reference; returns loss and clipped norm read back for the comparison. */
function trainStep(spec: RunSpec, params: Params, optimizer: Optimizer, scheduler?: LrScheduler): { loss: number; norm?: number; lrs: number[] } {
  optimizer.zeroGrad();
  const lossValue = tidy(() => {
    const l = loss(params);
    l.backward();
    return l.dataSync()[0]!;
  });
  let norm: number | undefined;
  if (spec.clip !== undefined) {
    const total = clipGradNorm(params.values(), spec.clip);
    norm = total.dataSync()[0]!;
    total.dispose();
  }
  const lrs = optimizer.groups.map((g) => g.lr);
  optimizer.step();
  scheduler?.step();
  return { loss: lossValue, norm, lrs };
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, abs = 2e-6, rel = 2e-5): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    if (error > abs + rel * Math.abs(expected[i]!)) throw new Error(`${what}[${i}]: got ${actual[i]}, PyTorch ${expected[i]} (error ${error.toExponential(2)})`);
  }
}

function checkStep(run: string, spec: RunSpec, params: Params, step: number, result: ReturnType<typeof trainStep>): void {
  const expected = spec.trajectory;
  expectNear([result.loss], [expected.losses[step]!], `${run} loss at step ${step}`);
  if (result.norm !== undefined) expectNear([result.norm], [expected.norms[step]!], `${run} gradient norm at step ${step}`);
  // torch lists groups split by decay; ours keep decay per parameter, so compare the distinct rates.
  expectNear([...new Set(result.lrs)], [...new Set(expected.lrs[step]!)], `${run} lrs at step ${step}`, 1e-12, 1e-9);
  for (const [name, p] of params) expectNear(p.dataSync(), expected.params[step]![name]!, `${run} ${name} after step ${step + 1}`);
}

describe('optimizers match torch.optim trajectories', () => {
  for (const [run, spec] of Object.entries(fixture.runs)) {
    it(run, () => {
      const params = initialParams();
      const { optimizer, scheduler } = build(spec, params);
      spec.trajectory.losses.forEach((_, step) => checkStep(run, spec, params, step, trainStep(spec, params, optimizer, scheduler)));
      expect(spec.trajectory.losses.at(-1)!).toBeLessThan(spec.trajectory.losses[0]!);
      optimizer.dispose();
      for (const p of params.values()) (p.zeroGrad(), p.dispose());
    });
  }

  it('resumes from a state dict mid-run and lands on the same trajectory', async () => {
    for (const run of ['adamw_groups', 'sgd_dampening']) {
      const spec = fixture.runs[run]!;
      const params = initialParams();
      const first = build(spec, params);
      for (let step = 0; step < 6; step++) trainStep(spec, params, first.optimizer, first.scheduler);
      const saved = first.optimizer.stateDict();
      const savedSchedule = first.scheduler!.stateDict();
      const names = [...saved.tensors.keys()];
      expect(names).toContain('state.encoder.weight.step');
      expect(names).toContain(spec.kind === 'adamw' ? 'state.head.bias.exp_avg_sq' : 'state.head.bias.momentum_buffer');
      first.optimizer.dispose();

      const second = build(spec, params);
      await second.optimizer.loadStateDict(saved);
      second.scheduler!.loadStateDict(savedSchedule);
      for (const t of saved.tensors.values()) t.dispose();
      for (let step = 6; step < spec.trajectory.losses.length; step++) checkStep(`${run} resumed`, spec, params, step, trainStep(spec, params, second.optimizer, second.scheduler));
    }
  });

  it('a step allocates nothing that outlives it (AdamW and SGD)', () => {
    for (const run of ['adamw_groups', 'sgd_nesterov']) {
      const spec = fixture.runs[run]!;
      const params = initialParams();
      const { optimizer, scheduler } = build(spec, params);
      trainStep(spec, params, optimizer, scheduler);
      const live = cpuBackend.liveBuffers();
      for (let i = 0; i < 3; i++) trainStep(spec, params, optimizer, scheduler);
      expect(cpuBackend.liveBuffers(), run).toBe(live);
    }
  });

  it('rejects bad configurations with a message that names the problem', () => {
    const a = keep(zeros([2], { requiresGrad: true }));
    expect(() => new SGD([['w', a]], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => new AdamW([{ params: [['w', a]] }, { params: [['v', a]] }], { lr: 0.1 })).toThrow(/parameter v is listed twice \(also as w\)/);
    expect(() => new AdamW([['w', a]], { lr: 0.1, betas: [0.9, 1] })).toThrow(/betas must be in \[0, 1\)/);
    expect(() => new AdamW([], { lr: 0.1 })).toThrow(/no parameters/);
  });
});

describe('no weight decay on biases and normalisation weights', () => {
  it('follows Hugging Face parameter names', () => {
    const noDecay = [
      'bert.encoder.layer.0.attention.output.LayerNorm.weight', 'bert.embeddings.LayerNorm.bias', 'classifier.bias',
      'distilbert.transformer.layer.3.sa_layer_norm.weight', 'albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight',
      'char_encoder.norm.weight', 'lstm.bias_ih_l0',
    ];
    const decay = ['bert.encoder.layer.0.attention.self.query.weight', 'classifier.weight', 'crf.transitions', 'lstm.weight_hh_l0_reverse'];
    for (const name of noDecay) expect(isNoDecayParameter(name), name).toBe(true);
    for (const name of decay) expect(isNoDecayParameter(name), name).toBe(false);
  });

  it('a bias is left alone by decay when its gradient is zero', () => {
    const weight = keep(tensor([1, -2], [2], { requiresGrad: true }));
    const bias = keep(tensor([1, -2], [2], { requiresGrad: true }));
    const optimizer = new AdamW([['head.weight', weight], ['head.bias', bias]], { lr: 0.1, weightDecay: 0.5 });
    weight.grad = keep(zeros([2]));
    bias.grad = keep(zeros([2]));
    optimizer.step();
    expectNear(weight.dataSync(), [0.95, -1.9], 'decayed weight');
    expectNear(bias.dataSync(), [1, -2], 'bias');
  });
});

describe('learning-rate schedules match LambdaLR with the Hugging Face lambdas', () => {
  const schedules: Record<string, LrLambda> = {
    linear_4_20: linearScheduleWithWarmup(4, 20),
    cosine_4_20: cosineScheduleWithWarmup(4, 20),
    'cosine_0_10_cycles_1.5': cosineScheduleWithWarmup(0, 10, 1.5),
    constant_5: constantSchedule(5),
  };
  for (const [name, lambda] of Object.entries(schedules)) {
    it(name, () => {
      const optimizer = { groups: [{ name: 'all', lr: 1, initialLr: 1 }] };
      const scheduler = new LrScheduler(optimizer, lambda);
      const lrs: number[] = [];
      for (let i = 0; i < 25; i++) {
        lrs.push(scheduler.lrs()[0]!);
        scheduler.step();
      }
      expectNear(lrs, fixture.schedules[name]!, name, 1e-9, 1e-7);
    });
  }

  it('scales each group from its own base rate; bad arguments are refused', () => {
    const optimizer = { groups: [{ name: 'encoder', lr: 2e-5, initialLr: 2e-5 }, { name: 'head', lr: 1e-3, initialLr: 1e-3 }] };
    const scheduler = new LrScheduler(optimizer, linearScheduleWithWarmup(2, 10));
    expect(scheduler.lrs()).toEqual([0, 0]);
    scheduler.step();
    expect(scheduler.lrs()).toEqual([1e-5, 5e-4]);
    expect(() => linearScheduleWithWarmup(10, 5)).toThrow(/totalSteps must be an integer >= warmupSteps \(10\), got 5/);
    expect(() => makeSchedule('cosine', { warmupSteps: 3 })).toThrow(/needs totalSteps/);
  });
});

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  for (const c of fixture.clipping.cases) {
    it(`max norm ${c.maxNorm}, ${c.normType}-norm`, () => {
      const params = fixture.clipping.grads.map((g) => {
        const p = keep(zeros(g.shape, { requiresGrad: true }));
        p.grad = keep(tensor(g.values, g.shape));
        return p;
      });
      const total = clipGradNorm(params, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      expectNear(total.dataSync(), [c.total], 'total norm');
      params.forEach((p, i) => expectNear(p.grad!.dataSync(), c.clipped[i]!, `clipped gradient ${i}`));
    });
  }

  it('a NaN gradient makes every gradient NaN, as torch (none takes an unclipped step)', () => {
    const p = keep(zeros([3], { requiresGrad: true }));
    const q = keep(zeros([1], { requiresGrad: true }));
    p.grad = keep(tensor([NaN, 10, 10], [3]));
    q.grad = keep(tensor([100], [1]));
    expect(clipGradNorm([p, q], 1).dataSync()[0]).toBeNaN();
    expect([...p.grad.dataSync(), ...q.grad.dataSync()].every(Number.isNaN)).toBe(true);
    for (const t of [p, q]) {
      t.zeroGrad();
      t.dispose();
    }
  });

  it('property: after clipping the norm is at most maxNorm and directions are kept', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.float({ min: Math.fround(0.01), max: 10, noNaN: true }), (values, maxNorm) => {
        const p = keep(zeros([values.length], { requiresGrad: true }));
        p.grad = keep(tensor(values, [values.length]));
        const total = clipGradNorm([p], maxNorm).dataSync()[0]!;
        const clipped = p.grad.dataSync();
        const expectedNorm = Math.hypot(...values);
        expect(Math.abs(total - expectedNorm)).toBeLessThanOrEqual(1e-5 * expectedNorm + 1e-6);
        expect(Math.hypot(...clipped)).toBeLessThanOrEqual(maxNorm * (1 + 1e-5) + 1e-6);
        const scale = Math.min(1, maxNorm / (expectedNorm + 1e-6));
        clipped.forEach((v, i) => expect(Math.abs(v - values[i]! * scale)).toBeLessThanOrEqual(1e-5 * Math.abs(values[i]!) + 1e-6));
        p.zeroGrad();
        p.dispose();
      }),
      { numRuns: 60 },
    );
  });
});

describe('class weights', () => {
  it('inverse frequency, balanced as scikit-learn: N / (C * n_c)', () => {
    // sum_c n_c w_c = N: the weighted loss keeps its scale.
    expectNear(inverseFrequencyWeights([90, 9, 1]), [100 / 270, 100 / 27, 100 / 3], 'balanced', 0, 1e-6);
    expectNear(inverseFrequencyWeights([90, 9, 1], { normalize: 'mean' }), [3 / 101, 30 / 101, 270 / 101], 'mean', 0, 1e-6);
    expectNear(inverseFrequencyWeights([100, 25, 0], { power: 0.5, normalize: 'none' }), [0.1, 0.2, 0.2], 'sqrt, unseen', 0, 1e-6);
    expectNear(inverseFrequencyWeights([90, 9, 1], { maxWeight: 10 }), [100 / 270, 100 / 27, 10], 'capped', 0, 1e-6);
    expectNear(inverseFrequencyWeights([3, 0], { smoothing: 1, normalize: 'none' }), [0.25, 1], 'smoothed', 0, 1e-6);
  });

  it('counts tags, skipping padding, and refuses ids outside the label set', () => {
    expect(countTags([[0, 1, 1, -100], Int32Array.from([2, 0])], 3)).toEqual([2, 2, 1]);
    expect(() => countTags([[0, 3]], 3)).toThrow(/tag id 3 is outside 0..2/);
    expect(() => inverseFrequencyWeights([0, 0])).toThrow(/every count is 0/);
  });
});
