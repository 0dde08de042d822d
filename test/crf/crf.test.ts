// The CRF layer against brute-force enumeration: log-partition, NLL and every gradient
// (forward-backward vs autodiff vs float64 finite differences), Viterbi, k-best, marginals.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng, tensor, tidy, zeros, type Tensor } from '../../src/index.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { CRF, crfLogPartition, logPartitionAutodiff } from '../../src/crf/index.js';
import { backends, bruteLogZ, bruteMarginals, crfCase, expectClose, finiteDifferences, maskOf, maskRows, pathScore, rankedPaths, read, scoresOf, type CrfCase } from './brute-force.js';

const RUNS = { numRuns: 60 };

/** A CRF holding the case's scores. */
function crfFor(c: CrfCase): CRF {
  const crf = new CRF(c.C);
  crf.loadStateDict(new Map([['transitions', tensor(c.transitions, [c.C, c.C])], ['start_transitions', tensor(c.start, [c.C])], ['end_transitions', tensor(c.end, [c.C])]]));
  return crf;
}

/** Gold tags, with -100 on padding (which the CRF must ignore). */
const withTags = crfCase().chain((c) =>
  fc.record({ c: fc.constant(c), tags: fc.array(fc.integer({ min: 0, max: c.C - 1 }), { minLength: c.B * c.T, maxLength: c.B * c.T }) }).map(({ c, tags }) => ({
    c,
    tags: c.lengths.map((length, b) => tags.slice(b * c.T, (b + 1) * c.T).map((tag, t) => (t < length ? tag : -100))),
  })),
);

describe.each(backends.map((b) => [b.name, b] as const))('CRF layer on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  it('crfLogPartition: value = brute force; explicit backward = autograd of logPartitionAutodiff', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), async (c) => {
        const run = (f: typeof crfLogPartition) =>
          read(() => {
            const e = tensor(c.emissions, [c.B, c.T, c.C], { requiresGrad: true });
            const tr = tensor(c.transitions, [c.C, c.C], { requiresGrad: true });
            const st = tensor(c.start, [c.C], { requiresGrad: true });
            const en = tensor(c.end, [c.C], { requiresGrad: true });
            const logZ = f(e, tensor(maskOf(c), [c.B, c.T]), tr, st, en);
            logZ.backward(tensor(c.weights, [c.B]));
            // With one step autograd never reaches transitions: no gradient means zero.
            const grad = (t: Tensor) => t.grad ?? zeros(t.shape);
            return { logZ, dE: grad(e), dTr: grad(tr), dSt: grad(st), dEn: grad(en) };
          });
        const [kernel, autodiff] = [await run(crfLogPartition), await run(logPartitionAutodiff)];
        expectClose('logZ', kernel.logZ, c.lengths.map((_, b) => bruteLogZ(c, scoresOf(c), b)), 1e-5);
        expectClose('autodiff logZ', autodiff.logZ, kernel.logZ, 1e-5);
        for (const key of ['dE', 'dTr', 'dSt', 'dEn'] as const) expectClose(key, kernel[key], autodiff[key], 1e-4);
      }),
      RUNS,
    );
  });

  it('nll = logZ - gold score for every reduction; its gradients match float64 finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(withTags, async ({ c, tags }) => {
        const crf = crfFor(c);
        const golds = tags.map((row, b) => row.slice(0, c.lengths[b]));
        const bruteNll = (s: ReturnType<typeof scoresOf>, b: number) => bruteLogZ(c, s, b) - pathScore(c, s, b, golds[b]!);
        const expected = golds.map((_, b) => bruteNll(scoresOf(c), b));
        const r = await read(() => {
          const e = tensor(c.emissions, [c.B, c.T, c.C], { requiresGrad: true });
          const none = crf.nll(e, tags, maskRows(c), { reduction: 'none' });
          none.backward(tensor(c.weights, [c.B]));
          return {
            none, dE: e.grad!, dTr: crf.transitions.grad!, dSt: crf.startTransitions.grad!, dEn: crf.endTransitions.grad!,
            sum: crf.nll(e, tags, maskRows(c), { reduction: 'sum' }),
            mean: crf.nll(e, tags, maskRows(c)),
          };
        });
        crf.dispose();
        expectClose('nll none', r.none, expected, 1e-5);
        expectClose('nll sum', r.sum, [expected.reduce((a, v) => a + v, 0)], 1e-5);
        expectClose('nll mean', r.mean, [expected.reduce((a, v) => a + v, 0) / c.B], 1e-5);
        const fd = finiteDifferences(c, (s) => golds.reduce((acc, _, b) => acc + c.weights[b]! * bruteNll(s, b), 0));
        expectClose('dEmissions', r.dE, fd.emissions);
        expectClose('dTransitions', r.dTr, fd.transitions);
        expectClose('dStart', r.dSt, fd.start);
        expectClose('dEnd', r.dEn, fd.end);
      }),
      RUNS,
    );
  });

  it('decode: paths trimmed to each length, of maximal score, with that score', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), async (c) => {
        const crf = crfFor(c);
        const emissions = tensor(c.emissions, [c.B, c.T, c.C]);
        const { paths, scores } = await crf.decode(emissions, maskRows(c));
        emissions.dispose();
        crf.dispose();
        expect(paths.map((p) => p.length)).toEqual(c.lengths);
        paths.forEach((path, b) => {
          const best = rankedPaths(c, b)[0]!.score;
          expectClose(`score of path ${b}`, [pathScore(c, scoresOf(c), b, path), scores[b]!], [best, best], 1e-5);
        });
      }),
      RUNS,
    );
  });

  it('kBest: the k best scores of the enumeration, best first, distinct paths scored correctly', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), fc.integer({ min: 1, max: 6 }), async (c, k) => {
        const crf = crfFor(c);
        const emissions = tensor(c.emissions, [c.B, c.T, c.C]);
        const { paths, scores } = await crf.kBest(emissions, maskRows(c), k);
        emissions.dispose();
        crf.dispose();
        for (let b = 0; b < c.B; b++) {
          const ranked = rankedPaths(c, b).slice(0, k);
          expect(paths[b]!.length).toBe(ranked.length);
          expectClose(`scores of sequence ${b}`, scores[b]!, ranked.map((p) => p.score), 1e-5);
          expectClose(`path scores of sequence ${b}`, paths[b]!.map((p) => pathScore(c, scoresOf(c), b, p)), scores[b]!, 1e-5);
          expect(new Set(paths[b]!.map((p) => p.join(','))).size).toBe(ranked.length);
          expect(paths[b]!.every((p) => p.length === c.lengths[b])).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('marginals: per-token posteriors of the enumeration, 0 on padding', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), async (c) => {
        const crf = crfFor(c);
        const { marginals } = await read(() => ({ marginals: crf.marginals(tensor(c.emissions, [c.B, c.T, c.C]), maskRows(c)) }));
        crf.dispose();
        expectClose('marginals', marginals, bruteMarginals(c), 1e-5);
      }),
      RUNS,
    );
  });

  it('a training step inside tidy leaves no buffer behind but the gradients', () => {
    const crf = new CRF(4, { rng: new Rng(3) });
    const before = backend.liveBuffers();
    tidy(() => {
      const emissions = tensor(new Rng(1).shuffle(Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 10)), [2, 3, 4], { requiresGrad: true });
      crf.nll(emissions, [[0, 1, 2], [3, 2, -1]], [[1, 1, 1], [1, 1, 0]]).backward();
      crf.marginals(emissions, [[1, 1, 1], [1, 1, 0]]);
      emissions.zeroGrad();
    });
    expect(backend.liveBuffers()).toBe(before + 3); // the three parameter gradients
    crf.zeroGrad();
    expect(backend.liveBuffers()).toBe(before);
    crf.dispose();
  });
});

describe('CRF parameters', () => {
  it('are named as pytorch-crf and drawn from uniform(-0.1, 0.1) by the given generator', () => {
    const [a, b, c] = [new CRF(5, { rng: new Rng(7) }), new CRF(5, { rng: new Rng(7) }), new CRF(5, { rng: new Rng(8) })];
    expect(a.namedParameters().map(([name, t]) => [name, t.shape])).toEqual([['transitions', [5, 5]], ['start_transitions', [5]], ['end_transitions', [5]]]);
    const values = (crf: CRF) => crf.parameters().flatMap((p) => Array.from(p.dataSync()));
    expect(values(a)).toEqual(values(b));
    expect(values(a)).not.toEqual(values(c));
    expect(values(a).every((v) => v >= -0.1 && v < 0.1)).toBe(true);
    for (const crf of [a, b, c]) crf.dispose();
  });
});
