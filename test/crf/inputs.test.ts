// What the CRF accepts and how it refuses bad input: every error says what was wrong and where.
// Input checks run on the host, independent of the backend, so this suite runs on the CPU.

import { describe, expect, it } from 'vitest';
import { tensor, zeros } from '../../src/index.js';
import { CRF, crfLogPartition } from '../../src/crf/index.js';
import { read } from './brute-force.js';

const crf = new CRF(4);
const emissions = tensor(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i)), [2, 3, 4]);
const mask = [[1, 1, 1], [1, 1, 0]];
const tags = [[0, 1, 2], [3, 2, 0]];

describe('CRF inputs', () => {
  it('takes tags, masks and allowed tags as tensors or as nested arrays, with the same result', async () => {
    const allowed = [[[1, 1, 0, 0], [0, 1, 0, 0], [1, 1, 1, 1]], [[0, 0, 0, 1], [1, 0, 1, 0], [0, 0, 0, 0]]];
    const r = await read(() => ({
      arrays: crf.nll(emissions, tags, mask, { reduction: 'none' }),
      tensors: crf.nll(emissions, tensor(tags.flat(), [2, 3], { dtype: 'i32' }), tensor(mask.flat(), [2, 3]), { reduction: 'none' }),
      partialArrays: crf.nll(emissions, allowed, mask, { reduction: 'none' }),
      partialTensor: crf.nll(emissions, tensor(allowed.flat(2), [2, 3, 4]), tensor(mask.flat(), [2, 3]), { reduction: 'none' }),
      noMask: crf.logPartition(emissions),
      allOnes: crf.logPartition(emissions, [[1, 1, 1], [1, 1, 1]]),
    }));
    expect(Array.from(r.tensors)).toEqual(Array.from(r.arrays));
    expect(Array.from(r.partialTensor)).toEqual(Array.from(r.partialArrays));
    expect(Array.from(r.noMask)).toEqual(Array.from(r.allOnes));
    expect(r.arrays.every((v) => v > 0)).toBe(true);
  });

  it('rejects bad emissions', () => {
    expect(() => crf.nll(tensor([1, 2, 3, 4], [1, 4]), [[0]])).toThrow('CRF.nll: emissions must be an f32 tensor [batch, steps, tags] with no empty dimension, got f32 [1, 4]');
    expect(() => crf.logPartition(zeros([2, 0, 4]))).toThrow('CRF.logPartition: emissions must be an f32 tensor [batch, steps, tags] with no empty dimension, got f32 [2, 0, 4]');
    expect(() => crf.marginals(zeros([2, 3, 5]))).toThrow('CRF.marginals: emissions [2, 3, 5] have 5 tags but the CRF has 4');
  });

  it('rejects bad masks, naming the position', async () => {
    expect(() => crf.nll(emissions, tags, [[1, 1, 1], [0, 1, 1]])).toThrow('CRF.nll: mask[1][0] is 0; every sequence must start with an unmasked token');
    expect(() => crf.nll(emissions, tags, [[1, 0, 1], [1, 1, 1]])).toThrow('CRF.nll: mask[0] is not a prefix of ones: mask[0][2] is 1 after mask[0][1] is 0');
    expect(() => crf.nll(emissions, tags, [[1, 0.5, 0], [1, 1, 1]])).toThrow('CRF.nll: mask[0][1] is 0.5; mask values must be 0 or 1');
    expect(() => crf.nll(emissions, tags, [[1, 1, 1], [1, 1]])).toThrow('CRF.nll: mask[1] has length 2; mask must be [2, 3] to match the emissions');
    expect(() => crf.nll(emissions, tags, [[1, 1, 1]])).toThrow('CRF.nll: mask has length 1; mask must be [2, 3] to match the emissions');
    expect(() => crf.logPartition(emissions, tensor([1, 1, 1, 1], [2, 2]))).toThrow('CRF.logPartition: mask has shape [2, 2]; it must be [2, 3] to match the emissions');
    await expect(crf.decode(emissions, [[1, 1, 1], [0, 0, 0]])).rejects.toThrow('CRF.decode: mask[1][0] is 0');
    await expect(crf.kBest(emissions, [[1, 0, 1], [1, 1, 1]], 2)).rejects.toThrow('CRF.kBest: mask[0] is not a prefix of ones');
  });

  it('rejects bad tags on real tokens and ignores padding', () => {
    expect(() => crf.nll(emissions, [[0, 1, 2], [3, 4, 0]], mask)).toThrow('CRF.nll: tags[1][1] is 4, outside the tag range [0, 4)');
    expect(() => crf.nll(emissions, [[0, -1, 2], [3, 2, 0]], mask)).toThrow('CRF.nll: tags[0][1] is -1, outside the tag range [0, 4)');
    expect(() => crf.nll(emissions, [[0, 1.5, 2], [3, 2, 0]], mask)).toThrow('CRF.nll: tags[0][1] is 1.5, outside the tag range [0, 4)');
    expect(() => crf.nll(emissions, [[0, 1], [3, 2]], mask)).toThrow('CRF.nll: tags[0] has length 2; tags must be [2, 3] to match the emissions');
    expect(() => crf.nll(emissions, tensor([0, 1, 2, 3, 2, 1], [6], { dtype: 'i32' }), mask)).toThrow('CRF.nll: tags must be [batch, steps] (or allowed tags [batch, steps, tags]), got [6]');
    expect(() => crf.nll(emissions, [[0, 1, 2], [3, 2, 99]], mask)).not.toThrow(); // tags[1][2] is padding
  });

  it('rejects allowed-tag masks that allow nothing or are not 0/1', () => {
    const allowAll = () => [0, 1, 2].map(() => [1, 1, 1, 1]);
    expect(() => crf.nll(emissions, [allowAll(), [[1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]]], mask)).toThrow('CRF.nll: allowed tags[1][1] allows no tag; every real token needs at least one');
    expect(() => crf.nll(emissions, [allowAll(), [[1, 1, 1, 1], [2, 0, 0, 0], [1, 1, 1, 1]]], mask)).toThrow('CRF.nll: allowed tags[1][1][0] is 2; values must be 0 or 1');
    expect(() => crf.nll(emissions, [allowAll(), [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]]], mask)).not.toThrow(); // padding
    expect(() => crf.nll(emissions, [allowAll(), [[1, 1, 1], [1, 1, 1], [1, 1, 1]]], mask)).toThrow('CRF.nll: allowed tags[1][0] has length 3; allowed tags must be [2, 3, 4] to match the emissions');
  });

  it('rejects bad options', async () => {
    expect(() => crf.nll(emissions, tags, mask, { reduction: 'avg' as 'mean' })).toThrow("CRF.nll: reduction must be 'mean', 'sum' or 'none', got 'avg'");
    await expect(crf.kBest(emissions, mask, 0)).rejects.toThrow('CRF.kBest: k must be a positive integer, got 0');
    expect(() => new CRF(0)).toThrow('CRF: numTags must be a positive integer, got 0');
    expect(() => new CRF(3, { constraints: { mode: 'decode', labels: ['O', 'B-X'], scheme: 'BIO' } })).toThrow('CRF.setConstraints: 2 labels for a CRF with 3 tags');
    expect(() => new CRF(2, { constraints: { mode: 'train' as 'decode', labels: ['O', 'B-X'], scheme: 'BIO' } })).toThrow("CRF.setConstraints: mode must be 'decode' or 'train+decode', got 'train'");
    expect(() => new CRF(2, { constraints: { mode: 'decode', allowed: { start: [1, 1], end: [1], transitions: [[1, 1], [1, 1]] } } })).toThrow('CRF.setConstraints: allowed start, end must have 2 entries and transitions 2x2');
  });

  it('crfLogPartition names the mismatched argument and the shapes', () => {
    const e = zeros([1, 2, 4]);
    expect(() => crfLogPartition(e, zeros([1, 2]), zeros([3, 3]), zeros([4]), zeros([4]))).toThrow('crfLogPartition: transitions has shape [3, 3]; emissions [1, 2, 4] need [4, 4]');
    expect(() => crfLogPartition(e, zeros([2, 2]), zeros([4, 4]), zeros([4]), zeros([4]))).toThrow('crfLogPartition: mask has shape [2, 2]; emissions [1, 2, 4] need [1, 2]');
    expect(() => crfLogPartition(e, zeros([1, 2]), zeros([4, 4]), zeros([4]), zeros([1, 4]))).toThrow('crfLogPartition: end has shape [1, 4]; emissions [1, 2, 4] need [4]');
  });
});
