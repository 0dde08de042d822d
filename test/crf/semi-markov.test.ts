// The semi-Markov CRF layer and its CRF-variant adapter, on every backend: the NLL and all of
// its gradients against enumeration of every segmentation, Viterbi, marginals, and the mapping
// between BIO/BIOES tags and segments.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tensor } from '../../src/index.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { SemiMarkovCRF, SemiMarkovCrfVariant, type Segment } from '../../src/crf/semi-markov.js';
import { createCrf } from '../../src/crf/create.js';
import { backends, expectClose, read } from './brute-force.js';
import { allSegmentations, logSumExp, segmentationScore, semiCase, semiReference, type SemiCase } from './semi-brute-force.js';

const RUNS = { numRuns: 40 };

function layerFor(c: SemiCase): SemiMarkovCRF {
  const crf = new SemiMarkovCRF(c.K, { maxSegmentLength: c.L });
  crf.loadStateDict(new Map([
    ['transitions', tensor(c.transitions, [c.K, c.K])], ['start_transitions', tensor(c.start, [c.K])],
    ['end_transitions', tensor(c.end, [c.K])], ['length_scores', tensor(c.lengthScores, [c.K, c.L])],
  ]));
  return crf;
}

const maskRows = (c: SemiCase) => c.lengths.map((n) => Array.from({ length: c.T }, (_, t) => (t < n ? 1 : 0)));

/** A case and one gold segmentation per sequence (any segmentation of its length). */
const withGold = semiCase().chain((c) =>
  fc.tuple(...c.lengths.map((n) => fc.nat({ max: allSegmentations(n, c.K, c.L).length - 1 }))).map((picks) => ({
    c,
    gold: picks.map((i, b) => allSegmentations(c.lengths[b]!, c.K, c.L)[i]!),
  })),
);

describe.each(backends.map((b) => [b.name, b] as const))('semi-Markov CRF layer on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  it('segmentNll: value and every gradient = enumeration (weights w_b on the per-sequence losses)', async () => {
    await fc.assert(
      fc.asyncProperty(withGold, async ({ c, gold }) => {
        const crf = layerFor(c);
        const r = await read(() => {
          const e = tensor(c.emissions, [c.B, c.T, c.K], { requiresGrad: true });
          const nll = crf.segmentNll(e, gold, maskRows(c), { reduction: 'none' });
          nll.backward(tensor(c.weights, [c.B]));
          return { nll, dE: e.grad, dTr: crf.transitions.grad, dSt: crf.startTransitions.grad, dEn: crf.endTransitions.grad, dLen: crf.lengthScores.grad };
        });
        crf.dispose();
        const ref = semiReference(c);
        expectClose('nll', r.nll, gold.map((g, b) => ref.logZ[b]! - segmentationScore(c, b, g)), 1e-5);
        // d nll = E[counts] - gold counts, weighted.
        const dE = Float64Array.from(ref.dEmissions);
        const dTr = Float64Array.from(ref.dTransitions);
        const dSt = Float64Array.from(ref.dStart);
        const dEn = Float64Array.from(ref.dEnd);
        const dLen = Float64Array.from(ref.dLengths);
        gold.forEach((segments, b) => {
          const w = c.weights[b]!;
          segments.forEach((s, i) => {
            for (let t = s.start; t < s.end; t++) dE[(b * c.T + t) * c.K + s.label] -= w;
            dLen[s.label * c.L + s.end - s.start - 1] -= w;
            if (i > 0) dTr[segments[i - 1]!.label * c.K + s.label] -= w;
          });
          dSt[segments[0]!.label] -= w;
          dEn[segments.at(-1)!.label] -= w;
        });
        expectClose('dEmissions', r.dE, dE);
        expectClose('dTransitions', r.dTr, dTr);
        expectClose('dStart', r.dSt, dSt);
        expectClose('dEnd', r.dEn, dEn);
        expectClose('dLengths', r.dLen, dLen);
      }),
      RUNS,
    );
  });

  it('decodeSegments: the best segmentation; labelMarginals: P(word in a segment of y), summing to 1 per word', async () => {
    await fc.assert(
      fc.asyncProperty(semiCase(), async (c) => {
        const crf = layerFor(c);
        const emissions = tensor(c.emissions, [c.B, c.T, c.K]);
        const { segments, scores } = await crf.decodeSegments(emissions, maskRows(c));
        const marginals = Float32Array.from(await crf.labelMarginals(emissions, maskRows(c)).data());
        emissions.dispose();
        crf.dispose();
        const ref = semiReference({ ...c, weights: new Float32Array(c.B).fill(1) });
        for (let b = 0; b < c.B; b++) {
          expectClose(`score ${b}`, [segmentationScore(c, b, segments[b]!)], [ref.best[b]!.score], 1e-5);
          expectClose(`reported score ${b}`, [scores[b]!], [ref.best[b]!.score], 1e-5);
        }
        expectClose('marginals', marginals, ref.dEmissions, 1e-4);
      }),
      RUNS,
    );
  });
});

describe('semi-Markov CRF variant: tags <-> segments', () => {
  const bio = ['O', 'B-Disease', 'I-Disease', 'B-Chemical', 'I-Chemical'];
  const id = (labels: string[], tags: string[]) => tags.map((t) => labels.indexOf(t));

  it('maps BIO tags to segments (O words one by one) and back', () => {
    const v = new SemiMarkovCrfVariant(bio, 'BIO', { maxSegmentLength: 4 });
    expect(v.segmentLabels).toEqual(['O', 'Disease', 'Chemical']);
    expect(v.numScores).toBe(3);
    const tags = id(bio, ['O', 'B-Disease', 'I-Disease', 'B-Disease', 'O', 'O', 'I-Chemical', 'I-Chemical']);
    const segments = v.segmentsOf(tags, tags.length);
    expect(segments).toEqual<Segment[]>([
      { start: 0, end: 1, label: 0 }, { start: 1, end: 3, label: 1 }, { start: 3, end: 4, label: 1 },
      { start: 4, end: 5, label: 0 }, { start: 5, end: 6, label: 0 }, { start: 6, end: 8, label: 2 },
    ]);
    // A stray I- starts an entity (seqeval's lenient reading); it comes back as B-.
    expect(v.tagsOf(segments)).toEqual(id(bio, ['O', 'B-Disease', 'I-Disease', 'B-Disease', 'O', 'O', 'B-Chemical', 'I-Chemical']));
    v.dispose();
  });

  it('BIOES: E- and S- close segments; entities longer than L are cut and counted', () => {
    const bioes = ['O', 'B-X', 'I-X', 'E-X', 'S-X'];
    const v = new SemiMarkovCrfVariant(bioes, 'BIOES', { maxSegmentLength: 2 });
    const tags = id(bioes, ['S-X', 'S-X', 'B-X', 'E-X', 'B-X', 'I-X', 'I-X', 'E-X']);
    const segments = v.segmentsOf(tags, tags.length);
    expect(segments.map((s) => [s.start, s.end])).toEqual([[0, 1], [1, 2], [2, 4], [4, 6], [6, 8]]);
    expect(v.cutEntities).toBe(1);
    expect(v.tagsOf(segments.slice(0, 3))).toEqual(id(bioes, ['S-X', 'S-X', 'B-X', 'E-X']));
    v.dispose();
  });

  it('decodes only segments the tags can spell (no S-X tag: no one-word X)', async () => {
    const bioes = ['O', 'B-X', 'I-X', 'E-X']; // no S-X in the training data
    const v = new SemiMarkovCrfVariant(bioes, 'BIOES', { maxSegmentLength: 3 });
    // Word 1 strongly X, its neighbours strongly O: the best spellable labelling still has no lone X.
    const emissions = tensor(Float32Array.of(5, -5, -5, 5, 5, -5), [1, 3, 2]);
    const { paths } = await v.decode(emissions, [[1, 1, 1]]);
    expect(paths[0]!.map((t) => bioes[t])).not.toContain('S-X');
    expect(paths[0]!.every((t) => t >= 0)).toBe(true);
    emissions.dispose();
    v.dispose();
  });

  it('createCrf picks the variant by name; the linear one is the CRF layer, unchanged', () => {
    const linear = createCrf({ variant: 'linear', labels: bio, scheme: 'BIO', maxSegmentLength: 4 });
    const semi = createCrf({ variant: 'semi-markov', labels: bio, scheme: 'BIO', maxSegmentLength: 4 });
    expect([linear.variant, linear.numScores, linear.numTags]).toEqual(['linear', 5, 5]);
    expect([semi.variant, semi.numScores, semi.numTags]).toEqual(['semi-markov', 3, 5]);
    expect(linear.namedParameters().map(([n]) => n)).toEqual(['transitions', 'start_transitions', 'end_transitions']);
    expect(semi.namedParameters().map(([n]) => n)).toEqual(['transitions', 'start_transitions', 'end_transitions', 'length_scores']);
    expect(() => createCrf({ variant: 'cubic' as 'linear', labels: bio, scheme: 'BIO', maxSegmentLength: 4 })).toThrow(/unknown CRF variant 'cubic'/);
    linear.dispose();
    semi.dispose();
  });

  it('nll through the variant is the segment NLL of the mapped gold; a long O run has one segmentation', async () => {
    const v = new SemiMarkovCrfVariant(bio, 'BIO', { maxSegmentLength: 3 });
    const T = 4;
    const emissions = tensor(Float32Array.from({ length: T * 3 }, (_, i) => Math.sin(i)), [1, T, 3]);
    const tags = [id(bio, ['O', 'O', 'B-Disease', 'I-Disease'])];
    const a = (await v.nll(emissions, tags, [[1, 1, 1, 1]]).data())[0]!;
    const b = (await v.segmentNll(emissions, [v.segmentsOf(tags[0]!, T)], [[1, 1, 1, 1]]).data())[0]!;
    expect(a).toBeCloseTo(b, 6);
    // O has one-word segments only: the labelling O O O O has exactly one segmentation.
    const allO = await v.decode(tensor(Float32Array.from({ length: T * 3 }, (_, i) => (i % 3 === 0 ? 5 : -5)), [1, T, 3]), [[1, 1, 1, 1]]);
    expect(allO.paths).toEqual([[0, 0, 0, 0]]);
    const logZ = (await v.logPartition(emissions, [[1, 1, 1, 1]]).data())[0]!;
    expect(Number.isFinite(logZ)).toBe(true);
    expect(logSumExp([1])).toBe(1);
    emissions.dispose();
    v.dispose();
  });
});
