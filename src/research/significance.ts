// Significance of an F1 difference between two taggers scored on the same test sentences.
// Both tests resample whole sentences, the unit the systems' errors are independent over:
// - paired approximate randomization (Noreen 1989; Riezler & Maxwell 2005): under the null
//   hypothesis the two systems' outputs on a sentence are exchangeable, so each sentence's
//   pair is swapped with probability 1/2 and the statistic |F1(A) - F1(B)| recomputed;
// - paired bootstrap (Efron & Tibshirani 1993; Koehn 2004): sentences drawn with replacement
//   give the sampling distribution of F1(A) - F1(B), its 95% percentile interval and a p-value.
// Micro F1 is not a sum over sentences, so each sentence keeps its counts (true positives,
// predicted, gold entities) and every resample sums the counts before taking the F1.

import { Rng } from '../tensor/random.js';
import { extractEntities, type EntityOptions } from '../metrics/entities.js';

/** Entity counts of one system on one sentence. */
export interface SentenceCounts {
  truePositives: number;
  predicted: number;
  gold: number;
}

/** Per-sentence counts of one system's predictions against the gold tags (seqeval's entity rules). */
export function sentenceCounts(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], options: EntityOptions = {}): SentenceCounts[] {
  if (gold.length !== predicted.length) throw new Error(`sentenceCounts: ${gold.length} gold sentences but ${predicted.length} predicted`);
  const counts: SentenceCounts[] = gold.map(() => ({ truePositives: 0, predicted: 0, gold: 0 }));
  const key = (e: { type: string; start: number; end: number }) => `${e.type}\t${e.start}\t${e.end}`;
  const goldKeys = gold.map(() => new Set<string>());
  for (const e of extractEntities(gold, options)) goldKeys[e.sentence]!.add(key(e));
  const predictedKeys = gold.map(() => new Set<string>());
  for (const e of extractEntities(predicted, options)) predictedKeys[e.sentence]!.add(key(e));
  counts.forEach((c, s) => {
    c.gold = goldKeys[s]!.size;
    c.predicted = predictedKeys[s]!.size;
    for (const k of predictedKeys[s]!) if (goldKeys[s]!.has(k)) c.truePositives++;
  });
  return counts;
}

/** Micro F1 from summed counts (0 when undefined, as seqeval). */
export function f1FromTotals(truePositives: number, predicted: number, gold: number): number {
  return predicted + gold === 0 ? 0 : (2 * truePositives) / (predicted + gold);
}

export function microF1(counts: readonly SentenceCounts[]): number {
  let [tp, p, g] = [0, 0, 0];
  for (const c of counts) [tp, p, g] = [tp + c.truePositives, p + c.predicted, g + c.gold];
  return f1FromTotals(tp, p, g);
}

export interface SignificanceOptions {
  /** Random swaps (randomization) or resamples (bootstrap); 10,000 by default. */
  samples?: number;
  seed?: number;
}

export interface RandomizationResult {
  /** F1(A) - F1(B) on the test set as it is. */
  difference: number;
  /** Two-sided p-value, (r + 1) / (n + 1) with r the resamples at least as extreme (never 0). */
  pValue: number;
  samples: number;
  /** true when all 2^n swaps were enumerated (few sentences): pValue is then exact, r / 2^n. */
  exact: boolean;
}

export interface BootstrapResult {
  difference: number;
  /** 95% percentile interval of F1(A*) - F1(B*) over resampled test sets. */
  interval: [number, number];
  /** Two-sided p-value of the null-centred bootstrap: share of resamples with |d* - d| >= |d|. */
  pValue: number;
  samples: number;
}

function checkPaired(a: readonly SentenceCounts[], b: readonly SentenceCounts[], op: string): void {
  if (a.length !== b.length) throw new Error(`${op}: system A has ${a.length} sentences and system B ${b.length}; both must be scored on the same test set`);
  if (a.length === 0) throw new Error(`${op}: no sentences to compare`);
  a.forEach((x, i) => {
    if (x.gold !== b[i]!.gold) throw new Error(`${op}: sentence ${i} has ${x.gold} gold entities for A but ${b[i]!.gold} for B; both must be scored on the same test set`);
  });
}

// Slack for floating-point ties: a resample whose statistic equals the observed one counts as extreme.
const TIE = 1e-12;

/**
 * Paired approximate randomization. With at most `exactUpTo` sentences (default 16) every one of
 * the 2^n swap patterns is enumerated and the p-value is exact; otherwise `samples` random patterns.
 */
export function approximateRandomization(a: readonly SentenceCounts[], b: readonly SentenceCounts[], options: SignificanceOptions & { exactUpTo?: number } = {}): RandomizationResult {
  checkPaired(a, b, 'approximateRandomization');
  const n = a.length;
  const observed = microF1(a) - microF1(b);
  const threshold = Math.abs(observed) - TIE;
  // Gold counts are the same for both systems, so a swap moves only tp and predicted.
  let goldTotal = 0;
  let [tpA, pA, tpB, pB] = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    goldTotal += a[i]!.gold;
    [tpA, pA, tpB, pB] = [tpA + a[i]!.truePositives, pA + a[i]!.predicted, tpB + b[i]!.truePositives, pB + b[i]!.predicted];
  }
  const statistic = (swapped: (i: number) => boolean) => {
    let [ta, pa, tb, pb] = [tpA, pA, tpB, pB];
    for (let i = 0; i < n; i++) {
      if (!swapped(i)) continue;
      const dt = b[i]!.truePositives - a[i]!.truePositives;
      const dp = b[i]!.predicted - a[i]!.predicted;
      [ta, pa, tb, pb] = [ta + dt, pa + dp, tb - dt, pb - dp];
    }
    return Math.abs(f1FromTotals(ta, pa, goldTotal) - f1FromTotals(tb, pb, goldTotal));
  };
  if (n <= (options.exactUpTo ?? 16)) {
    let extreme = 0;
    const patterns = 2 ** n;
    for (let mask = 0; mask < patterns; mask++) if (statistic((i) => ((mask >>> i) & 1) === 1) >= threshold) extreme++;
    return { difference: observed, pValue: extreme / patterns, samples: patterns, exact: true };
  }
  const samples = options.samples ?? 10_000;
  const rng = new Rng(options.seed ?? 1);
  let extreme = 0;
  for (let s = 0; s < samples; s++) if (statistic(() => rng.next() < 0.5) >= threshold) extreme++;
  return { difference: observed, pValue: (extreme + 1) / (samples + 1), samples, exact: false };
}

/** Paired bootstrap over sentences: the interval of the difference and a two-sided p-value. */
export function pairedBootstrap(a: readonly SentenceCounts[], b: readonly SentenceCounts[], options: SignificanceOptions = {}): BootstrapResult {
  checkPaired(a, b, 'pairedBootstrap');
  const n = a.length;
  const observed = microF1(a) - microF1(b);
  const samples = options.samples ?? 10_000;
  const rng = new Rng(options.seed ?? 1);
  const differences = new Float64Array(samples);
  let extreme = 0;
  for (let s = 0; s < samples; s++) {
    let [ta, pa, tb, pb, g] = [0, 0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rng.next() * n);
      [ta, pa, tb, pb, g] = [ta + a[i]!.truePositives, pa + a[i]!.predicted, tb + b[i]!.truePositives, pb + b[i]!.predicted, g + a[i]!.gold];
    }
    const d = f1FromTotals(ta, pa, g) - f1FromTotals(tb, pb, g);
    differences[s] = d;
    if (Math.abs(d - observed) >= Math.abs(observed) - TIE) extreme++;
  }
  differences.sort();
  return { difference: observed, interval: [quantile(differences, 0.025), quantile(differences, 0.975)], pValue: (extreme + 1) / (samples + 1), samples };
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** Mean and sample standard deviation (n - 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}
