// Partial labels: nll given a set of allowed tags per token, whose numerator is the
// log-partition over the paths that use only allowed tags.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tensor } from '../../src/index.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { CRF } from '../../src/crf/index.js';
import { backends, bruteLogZ, crfCase, expectClose, finiteDifferences, maskRows, read, scoresOf, type CrfCase } from './brute-force.js';

const RUNS = { numRuns: 50 };

/** A case with an allowed-tag mask [B][T][C] (at least one tag per token) and a gold path inside it. */
const withAllowed = crfCase().chain((c) =>
  fc.array(fc.array(fc.boolean(), { minLength: c.C, maxLength: c.C }), { minLength: c.B * c.T, maxLength: c.B * c.T }).chain((bits) => {
    const rows = bits.map((r, i) => (r.some(Boolean) ? r : r.map((_, j) => j === i % c.C)).map(Number));
    const allowed = c.lengths.map((_, b) => rows.slice(b * c.T, (b + 1) * c.T));
    return fc.constant({ c, allowed });
  }),
);

function crfFor(c: CrfCase): CRF {
  const crf = new CRF(c.C);
  crf.loadStateDict(new Map([['transitions', tensor(c.transitions, [c.C, c.C])], ['start_transitions', tensor(c.start, [c.C])], ['end_transitions', tensor(c.end, [c.C])]]));
  return crf;
}

/** nll (reduction none) and every gradient, on the host. */
async function run(crf: CRF, c: CrfCase, target: number[][] | number[][][]) {
  const result = await read(() => {
    const e = tensor(c.emissions, [c.B, c.T, c.C], { requiresGrad: true });
    const nll = crf.nll(e, target, maskRows(c), { reduction: 'none' });
    nll.backward(tensor(c.weights, [c.B]));
    return { nll, dE: e.grad, dTr: crf.transitions.grad, dSt: crf.startTransitions.grad, dEn: crf.endTransitions.grad };
  });
  crf.zeroGrad(); // read() disposed the gradients it returned; forget them
  return result;
}

describe.each(backends.map((b) => [b.name, b] as const))('partial labels on %s', (_name, backend) => {
  beforeAll(() => setBackend(backend));
  afterAll(() => setBackend(cpuBackend));

  it('nll = logZ - logZ(allowed paths); gradients match float64 finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(withAllowed, async ({ c, allowed }) => {
        const keep = (b: number) => (path: number[]) => path.every((tag, t) => allowed[b]![t]![tag] === 1);
        const bruteNll = (s: ReturnType<typeof scoresOf>, b: number) => bruteLogZ(c, s, b) - bruteLogZ(c, s, b, keep(b));
        const crf = crfFor(c);
        const r = await run(crf, c, allowed);
        crf.dispose();
        expectClose('nll', r.nll, c.lengths.map((_, b) => bruteNll(scoresOf(c), b)), 1e-5);
        const fd = finiteDifferences(c, (s) => c.lengths.reduce((acc, _, b) => acc + c.weights[b]! * bruteNll(s, b), 0));
        expectClose('dEmissions', r.dE, fd.emissions);
        expectClose('dTransitions', r.dTr, fd.transitions);
        expectClose('dStart', r.dSt, fd.start);
        expectClose('dEnd', r.dEn, fd.end);
      }),
      RUNS,
    );
  });

  it('allowing every tag gives nll 0 and zero gradients; allowing only the gold tag equals nll with tags', async () => {
    await fc.assert(
      fc.asyncProperty(crfCase(), fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), async (c, picks) => {
        const tags = c.lengths.map((_, b) => Array.from({ length: c.T }, (_, t) => picks[b * c.T + t]! % c.C));
        const crf = crfFor(c);
        const everything = await run(crf, c, tags.map((row) => row.map(() => new Array<number>(c.C).fill(1))));
        const onlyGold = await run(crf, c, tags.map((row) => row.map((tag) => Array.from({ length: c.C }, (_, j) => Number(j === tag)))));
        const gold = await run(crf, c, tags);
        crf.dispose();
        expectClose('nll, all allowed', everything.nll, new Array(c.B).fill(0), 1e-6);
        for (const key of ['dE', 'dTr', 'dSt', 'dEn'] as const) {
          expectClose(`${key}, all allowed`, everything[key], new Array(gold[key].length).fill(0), 1e-6);
          expectClose(`${key}, only gold allowed`, onlyGold[key], gold[key], 1e-5);
        }
        expectClose('nll, only gold allowed', onlyGold.nll, gold.nll, 1e-5);
      }),
      RUNS,
    );
  });
});
