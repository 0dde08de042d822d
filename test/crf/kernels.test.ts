// The three CRF kernels of the Backend interface (crfForward, crfBackward, viterbi)
// against brute-force enumeration of every tag path. Any backend's kernels must pass.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Storage } from '../../src/backend/backend.js';
import { crfBackward, crfBackwardLogSpace, crfForward, crfForwardLogSpace } from '../../src/backend/cpu/crf.js';
import { allPaths, backends, bruteLogZ, crfCase, expectClose, finiteDifferences, maskOf, pathScore, rankedPaths, scoresOf, type CrfCase } from './brute-force.js';

const RUNS = { numRuns: 100 };

describe.each(backends.map((b) => [b.name, b] as const))('CRF kernels on %s', (_name, backend) => {
  /** Upload a case, run fn on its buffers, free them all (a leak fails the test). */
  async function withCase<T>(c: CrfCase, fn: (buffers: Storage[], shape: { batch: number; steps: number; tags: number }, track: (...s: Storage[]) => void) => Promise<T>): Promise<T> {
    const before = backend.liveBuffers();
    const owned: Storage[] = [c.emissions, maskOf(c), c.transitions, c.start, c.end].map((a) => backend.fromArray(a));
    try {
      return await fn(owned.slice(), { batch: c.B, steps: c.T, tags: c.C }, (...s) => owned.push(...s));
    } finally {
      for (const s of owned) backend.free(s);
      expect(backend.liveBuffers()).toBe(before);
    }
  }

  it('crfForward: logZ is the log-sum over all paths; alpha sums the prefixes and carries past the length', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), (c) =>
        withCase(c, async ([e, m, tr, st, en], shape, track) => {
          const { logZ, alpha } = backend.crfForward(e!, m!, tr!, st!, en!, shape);
          track(logZ, alpha);
          const s = scoresOf(c);
          expectClose('logZ', await backend.read(logZ), c.lengths.map((_, b) => bruteLogZ(c, s, b)), 1e-5);
          const expectedAlpha = new Float64Array(c.B * c.T * c.C);
          for (let b = 0; b < c.B; b++) {
            for (let t = 0; t < c.T; t++) {
              const steps = Math.min(t + 1, c.lengths[b]!);
              for (let j = 0; j < c.C; j++) {
                const prefixes = allPaths(steps, c.C).filter((p) => p[steps - 1] === j);
                const scores = prefixes.map((p) => pathScore(c, s, b, p) - s.end[j]!);
                expectedAlpha[(b * c.T + t) * c.C + j] = Math.log(scores.reduce((acc, v) => acc + Math.exp(v), 0));
              }
            }
          }
          expectClose('alpha', await backend.read(alpha), expectedAlpha, 1e-5);
        }),
      ),
      RUNS,
    );
  });

  it('crfBackward: the marginal-based gradient of sum_b dlogZ[b] logZ[b] matches float64 finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), (c) =>
        withCase(c, async ([e, m, tr, st, en], shape, track) => {
          const { logZ, alpha } = backend.crfForward(e!, m!, tr!, st!, en!, shape);
          const dlogZ = backend.fromArray(c.weights);
          const d = backend.crfBackward(e!, m!, tr!, st!, en!, alpha, dlogZ, shape);
          track(logZ, alpha, dlogZ, d.dEmissions, d.dTransitions, d.dStart, d.dEnd);
          const expected = finiteDifferences(c, (s) => c.lengths.reduce((acc, _, b) => acc + c.weights[b]! * bruteLogZ(c, s, b), 0));
          expectClose('dEmissions', await backend.read(d.dEmissions), expected.emissions);
          expectClose('dTransitions', await backend.read(d.dTransitions), expected.transitions);
          expectClose('dStart', await backend.read(d.dStart), expected.start);
          expectClose('dEnd', await backend.read(d.dEnd), expected.end);
        }),
      ),
      RUNS,
    );
  });

  it('viterbi: a path of maximal score, its score, and tag 0 past each length', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), (c) =>
        withCase(c, async ([e, m, tr, st, en], shape, track) => {
          const { tags, score } = backend.viterbi(e!, m!, tr!, st!, en!, shape);
          track(tags, score);
          const [tagValues, scoreValues] = [await backend.read(tags), await backend.read(score)];
          expect(tagValues).toBeInstanceOf(Int32Array);
          for (let b = 0; b < c.B; b++) {
            const row = Array.from(tagValues.subarray(b * c.T, (b + 1) * c.T));
            const length = c.lengths[b]!;
            expect(row.slice(length)).toEqual(new Array(c.T - length).fill(0));
            const best = rankedPaths(c, b)[0]!.score;
            // Compare scores, not paths: two paths may tie.
            expectClose(`score of the path of sequence ${b}`, [pathScore(c, scoresOf(c), b, row.slice(0, length))], [best], 1e-5);
            expectClose(`reported score of sequence ${b}`, [scoreValues[b]!], [best], 1e-5);
          }
        }),
      ),
      RUNS,
    );
  });

  it('stays finite with constraint penalties of -1e4 (no NaN from -inf - -inf)', async () => {
    const c: CrfCase = {
      B: 1, T: 3, C: 2, lengths: [3], weights: Float32Array.of(1),
      emissions: Float32Array.of(0.5, -0.5, 0.1, 0.2, -0.3, 0.4),
      transitions: Float32Array.of(-1e4, -1e4, -1e4, 0), // only 1 -> 1 allowed
      start: Float32Array.of(-1e4, 0),
      end: Float32Array.of(0, 0),
    };
    await withCase(c, async ([e, m, tr, st, en], shape, track) => {
      const { logZ, alpha } = backend.crfForward(e!, m!, tr!, st!, en!, shape);
      const dlogZ = backend.fromArray(c.weights);
      const d = backend.crfBackward(e!, m!, tr!, st!, en!, alpha, dlogZ, shape);
      track(logZ, alpha, dlogZ, d.dEmissions, d.dTransitions, d.dStart, d.dEnd);
      // The only allowed path is 1,1,1.
      expectClose('logZ', await backend.read(logZ), [-0.5 + 0.2 + 0.4], 1e-5);
      expectClose('dEmissions', await backend.read(d.dEmissions), [0, 1, 0, 1, 0, 1], 1e-6);
      expectClose('dTransitions', await backend.read(d.dTransitions), [0, 0, 0, 2], 1e-6);
    });
  });
});

describe('CPU CRF kernels: the probability-space forward-backward (C^2 multiply-adds per step) equals the log-space one (C^2 exps)', () => {
  it('at up to 60 tags, with constraint penalties, large scores and masked tails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.1, max: 30, noNaN: true }), fc.integer(), (B, T, C, scale, seed) => {
        let state = seed >>> 0;
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
        const emissions = Float32Array.from({ length: B * T * C }, random);
        // Some transitions forbidden as constraints do it (-1e4), the rest random.
        const transitions = Float32Array.from({ length: C * C }, (_, k) => (k % 7 === 3 ? -1e4 : random()));
        const start = Float32Array.from({ length: C }, random);
        const end = Float32Array.from({ length: C }, random);
        const mask = new Float32Array(B * T);
        for (let b = 0; b < B; b++) mask.fill(1, b * T, b * T + 1 + (b * 3) % T);
        const dlogZ = Float32Array.from({ length: B }, (_, b) => 1 / (b + 1));
        const shape = { batch: B, steps: T, tags: C };
        const fast = crfForward(emissions, mask, transitions, start, end, shape);
        const slow = crfForwardLogSpace(emissions, mask, transitions, start, end, shape);
        const close = (name: string, a: Float32Array, b: Float32Array) => {
          let worst = { excess: 0, what: '' };
          a.forEach((x, i) => {
            const excess = (x === b[i] ? 0 : Math.abs(x - b[i]!)) - 1e-5 * Math.max(1, Math.abs(b[i]!));
            if (!(excess <= worst.excess)) worst = { excess, what: `${name}[${i}]: ${x} vs ${b[i]}` };
          });
          expect(worst.excess, worst.what).toBeLessThanOrEqual(0);
        };
        close('logZ', fast.logZ, slow.logZ);
        close('alpha', fast.alpha, slow.alpha);
        const dFast = crfBackward(emissions, mask, transitions, start, end, slow.alpha, dlogZ, shape);
        const dSlow = crfBackwardLogSpace(emissions, mask, transitions, start, end, slow.alpha, dlogZ, shape);
        for (const key of ['dEmissions', 'dTransitions', 'dStart', 'dEnd'] as const) close(key, dFast[key], dSlow[key]);
      }),
      { numRuns: 100 },
    );
  });
});
