// Reference semi-Markov CRF quantities by enumerating every segmentation, in float64, and
// the fast-check generator of small problems. Exponential in the length: only for T <= 5.
// B = batch, T = steps, K = segment labels, L = longest segment.

import fc from 'fast-check';

export interface SemiCase {
  B: number;
  T: number;
  K: number;
  L: number;
  emissions: Float32Array; // [B,T,K]
  transitions: Float32Array; // [K,K]
  start: Float32Array; // [K]
  end: Float32Array; // [K]
  lengthScores: Float32Array; // [K,L]
  lengths: number[]; // [B], 1..T
  weights: Float32Array; // [B], upstream gradient of the log-partitions
}

export interface Segment {
  start: number;
  end: number; // exclusive
  label: number;
}

const floats = (n: number, range: number) =>
  fc.array(fc.double({ min: -range, max: range, noNaN: true }), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));

export const semiCase = (limits: { B?: number; T?: number; K?: number; L?: number } = {}): fc.Arbitrary<SemiCase> =>
  fc
    .record({
      B: fc.integer({ min: 1, max: limits.B ?? 3 }),
      T: fc.integer({ min: 1, max: limits.T ?? 5 }),
      K: fc.integer({ min: 1, max: limits.K ?? 3 }),
      L: fc.integer({ min: 1, max: limits.L ?? 4 }),
    })
    .chain(({ B, T, K, L }) =>
      fc.record({
        B: fc.constant(B),
        T: fc.constant(T),
        K: fc.constant(K),
        L: fc.constant(L),
        emissions: floats(B * T * K, 3),
        transitions: floats(K * K, 2),
        start: floats(K, 2),
        end: floats(K, 2),
        lengthScores: floats(K * L, 2),
        lengths: fc.array(fc.integer({ min: 1, max: T }), { minLength: B, maxLength: B }),
        weights: floats(B, 1.5),
      }),
    );

export function semiMask(c: SemiCase): Float32Array {
  return Float32Array.from({ length: c.B * c.T }, (_, i) => (i % c.T < c.lengths[Math.floor(i / c.T)]! ? 1 : 0));
}

/** Every segmentation of n tokens into labelled segments of 1..L tokens. */
export function allSegmentations(n: number, K: number, L: number): Segment[][] {
  if (n === 0) return [[]];
  const out: Segment[][] = [];
  for (let d = 1; d <= Math.min(L, n); d++) {
    for (const prefix of allSegmentations(n - d, K, L)) for (let y = 0; y < K; y++) out.push([...prefix, { start: n - d, end: n, label: y }]);
  }
  return out;
}

/** The score of a segmentation of sequence b, without the end term when `withEnd` is false. */
export function segmentationScore(c: SemiCase, b: number, segments: Segment[], withEnd = true): number {
  let score = 0;
  segments.forEach((seg, i) => {
    for (let t = seg.start; t < seg.end; t++) score += c.emissions[(b * c.T + t) * c.K + seg.label]!;
    score += c.lengthScores[seg.label * c.L + seg.end - seg.start - 1]!;
    score += i === 0 ? c.start[seg.label]! : c.transitions[segments[i - 1]!.label * c.K + seg.label]!;
  });
  if (withEnd) score += c.end[segments.at(-1)!.label]!;
  return score;
}

export const logSumExp = (values: number[]) => {
  const max = Math.max(...values);
  return max === -Infinity ? -Infinity : max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
};

export interface SemiReference {
  logZ: number[];
  alpha: Float64Array; // [B,T,K], -Infinity past each length
  dEmissions: Float64Array;
  dTransitions: Float64Array;
  dStart: Float64Array;
  dEnd: Float64Array;
  dLengths: Float64Array;
  best: { score: number; segments: Segment[] }[];
}

/**
 * Everything by enumeration. The gradient of sum_b w_b logZ_b is sum_b w_b E_b[feature counts]:
 * the expectation over the CRF's distribution of segmentations, computed exactly.
 */
export function semiReference(c: SemiCase): SemiReference {
  const { B, T, K, L } = c;
  const r: SemiReference = {
    logZ: [], alpha: new Float64Array(B * T * K).fill(-Infinity),
    dEmissions: new Float64Array(B * T * K), dTransitions: new Float64Array(K * K), dStart: new Float64Array(K), dEnd: new Float64Array(K), dLengths: new Float64Array(K * L),
    best: [],
  };
  for (let b = 0; b < B; b++) {
    const n = c.lengths[b]!;
    for (let e = 1; e <= n; e++) {
      const all = allSegmentations(e, K, L);
      for (let y = 0; y < K; y++) r.alpha[(b * T + e - 1) * K + y] = logSumExp(all.filter((s) => s.at(-1)!.label === y).map((s) => segmentationScore(c, b, s, false)));
    }
    const all = allSegmentations(n, K, L);
    const scores = all.map((s) => segmentationScore(c, b, s));
    const logZ = logSumExp(scores);
    r.logZ.push(logZ);
    const w = c.weights[b]!;
    all.forEach((segments, i) => {
      const p = w * Math.exp(scores[i]! - logZ);
      segments.forEach((seg, k) => {
        for (let t = seg.start; t < seg.end; t++) r.dEmissions[(b * T + t) * K + seg.label] += p;
        r.dLengths[seg.label * L + seg.end - seg.start - 1] += p;
        if (k > 0) r.dTransitions[segments[k - 1]!.label * K + seg.label] += p;
      });
      r.dStart[segments[0]!.label] += p;
      r.dEnd[segments.at(-1)!.label] += p;
    });
    let top = 0;
    scores.forEach((s, i) => (s > scores[top]! ? (top = i) : 0));
    r.best.push({ score: scores[top]!, segments: all[top]! });
  }
  return r;
}

/** Decode the i32 codes of semiCrfViterbi (label at a segment's first token, label + K inside). */
export function segmentsFromCodes(codes: ArrayLike<number>, n: number, K: number): Segment[] {
  const segments: Segment[] = [];
  for (let t = 0; t < n; t++) {
    const code = codes[t]!;
    if (code < K) segments.push({ start: t, end: t + 1, label: code });
    else {
      const last = segments.at(-1);
      if (!last || last.label !== code - K) throw new Error(`code ${code} at ${t} continues no segment of label ${code - K}`);
      last.end = t + 1;
    }
  }
  return segments;
}
