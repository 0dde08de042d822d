// The semi-Markov CRF kernels of the Backend interface (semiCrfForward, semiCrfBackward,
// semiCrfViterbi) against brute-force enumeration of every segmentation, on every backend.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { SemiCrfInputs, SemiCrfShape, Storage } from '../../src/backend/backend.js';
import { backends, expectClose } from './brute-force.js';
import { segmentationScore, segmentsFromCodes, semiCase, semiMask, semiReference, type SemiCase } from './semi-brute-force.js';

const RUNS = { numRuns: 60 };

describe.each(backends.map((b) => [b.name, b] as const))('semi-Markov CRF kernels on %s', (_name, backend) => {
  async function withCase<T>(c: SemiCase, fn: (inputs: SemiCrfInputs, shape: SemiCrfShape, track: (...s: Storage[]) => void) => Promise<T>): Promise<T> {
    const before = backend.liveBuffers();
    const up = (a: Float32Array) => backend.fromArray(a);
    const inputs: SemiCrfInputs = { emissions: up(c.emissions), mask: up(semiMask(c)), transitions: up(c.transitions), start: up(c.start), end: up(c.end), lengthScores: up(c.lengthScores) };
    const owned: Storage[] = Object.values(inputs);
    try {
      return await fn(inputs, { batch: c.B, steps: c.T, labels: c.K, maxLength: c.L }, (...s) => owned.push(...s));
    } finally {
      for (const s of owned) backend.free(s);
      expect(backend.liveBuffers()).toBe(before);
    }
  }

  it('forward: logZ is the log-sum over all segmentations; alpha over the prefixes ending in each label', async () => {
    await fc.assert(
      fc.asyncProperty(semiCase(), (c) =>
        withCase(c, async (inputs, shape, track) => {
          const { logZ, alpha } = backend.semiCrfForward(inputs, shape);
          track(logZ, alpha);
          const r = semiReference(c);
          expectClose('logZ', await backend.read(logZ), r.logZ, 1e-5);
          const alphaValues = await backend.read(alpha);
          for (let i = 0; i < r.alpha.length; i++) {
            if (r.alpha[i] === -Infinity) expect(alphaValues[i]).toBe(-Infinity);
            else expectClose(`alpha[${i}]`, [alphaValues[i]!], [r.alpha[i]!], 1e-5);
          }
        }),
      ),
      RUNS,
    );
  });

  it('backward: every gradient is the expected feature count, weighted by dlogZ', async () => {
    await fc.assert(
      fc.asyncProperty(semiCase(), (c) =>
        withCase(c, async (inputs, shape, track) => {
          const { logZ, alpha } = backend.semiCrfForward(inputs, shape);
          const dlogZ = backend.fromArray(c.weights);
          const d = backend.semiCrfBackward(inputs, alpha, dlogZ, shape);
          track(logZ, alpha, dlogZ, d.dEmissions, d.dTransitions, d.dStart, d.dEnd, d.dLengths);
          const r = semiReference(c);
          expectClose('dEmissions', await backend.read(d.dEmissions), r.dEmissions);
          expectClose('dTransitions', await backend.read(d.dTransitions), r.dTransitions);
          expectClose('dStart', await backend.read(d.dStart), r.dStart);
          expectClose('dEnd', await backend.read(d.dEnd), r.dEnd);
          expectClose('dLengths', await backend.read(d.dLengths), r.dLengths);
        }),
      ),
      RUNS,
    );
  });

  it('viterbi: a segmentation of maximal score, its score, and code 0 past each length', async () => {
    await fc.assert(
      fc.asyncProperty(semiCase(), (c) =>
        withCase(c, async (inputs, shape, track) => {
          const { labels, score } = backend.semiCrfViterbi(inputs, shape);
          track(labels, score);
          const [codes, scores] = [await backend.read(labels), await backend.read(score)];
          expect(codes).toBeInstanceOf(Int32Array);
          const r = semiReference(c);
          for (let b = 0; b < c.B; b++) {
            const n = c.lengths[b]!;
            const row = codes.subarray(b * c.T, (b + 1) * c.T);
            expect(Array.from(row.subarray(n))).toEqual(new Array(c.T - n).fill(0));
            const segments = segmentsFromCodes(row, n, c.K);
            expect(segments.every((s) => s.end - s.start <= c.L)).toBe(true);
            expectClose(`score of the decoded segmentation of ${b}`, [segmentationScore(c, b, segments)], [r.best[b]!.score], 1e-5);
            expectClose(`reported score of ${b}`, [scores[b]!], [r.best[b]!.score], 1e-5);
          }
        }),
      ),
      RUNS,
    );
  });

  it('stays finite with length penalties of -1e4 (a label limited to one-token segments)', async () => {
    // Label 0 ("O") may only form one-token segments: its lengths 2 and 3 carry the penalty.
    const c: SemiCase = {
      B: 1, T: 3, K: 2, L: 3, lengths: [3], weights: Float32Array.of(1),
      emissions: Float32Array.of(5, 0, 5, 0, 5, 0),
      transitions: new Float32Array(4), start: new Float32Array(2), end: new Float32Array(2),
      lengthScores: Float32Array.of(0, -1e4, -1e4, -20, -20, -20),
    };
    await withCase(c, async (inputs, shape, track) => {
      const { logZ, alpha } = backend.semiCrfForward(inputs, shape);
      const dlogZ = backend.fromArray(c.weights);
      const d = backend.semiCrfBackward(inputs, alpha, dlogZ, shape);
      const v = backend.semiCrfViterbi(inputs, shape);
      track(logZ, alpha, dlogZ, d.dEmissions, d.dTransitions, d.dStart, d.dEnd, d.dLengths, v.labels, v.score);
      const r = semiReference(c);
      expectClose('logZ', await backend.read(logZ), r.logZ, 1e-5);
      expectClose('dLengths', await backend.read(d.dLengths), r.dLengths, 1e-5);
      expect(Array.from(await backend.read(v.labels))).toEqual([0, 0, 0]);
    });
  });
});

describe('semi-Markov CRF kernels: WebGPU agrees with the CPU on long sequences (the rings wrap)', () => {
  it('T = 40, K = 5, L = 16, ragged lengths', async () => {
    const [cpu, gpu] = backends;
    if (backends.length < 2) throw new Error('the WebGPU backend is missing');
    const [B, T, K, L] = [3, 40, 5, 16];
    let seed = 7;
    const random = (n: number, range: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * range);
    const lengths = [40, 23, 1];
    const arrays = {
      emissions: random(B * T * K, 3), mask: Float32Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)]! ? 1 : 0)),
      transitions: random(K * K, 2), start: random(K, 2), end: random(K, 2), lengthScores: random(K * L, 2),
    };
    const shape = { batch: B, steps: T, labels: K, maxLength: L };
    const run = async (backend: typeof cpu) => {
      const inputs = Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, backend!.fromArray(v)])) as unknown as SemiCrfInputs;
      const f = backend!.semiCrfForward(inputs, shape);
      const dlogZ = backend!.fromArray(Float32Array.of(1, -0.5, 2));
      const d = backend!.semiCrfBackward(inputs, f.alpha, dlogZ, shape);
      const v = backend!.semiCrfViterbi(inputs, shape);
      const all = [f.logZ, d.dEmissions, d.dTransitions, d.dStart, d.dEnd, d.dLengths, v.score];
      const values = await Promise.all(all.map((s) => backend!.read(s)));
      for (const s of [...Object.values(inputs), f.logZ, f.alpha, dlogZ, ...Object.values(d), v.labels, v.score]) backend!.free(s);
      return values;
    };
    const [onCpu, onGpu] = [await run(cpu), await run(gpu)];
    const names = ['logZ', 'dEmissions', 'dTransitions', 'dStart', 'dEnd', 'dLengths', 'viterbi score'];
    onCpu.forEach((expected, i) => expectClose(names[i]!, onGpu[i]!, expected, 2e-4));
  });
});
