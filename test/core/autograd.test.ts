// The autograd contract: accumulation, no-grad, detach, explicit upstream
// gradients, and deterministic release of every intermediate buffer.

import { describe, expect, it } from 'vitest';
import { Rng, cpuBackend, noGrad, ops, randn, tensor, tidy, zeros } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

describe('autograd', () => {
  it('gradients accumulate across backward calls until zeroGrad', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    ops.sum(ops.mul(x, x)).backward();
    ops.sum(ops.mul(x, x)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([4, 8, 12]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('a tensor used twice gets both contributions', () => {
    const x = tensor([3], [1], { requiresGrad: true });
    ops.sum(ops.add(ops.mul(x, x), x)).backward(); // d(x^2 + x) = 2x + 1
    expect(Array.from(x.grad!.dataSync())).toEqual([7]);
  });

  it('noGrad records nothing; detach cuts the graph', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => ops.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = ops.mul(x.detach(), x);
    ops.sum(z).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 2]);
  });

  it('backward from a non-scalar with an explicit upstream gradient', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    ops.mul(x, x).backward(tensor([1, 0, -1], [3]));
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 0, -6]);
  });

  it('a scalar chain matches the derivative worked out by hand', () => {
    // f(a, b) = tanh(a*b + b^2); df/da = b(1 - f^2), df/db = (a + 2b)(1 - f^2)
    const a = tensor(0.5, [], { requiresGrad: true });
    const b = tensor(-0.3, [], { requiresGrad: true });
    const f = ops.tanh(ops.add(ops.mul(a, b), ops.mul(b, b)));
    f.backward();
    const fv = Math.tanh(0.5 * -0.3 + 0.09);
    expectClose(a.grad!.dataSync(), [-0.3 * (1 - fv * fv)]);
    expectClose(b.grad!.dataSync(), [(0.5 - 0.6) * (1 - fv * fv)]);
  });

  it('deep graphs do not overflow the stack', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = ops.add(y, 0);
    ops.sum(y).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1]);
  });
});

describe('memory', () => {
  it('the live-buffer count returns to its start after a forward+backward step in tidy', () => {
    const rng = new Rng(5);
    const w1 = randn([8, 16], { rng, requiresGrad: true });
    const b1 = zeros([16], { requiresGrad: true });
    const w2 = randn([16, 4], { rng, requiresGrad: true });
    const x = randn([5, 8], { rng });
    const targets = tensor([0, 1, 2, 3, 0], [5], { dtype: 'i32' });
    const params = [w1, b1, w2];
    const step = () =>
      tidy(() => {
        const hidden = ops.layerNorm(ops.gelu(ops.add(ops.matmul(x, w1), b1)), ops.add(zeros([16]), 1), zeros([16]));
        const logits = ops.dropout(ops.matmul(ops.softmax(hidden, -1), w2), 0.1, true, 3);
        const loss = ops.crossEntropy(logits, targets);
        loss.backward();
        return null;
      });
    step(); // first step creates the .grad buffers
    for (const p of params) p.zeroGrad();
    const start = cpuBackend.liveBuffers();
    for (let i = 0; i < 3; i++) {
      step();
      for (const p of params) p.zeroGrad();
    }
    expect(cpuBackend.liveBuffers()).toBe(start);
  });

  it('tidy keeps what it returns and frees the rest, even on an exception', () => {
    const start = cpuBackend.liveBuffers();
    const kept = tidy(() => ops.exp(ops.add(tensor([1, 2], [2]), 1)));
    expect(cpuBackend.liveBuffers()).toBe(start + 1);
    kept.dispose();
    expect(() => tidy(() => { ops.exp(tensor([1], [1])); throw new Error('boom'); })).toThrow('boom');
    expect(cpuBackend.liveBuffers()).toBe(start);
  });
});
