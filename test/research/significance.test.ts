import { describe, expect, it } from 'vitest';
import { approximateRandomization, meanStd, microF1, pairedBootstrap, quantile, sentenceCounts, type SentenceCounts } from '../../src/research/significance.js';
import { entityScores } from '../../src/metrics/scores.js';
import { Rng } from '../../src/tensor/random.js';

const c = (truePositives: number, predicted: number, gold: number): SentenceCounts => ({ truePositives, predicted, gold });

describe('sentenceCounts', () => {
  it('sums to the micro counts seqeval reports', () => {
    const gold = [['B-D', 'I-D', 'O', 'B-C'], ['O', 'O'], ['B-C', 'O', 'B-D']];
    const predicted = [['B-D', 'I-D', 'O', 'B-D'], ['B-C', 'O'], ['B-C', 'O', 'O']];
    const counts = sentenceCounts(gold, predicted);
    expect(counts).toEqual([c(1, 2, 2), c(0, 1, 0), c(1, 1, 2)]);
    expect(microF1(counts)).toBeCloseTo(entityScores(gold, predicted).micro.f1, 12);
  });
});

describe('approximate randomization (hand-computed)', () => {
  it('enumerates all swaps of three sentences: p = 4/8', () => {
    // F1 = tp/3 here. Observed A 2/3, B 0. Swapping s1 or s2 alone gives 1 vs 1 (difference 0);
    // no swap or both give |2/3|; s3 is the same for both systems. 4 of 8 patterns are as extreme.
    const a = [c(1, 1, 1), c(1, 1, 1), c(0, 1, 1)];
    const b = [c(0, 1, 1), c(0, 1, 1), c(0, 1, 1)];
    const r = approximateRandomization(a, b);
    expect(r.exact).toBe(true);
    expect(r.difference).toBeCloseTo(2 / 3, 12);
    expect(r.pValue).toBe(0.5);
    expect(r.samples).toBe(8);
  });

  it('the Monte Carlo estimate agrees with enumeration', () => {
    const rng = new Rng(5);
    const a: SentenceCounts[] = [];
    const b: SentenceCounts[] = [];
    for (let i = 0; i < 14; i++) {
      const g = 1 + Math.floor(rng.next() * 3);
      a.push(c(Math.min(g, Math.floor(rng.next() * 4)), g + Math.floor(rng.next() * 2), g));
      b.push(c(Math.floor(rng.next() * g), g, g));
    }
    const exact = approximateRandomization(a, b);
    const sampled = approximateRandomization(a, b, { exactUpTo: 0, samples: 20_000, seed: 3 });
    expect(exact.exact).toBe(true);
    expect(sampled.exact).toBe(false);
    expect(Math.abs(sampled.pValue - exact.pValue)).toBeLessThan(0.015);
  });

  it('identical systems give p = 1', () => {
    const a = [c(1, 2, 2), c(0, 1, 1), c(3, 3, 4)];
    expect(approximateRandomization(a, a).pValue).toBe(1);
    expect(approximateRandomization(a, a, { exactUpTo: 0, samples: 99 }).pValue).toBe(1);
  });

  it('rejects unpaired inputs with a clear message', () => {
    expect(() => approximateRandomization([c(1, 1, 1)], [c(1, 1, 1), c(0, 0, 1)])).toThrow(/same test set/);
    expect(() => approximateRandomization([c(1, 1, 1)], [c(1, 1, 2)])).toThrow(/sentence 0 has 1 gold/);
  });
});

describe('paired bootstrap (hand-computed)', () => {
  it('two sentences: resamples {1,1}, {1,2}, {2,1}, {2,2} give differences 1, 1/6, 1/6, -2/3', () => {
    // A: s1 tp1 p1 g1, s2 tp0 p0 g2 -> F1 2/4; B: s1 tp0 p2 g1, s2 tp1 p1 g2 -> F1 2/6; d = 1/6.
    // {1,1}: A 4/4, B 0/6 -> 1; {2,2}: A 0/4, B 4/6 -> -2/3; mixed: 1/6.
    // |d* - d| >= |d| on {1,1} and {2,2}: p ~ 1/2; the 95% interval spans [-2/3, 1].
    const a = [c(1, 1, 1), c(0, 0, 2)];
    const b = [c(0, 2, 1), c(1, 1, 2)];
    const r = pairedBootstrap(a, b, { samples: 20_000, seed: 9 });
    expect(r.difference).toBeCloseTo(1 / 6, 12);
    expect(r.interval[0]).toBeCloseTo(-2 / 3, 12);
    expect(r.interval[1]).toBeCloseTo(1, 12);
    expect(Math.abs(r.pValue - 0.5)).toBeLessThan(0.015);
  });

  it('one sentence: every resample is the test set, the interval is a point', () => {
    const r = pairedBootstrap([c(1, 1, 2)], [c(0, 1, 2)], { samples: 99 });
    expect(r.interval).toEqual([r.difference, r.difference]);
    expect(r.pValue).toBe(1 / 100);
  });
});

// Simulated test sets from a known distribution: each sentence has 1-3 gold entities; a system
// finds each with probability `recall` and adds a false positive with probability `spurious`.
function simulate(rng: Rng, n: number, recall: number, spurious: number): { counts: SentenceCounts[] } & { goldPerSentence: number[] } {
  const counts: SentenceCounts[] = [];
  const goldPerSentence: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = 1 + Math.floor(((i * 7) % 3));
    goldPerSentence.push(g);
    let tp = 0;
    for (let k = 0; k < g; k++) if (rng.next() < recall) tp++;
    counts.push(c(tp, tp + (rng.next() < spurious ? 1 : 0), g));
  }
  return { counts, goldPerSentence };
}

describe('known-distribution simulation', () => {
  it('under the null, p < 0.05 about 5% of the time and the bootstrap interval covers 0 about 95% of the time', () => {
    const rng = new Rng(2024);
    const datasets = 300;
    let rejectAR = 0;
    let rejectBootstrap = 0;
    let covers = 0;
    let below = 0;
    for (let d = 0; d < datasets; d++) {
      const a = simulate(rng, 60, 0.7, 0.3).counts;
      const b = simulate(rng, 60, 0.7, 0.3).counts;
      const ar = approximateRandomization(a, b, { samples: 400, seed: d });
      const bs = pairedBootstrap(a, b, { samples: 400, seed: d });
      if (ar.pValue < 0.05) rejectAR++;
      if (ar.pValue < 0.5) below++;
      if (bs.pValue < 0.05) rejectBootstrap++;
      if (bs.interval[0] <= 0 && bs.interval[1] >= 0) covers++;
    }
    // Binomial(300, 0.05) has sd 3.8: the bounds are about +-3.5 sd.
    expect(rejectAR / datasets).toBeGreaterThan(0.01);
    expect(rejectAR / datasets).toBeLessThan(0.095);
    expect(rejectBootstrap / datasets).toBeLessThan(0.1);
    expect(below / datasets).toBeGreaterThan(0.4);
    expect(below / datasets).toBeLessThan(0.6);
    expect(covers / datasets).toBeGreaterThan(0.88);
  });

  it('with a real difference the tests reject, and the interval covers the true difference about 95% of the time', () => {
    const rng = new Rng(7);
    const datasets = 150;
    const n = 200;
    const [recallA, recallB, spurious] = [0.8, 0.6, 0.3];
    // Population F1 = 2 E[tp] / (E[pred] + E[gold]) with E[gold] = 2 per sentence (1, 2, 3 in turn).
    const population = (recall: number) => (2 * 2 * recall) / (2 * recall + spurious + 2);
    const truth = population(recallA) - population(recallB);
    let rejected = 0;
    let covers = 0;
    for (let d = 0; d < datasets; d++) {
      const a = simulate(rng, n, recallA, spurious).counts;
      const b = simulate(rng, n, recallB, spurious).counts;
      const ar = approximateRandomization(a, b, { samples: 300, seed: d });
      const bs = pairedBootstrap(a, b, { samples: 500, seed: d });
      if (ar.pValue < 0.05 && bs.pValue < 0.05) rejected++;
      if (bs.interval[0] <= truth && truth <= bs.interval[1]) covers++;
    }
    expect(rejected / datasets).toBeGreaterThan(0.95);
    expect(covers / datasets).toBeGreaterThan(0.88);
    expect(covers / datasets).toBeLessThan(0.995);
  });
});

describe('helpers', () => {
  it('quantile interpolates as numpy; meanStd uses n - 1', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
  });
});
