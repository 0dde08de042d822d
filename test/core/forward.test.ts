// Forward values on hand-computed cases, tensor creation, and error messages.

import { describe, expect, it } from 'vitest';
import { Rng, arange, full, manualSeed, ones, ops, rand, randn, tensor, zeros } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

describe('creation', () => {
  it('zeros, ones, full, arange, fromArray', async () => {
    expect(Array.from(await zeros([2, 2]).data())).toEqual([0, 0, 0, 0]);
    expect(Array.from(await ones([3]).data())).toEqual([1, 1, 1]);
    expect(Array.from(await full([2], 7).data())).toEqual([7, 7]);
    expect(Array.from(await arange(1, 7, 2).data())).toEqual([1, 3, 5]);
    expect(await tensor([1, 2, 3, 4, 5, 6], [2, 3]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor([1, 2], [2], { dtype: 'i32' }).dtype).toBe('i32');
    expect(await tensor(3.5).item()).toBe(3.5);
  });

  it('rand and randn are reproducible from a seed', () => {
    manualSeed(42);
    const a = randn([100]).dataSync();
    manualSeed(42);
    const b = randn([100]).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const r = rand([1000], { rng: new Rng(7) }).dataSync();
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r)).toBeLessThan(1);
    const n = Array.from(randn([20000], { rng: new Rng(3) }).dataSync());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const variance = n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('hand-computed forward values', () => {
  it('broadcasting add of [2,1] and [3]', () => {
    expect(Array.from(ops.add(tensor([10, 20], [2, 1]), tensor([1, 2, 3])).dataSync())).toEqual([11, 12, 13, 21, 22, 23]);
  });

  it('matmul, plain and transposed', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    expect(Array.from(ops.matmul(a, b).dataSync())).toEqual([58, 64, 139, 154]);
    expect(Array.from(ops.matmul(a, a, { transB: true }).dataSync())).toEqual([14, 32, 32, 77]);
    expect(Array.from(ops.matmul(a, a, { transA: true }).dataSync())).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
  });

  it('matmul on odd sizes matches the naive triple loop', () => {
    const rng = new Rng(1);
    for (const [m, k, n] of [[5, 7, 3], [1, 9, 6], [13, 4, 17]] as const) {
      const a = Float32Array.from({ length: m * k }, () => rng.normal());
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      const expected = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) expected[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
      expectClose(ops.matmul(tensor(a, [m, k]), tensor(b, [k, n])).dataSync(), expected, 1e-5);
    }
  });

  it('softmax, log_softmax and logsumexp are stable for large logits', () => {
    expectClose(ops.softmax(tensor([1, 2, 3])).dataSync(), [0.09003057, 0.24472847, 0.66524096]);
    expectClose(ops.logSoftmax(tensor([1000, 1000])).dataSync(), [-Math.LN2, -Math.LN2]);
    expectClose(ops.logsumexp(tensor([1000, 1000]), 0).dataSync(), [1000 + Math.LN2]);
    expectClose(ops.logsumexp(tensor([-1000, -1000]), 0).dataSync(), [-1000 + Math.LN2]);
  });

  it('gelu is the erf form (BERT), not the tanh approximation', () => {
    // torch.nn.functional.gelu(torch.tensor([-1., 0.5, 1., 3.]))
    expectClose(ops.gelu(tensor([-1, 0.5, 1, 3])).dataSync(), [-0.15865525, 0.34573123, 0.8413447, 2.9959502], 1e-6);
  });

  it('sum, mean, max over axes', () => {
    const x = tensor([1, 5, 3, 4, 2, 6], [2, 3]);
    expect(Array.from(ops.sum(x, 0).dataSync())).toEqual([5, 7, 9]);
    expect(ops.sum(x, 1, true).shape).toEqual([2, 1]);
    expect(Array.from(ops.mean(x, 1).dataSync())).toEqual([3, 4]);
    expect(Array.from(ops.max(x, [0, 1]).dataSync())).toEqual([6]);
    expect(Array.from(ops.argmax(x, 1).dataSync())).toEqual([1, 2]);
  });

  it('layer_norm normalises each row', () => {
    const y = ops.layerNorm(tensor([1, 2, 3, 4], [1, 4]), ones([4]), zeros([4]), 0).dataSync();
    const s = Math.sqrt(1.25);
    expectClose(y, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
  });

  it('cross-entropy: mean over non-ignored rows, class weights as PyTorch', () => {
    const logits = tensor([2, 1, 0, 0, 0, 0, 1, 3, 2], [3, 3]);
    const targets = tensor([0, -100, 2], [3], { dtype: 'i32' });
    const lse = (v: number[]) => Math.log(v.reduce((s, x) => s + Math.exp(x), 0));
    const l0 = lse([2, 1, 0]) - 2;
    const l2 = lse([1, 3, 2]) - 2;
    expectClose(ops.crossEntropy(logits, targets).dataSync(), [(l0 + l2) / 2]);
    const weight = tensor([1, 1, 3]);
    expectClose(ops.crossEntropy(logits, targets, { weight }).dataSync(), [(l0 + 3 * l2) / 4]);
  });

  it('dropout keeps about 1-p, scales by 1/(1-p), and is the identity in eval', () => {
    const x = ones([10000]);
    const y = ops.dropout(x, 0.3, true, 99).dataSync();
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / 10000 - 0.7)).toBeLessThan(0.02);
    expectClose([kept[0]!], [1 / 0.7]);
    expect(Array.from(ops.dropout(x, 0.3, true, 99).dataSync())).toEqual(Array.from(y));
    expect(ops.dropout(x, 0.3, false)).toBe(x);
  });

  it('views share storage; permute, slice, concat copy', () => {
    const x = arange(6).reshape([2, 3]);
    expect(x.reshape([3, 2]).storage).toBe(x.storage);
    expect(Array.from(ops.transpose(x).dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(ops.slice(x, 1, 1).dataSync())).toEqual([1, 2, 4, 5]);
    expect(Array.from(ops.slice(x, 1, -1).dataSync())).toEqual([2, 5]);
    expect(Array.from(ops.concat([x, x], 0).dataSync())).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(ops.stack([x, x], 1).shape).toEqual([2, 2, 3]);
    expect(Array.from(ops.indexSelect(x, 1, tensor([2, 0], [2], { dtype: 'i32' })).dataSync())).toEqual([2, 0, 5, 3]);
  });
});

describe('errors name the op and the shapes', () => {
  it('shape mismatches', () => {
    expect(() => ops.add(zeros([2, 3]), zeros([4]))).toThrow('add: shapes [2, 3] and [4] cannot be broadcast together');
    expect(() => ops.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow('matmul: inner dimensions differ: [2, 3] x [4, 5] (3 vs 4)');
    expect(() => zeros([2, 3]).reshape([4])).toThrow('reshape: cannot reshape [2, 3] (6 elements) to [4]');
    expect(() => ops.concat([zeros([2, 3]), zeros([3, 3])], 1)).toThrow('concat: shapes [2, 3], [3, 3] differ outside axis 1');
    expect(() => ops.layerNorm(zeros([2, 3]), ones([4]), zeros([4]))).toThrow('layerNorm: gamma [4] and beta [4] must have the last dim of x [2, 3]');
  });

  it('bad axes', () => {
    expect(() => ops.sum(zeros([2, 3]), 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => ops.softmax(zeros([2]), -2)).toThrow('softmax: axis -2 is out of range for a tensor of rank 1');
    expect(() => ops.permute(zeros([2, 3]), [0, 0])).toThrow('permute: [0,0] is not a permutation of the axes of [2, 3]');
    expect(() => ops.slice(zeros([2, 3]), 1, 2, 5)).toThrow('slice: range [2, 5) is outside axis 1 of size 3 in [2, 3]');
  });

  it('bad indices and dtypes', () => {
    expect(() => ops.indexSelect(zeros([3, 2]), 0, tensor([3], [1], { dtype: 'i32' }))).toThrow('indexSelect: index 3 at position 0 is outside [0, 3)');
    expect(() => ops.crossEntropy(zeros([2, 3]), tensor([0, 5], [2], { dtype: 'i32' }))).toThrow('crossEntropy: target 5 at row 1 is outside [0, 3)');
    expect(() => ops.exp(tensor([1], [1], { dtype: 'i32' }))).toThrow('exp: expected an f32 tensor, got i32 [1]');
  });

  it('non-scalar backward needs an upstream gradient; disposed tensors say so', () => {
    const x = ones([2], { requiresGrad: true });
    expect(() => ops.mul(x, 2).backward()).toThrow('backward: output has shape [2]; pass an explicit upstream gradient for a non-scalar');
    const y = ones([2]);
    y.dispose();
    expect(() => ops.exp(y)).toThrow('was used after dispose()');
  });
});

