// Transition constraints from BIO / BIOES: the allowed tables, agreement with the label-scheme
// validator in src/data, and constrained decoding, k-best, marginals and training against
// brute force over the valid paths only.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tensor } from '../../src/index.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { validateTags } from '../../src/data/schemes.js';
import { CRF, allowedTransitions, type ConstraintMode, type ConstraintScheme } from '../../src/crf/index.js';
import { allPaths, backends, bruteLogZ, bruteMarginals, crfCase, expectClose, finiteDifferences, maskRows, pathScore, rankedPaths, read, scoresOf, type CrfCase } from './brute-force.js';

const BIO = ['O', 'B-X', 'I-X', 'B-Y', 'I-Y'];
const BIOES = ['O', 'B-X', 'I-X', 'E-X', 'S-X'];
const schemes: [ConstraintScheme, string[], 'BIO' | 'BIOES'][] = [['BIO', BIO, 'BIO'], ['BIOES', BIOES, 'BIOES']];

describe('allowedTransitions', () => {
  it('BIO: I-X only after B-X or I-X, never first; any tag may end', () => {
    expect(allowedTransitions(BIO, 'BIO')).toEqual({
      start: [1, 1, 0, 1, 0],
      transitions: [
        [1, 1, 0, 1, 0], // O    -> no I-
        [1, 1, 1, 1, 0], // B-X  -> I-X, not I-Y
        [1, 1, 1, 1, 0], // I-X
        [1, 1, 0, 1, 1], // B-Y  -> I-Y, not I-X
        [1, 1, 0, 1, 1], // I-Y
      ],
      end: [1, 1, 1, 1, 1],
    });
  });

  it('BIOES: B-X/I-X must continue with I-X or E-X; no start inside, no end open', () => {
    expect(allowedTransitions([...BIOES, 'S-Y'], 'BIOES')).toEqual({
      start: [1, 1, 0, 0, 1, 1],
      transitions: [
        [1, 1, 0, 0, 1, 1], // O
        [0, 0, 1, 1, 0, 0], // B-X
        [0, 0, 1, 1, 0, 0], // I-X
        [1, 1, 0, 0, 1, 1], // E-X
        [1, 1, 0, 0, 1, 1], // S-X
        [1, 1, 0, 0, 1, 1], // S-Y
      ],
      end: [1, 0, 0, 1, 1, 1],
    });
  });

  it.each(schemes)('%s: a path is allowed exactly when validateTags finds no violation', (scheme, labels, dataScheme) => {
    const allowed = allowedTransitions(labels, scheme);
    for (let length = 1; length <= 4; length++) {
      for (const path of allPaths(length, labels.length)) {
        const byTable = allowed.start[path[0]!] === 1 && allowed.end[path[length - 1]!] === 1 && path.every((tag, t) => t === 0 || allowed.transitions[path[t - 1]!]![tag] === 1);
        expect([path.map((tag) => labels[tag]).join(' '), byTable]).toEqual([path.map((tag) => labels[tag]).join(' '), validateTags(path.map((tag) => labels[tag]!), dataScheme).length === 0]);
      }
    }
  });

  it('rejects tags of another scheme and unknown schemes', () => {
    expect(() => allowedTransitions(['O', 'B-X', 'E-X'], 'BIO')).toThrow("allowedTransitions: label 'E-X' is not a BIO tag");
    expect(() => allowedTransitions(['O', 'X'], 'BIO')).toThrow("malformed tag 'X'");
    expect(() => allowedTransitions(['O'], 'IOB1' as ConstraintScheme)).toThrow("unknown scheme 'IOB1'");
  });
});

const RUNS = { numRuns: 30 };
const fiveTags = crfCase({ C: [5, 5] });

describe.each(backends.map((b) => [b.name, b] as const))('constrained CRF on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  function constrainedCrf(c: CrfCase, labels: string[], scheme: ConstraintScheme, mode: ConstraintMode): CRF {
    const crf = new CRF(c.C, { constraints: { mode, labels, scheme } });
    crf.loadStateDict(new Map([['transitions', tensor(c.transitions, [c.C, c.C])], ['start_transitions', tensor(c.start, [c.C])], ['end_transitions', tensor(c.end, [c.C])]]));
    return crf;
  }

  it.each(schemes)('%s, mode decode: decode, kBest and marginals range over valid paths only; training is unconstrained', async (scheme, labels, dataScheme) => {
    await fc.assert(
      fc.asyncProperty(fiveTags, async (c) => {
        const valid = (path: number[]) => validateTags(path.map((tag) => labels[tag]!), dataScheme).length === 0;
        const crf = constrainedCrf(c, labels, scheme, 'decode');
        const emissions = tensor(c.emissions, [c.B, c.T, c.C]);
        const mask = maskRows(c);
        const decoded = await crf.decode(emissions, mask);
        const best = await crf.kBest(emissions, mask, 3);
        const { marginals, logZ } = await read(() => ({ marginals: crf.marginals(emissions, mask), logZ: crf.logPartition(emissions, mask) }));
        emissions.dispose();
        crf.dispose();
        for (let b = 0; b < c.B; b++) {
          const ranked = rankedPaths(c, b, valid);
          expect(valid(decoded.paths[b]!)).toBe(true);
          expectClose(`decoded score ${b}`, [pathScore(c, scoresOf(c), b, decoded.paths[b]!), decoded.scores[b]!], [ranked[0]!.score, ranked[0]!.score], 1e-5);
          expect(best.paths[b]!.every(valid)).toBe(true);
          expectClose(`k-best scores ${b}`, best.scores[b]!, ranked.slice(0, 3).map((p) => p.score), 1e-5);
        }
        expectClose('marginals', marginals, bruteMarginals(c, valid), 1e-5);
        expectClose('unconstrained logZ', logZ, c.lengths.map((_, b) => bruteLogZ(c, scoresOf(c), b)), 1e-5);
      }),
      RUNS,
    );
  });

  it.each(schemes)('%s, mode train+decode: nll over valid paths only, gradients match finite differences', async (scheme, labels, dataScheme) => {
    const valid = (path: number[]) => validateTags(path.map((tag) => labels[tag]!), dataScheme).length === 0;
    await fc.assert(
      fc.asyncProperty(fiveTags, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), async (c, picks) => {
        // A valid gold path per sequence, picked among the valid ones.
        const golds = c.lengths.map((length, b) => {
          const options = allPaths(length, c.C).filter(valid);
          return options[picks[b]! % options.length]!;
        });
        const crf = constrainedCrf(c, labels, scheme, 'train+decode');
        const bruteNll = (s: ReturnType<typeof scoresOf>, b: number) => bruteLogZ(c, s, b, valid) - pathScore(c, s, b, golds[b]!);
        const tags = golds.map((g) => [...g, ...new Array<number>(c.T - g.length).fill(0)]);
        const r = await read(() => {
          const e = tensor(c.emissions, [c.B, c.T, c.C], { requiresGrad: true });
          const nll = crf.nll(e, tags, maskRows(c), { reduction: 'none' });
          nll.backward(tensor(c.weights, [c.B]));
          return { nll, dE: e.grad, dTr: crf.transitions.grad, dSt: crf.startTransitions.grad, dEn: crf.endTransitions.grad };
        });
        crf.zeroGrad(); // read() disposed the gradients
        crf.dispose();
        expectClose('nll', r.nll, golds.map((_, b) => bruteNll(scoresOf(c), b)), 1e-5);
        const fd = finiteDifferences(c, (s) => golds.reduce((acc, _, b) => acc + c.weights[b]! * bruteNll(s, b), 0));
        expectClose('dEmissions', r.dE, fd.emissions);
        expectClose('dTransitions', r.dTr, fd.transitions);
        expectClose('dStart', r.dSt, fd.start);
        expectClose('dEnd', r.dEn, fd.end);
      }),
      RUNS,
    );
  });

  it('train+decode rejects gold tags the constraints forbid, naming the move; decode mode accepts them', async () => {
    const c: CrfCase = { B: 1, T: 3, C: 5, lengths: [3], weights: Float32Array.of(1), emissions: new Float32Array(15), transitions: new Float32Array(25), start: new Float32Array(5), end: new Float32Array(5) };
    const emissions = tensor(c.emissions, [1, 3, 5]);
    const strict = constrainedCrf(c, BIO, 'BIO', 'train+decode');
    expect(() => strict.nll(emissions, [[0, 2, 2]])).toThrow("CRF.nll: tags[0] moves from O (tag 0) to I-X (tag 2) at step 1, which the constraints forbid in mode 'train+decode'");
    expect(() => strict.nll(emissions, [[2, 2, 0]])).toThrow('CRF.nll: tags[0] starts with I-X (tag 2)');
    const bioes = constrainedCrf(c, BIOES, 'BIOES', 'train+decode');
    expect(() => bioes.nll(emissions, [[0, 1, 2]])).toThrow('CRF.nll: tags[0] ends with I-X (tag 2)');
    const lenient = constrainedCrf(c, BIO, 'BIO', 'decode');
    const { nll } = await read(() => ({ nll: lenient.nll(emissions, [[0, 2, 2]]) }));
    expect(nll[0]).toBeCloseTo(3 * Math.log(5), 5); // all scores 0: logZ = log 5^3, gold score 0
    for (const crf of [strict, bioes, lenient]) crf.dispose();
    emissions.dispose();
  });

  it('setConstraints(null) switches constraints off; switching frees the penalty buffers', async () => {
    // Emissions that favour O -> I-X: constrained decoding must avoid it, unconstrained takes it.
    const crf = new CRF(5, { constraints: { mode: 'decode', labels: BIO, scheme: 'BIO' } });
    const emissions = tensor([5, 0, 0, 0, 0, 0, 0, 5, 0, 0], [1, 2, 5]);
    expect((await crf.decode(emissions)).paths[0]).not.toEqual([0, 2]);
    const live = backend.liveBuffers();
    crf.setConstraints(null);
    expect(backend.liveBuffers()).toBe(live - 3);
    expect((await crf.decode(emissions)).paths[0]).toEqual([0, 2]);
    crf.setConstraints({ mode: 'decode', allowed: allowedTransitions(BIO, 'BIO') });
    expect((await crf.decode(emissions)).paths[0]).not.toEqual([0, 2]);
    crf.dispose();
    emissions.dispose();
  });
});
