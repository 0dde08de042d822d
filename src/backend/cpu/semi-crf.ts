// Semi-Markov CRF kernels on the CPU (Sarawagi & Cohen 2004): the log-partition by the
// segment-level forward algorithm, its gradient by segment-level forward-backward, and
// Viterbi over segmentations. The readable reference the WGSL kernels are checked against.
//
// B = batch, T = time steps, K = segment labels, L = longest segment.
// A labelling splits a sequence of n real tokens into segments [s, e) of 1..L tokens, each
// with a label y; its score is
//   start[y_1] + sum_segments (sum_{t in [s,e)} emissions[t,y] + lengthScores[y, e-s-1])
//             + sum_{consecutive segments} transitions[y, y'] + end[y_last].
// emissions    [B,T,K]  per-token label scores from the encoder
// mask         [B,T]    f32 0/1, a prefix of ones (mask[b,0] = 1); n_b = its sum
// transitions  [K,K]    transitions[y*K + y'] = score of label y followed by y'
// start, end   [K]
// lengthScores [K,L]    lengthScores[y*L + d-1] = score of a segment of label y and d tokens
// alpha        [B,T,K]  alpha[b,e-1,y] = log-sum over segmentations of tokens [0, e) whose last
//                       segment has label y (e = 1..n; rows past n are -Infinity)
// The backward pass recomputes inbound[s,y] = log-sum of everything before a segment of label y
// starting at s (start[y] at s = 0), and beta[e,y] = log-sum of everything after a segment of
// label y ending at e (end[y] at e = n). A segment's marginal is
//   P(s, e, y) = exp(inbound[s,y] + segment(s,e,y) + beta[e,y] - logZ),
// and every gradient is a sum of marginals. Arithmetic is float64; inputs and outputs float32.

import type { SemiCrfShape } from '../backend.js';
import { allocF32 } from './pool.js';

export interface SemiCrfArrays {
  emissions: Float32Array;
  mask: Float32Array;
  transitions: Float32Array;
  start: Float32Array;
  end: Float32Array;
  lengthScores: Float32Array;
}

/** A running logsumexp: add terms one by one, read the total; -Infinity when every term is. */
class LogSum {
  max = -Infinity;
  sum = 0;
  reset(): void {
    this.max = -Infinity;
    this.sum = 0;
  }
  add(x: number): void {
    if (x === -Infinity) return;
    if (x > this.max) {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    } else this.sum += Math.exp(x - this.max);
  }
  value(): number {
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum);
  }
}

function sequenceLength(mask: Float32Array, b: number, T: number): number {
  let n = 0;
  while (n < T && (n === 0 || mask[b * T + n] !== 0)) n++;
  return n;
}

/** inbound[s*K + y] for s in [0, n): start[y] at 0, else logsumexp_y'(alpha[s-1,y'] + transitions[y',y]). */
function inboundRow(a: SemiCrfArrays, alpha: ArrayLike<number>, alphaBase: number, s: number, K: number, out: Float64Array, acc: LogSum): void {
  for (let y = 0; y < K; y++) {
    if (s === 0) {
      out[y] = a.start[y]!;
      continue;
    }
    acc.reset();
    for (let p = 0; p < K; p++) acc.add(alpha[alphaBase + (s - 1) * K + p]! + a.transitions[p * K + y]!);
    out[y] = acc.value();
  }
}

/** logZ [B] and alpha [B,T,K]. */
export function semiCrfForward(a: SemiCrfArrays, shape: SemiCrfShape): { logZ: Float32Array; alpha: Float32Array } {
  const { batch: B, steps: T, labels: K, maxLength: L } = shape;
  const alpha = allocF32(B * T * K, true);
  alpha.fill(-Infinity);
  const logZ = new Float32Array(B);
  const inbound = new Float64Array(T * K);
  const alpha64 = new Float64Array(T * K);
  const acc = new LogSum();
  for (let b = 0; b < B; b++) {
    const n = sequenceLength(a.mask, b, T);
    const base = b * T * K;
    for (let e = 1; e <= n; e++) {
      // The segments ending at e start at e-1, e-2, ...; inbound[e-1] needs alpha[e-2], done.
      inboundRow(a, alpha64, 0, e - 1, K, inbound.subarray((e - 1) * K, e * K), acc);
      for (let y = 0; y < K; y++) {
        acc.reset();
        let segment = 0;
        for (let d = 1; d <= Math.min(L, e); d++) {
          const s = e - d;
          segment += a.emissions[base + s * K + y]!;
          acc.add(inbound[s * K + y]! + segment + a.lengthScores[y * L + d - 1]!);
        }
        alpha64[(e - 1) * K + y] = acc.value();
      }
    }
    acc.reset();
    for (let y = 0; y < K; y++) acc.add(alpha64[(n - 1) * K + y]! + a.end[y]!);
    logZ[b] = acc.value();
    for (let i = 0; i < n * K; i++) alpha[base + i] = alpha64[i]!;
  }
  return { logZ, alpha };
}

/**
 * Gradient of sum_b dlogZ[b] * logZ[b]:
 *   d/d emissions[t,y]    = sum of P(s,e,y) over segments covering t (the token's label marginal)
 *   d/d lengthScores[y,d] = sum_s P(s, s+d, y)
 *   d/d transitions[y,y'] = sum_{boundaries e} P(segment y ends at e, segment y' starts at e)
 *   d/d start[y], end[y]  = P(first label y), P(last label y)
 */
export function semiCrfBackward(a: SemiCrfArrays, alpha: Float32Array, dlogZ: Float32Array, shape: SemiCrfShape) {
  const { batch: B, steps: T, labels: K, maxLength: L } = shape;
  const dEmissions = allocF32(B * T * K);
  const dTransitions = new Float64Array(K * K);
  const dStart = new Float64Array(K);
  const dEnd = new Float64Array(K);
  const dLengths = new Float64Array(K * L);
  const inbound = new Float64Array(T * K);
  const beta = new Float64Array((T + 1) * K); // beta[e*K + y], e = 1..n
  const outbound = new Float64Array(T * K); // outbound[s*K + y] = log-sum of a segment of y starting at s and all after it
  const covering = new Float64Array(L + 1);
  const acc = new LogSum();
  for (let b = 0; b < B; b++) {
    const n = sequenceLength(a.mask, b, T);
    const base = b * T * K;
    const g = dlogZ[b]!;
    acc.reset();
    for (let y = 0; y < K; y++) acc.add(alpha[base + (n - 1) * K + y]! + a.end[y]!);
    const logZ = acc.value();
    for (let s = 0; s < n; s++) inboundRow(a, alpha, base, s, K, inbound.subarray(s * K, (s + 1) * K), acc);
    // beta and outbound, right to left.
    for (let y = 0; y < K; y++) beta[n * K + y] = a.end[y]!;
    for (let s = n - 1; s >= 0; s--) {
      for (let y = 0; y < K; y++) {
        acc.reset();
        let segment = 0;
        for (let d = 1; d <= Math.min(L, n - s); d++) {
          segment += a.emissions[base + (s + d - 1) * K + y]!;
          acc.add(segment + a.lengthScores[y * L + d - 1]! + beta[(s + d) * K + y]!);
        }
        outbound[s * K + y] = acc.value();
      }
      if (s === 0) break;
      for (let y = 0; y < K; y++) {
        acc.reset();
        for (let next = 0; next < K; next++) acc.add(a.transitions[y * K + next]! + outbound[s * K + next]!);
        beta[s * K + y] = acc.value();
      }
    }
    // Segment marginals -> emissions (each token of the segment) and lengths.
    for (let y = 0; y < K; y++) {
      for (let s = 0; s < n; s++) {
        const maxD = Math.min(L, n - s);
        let segment = 0;
        for (let d = 1; d <= maxD; d++) {
          segment += a.emissions[base + (s + d - 1) * K + y]!;
          const p = g * Math.exp(inbound[s * K + y]! + segment + a.lengthScores[y * L + d - 1]! + beta[(s + d) * K + y]! - logZ);
          covering[d] = p;
          dLengths[y * L + d - 1] += p;
        }
        // Token s + j is covered by the segments of length d > j.
        let suffix = 0;
        for (let d = maxD; d >= 1; d--) {
          suffix += covering[d]!;
          dEmissions[base + (s + d - 1) * K + y] += suffix;
        }
      }
      dStart[y] += g * Math.exp(a.start[y]! + outbound[y]! - logZ);
      dEnd[y] += g * Math.exp(alpha[base + (n - 1) * K + y]! + a.end[y]! - logZ);
      for (let e = 1; e < n; e++) {
        for (let next = 0; next < K; next++) {
          dTransitions[y * K + next] += g * Math.exp(alpha[base + (e - 1) * K + y]! + a.transitions[y * K + next]! + outbound[e * K + next]! - logZ);
        }
      }
    }
  }
  return { dEmissions, dTransitions: Float32Array.from(dTransitions), dStart: Float32Array.from(dStart), dEnd: Float32Array.from(dEnd), dLengths: Float32Array.from(dLengths) };
}

/**
 * The best segmentation per sequence. labels [B,T] i32 holds one code per token: the segment's
 * label y where a segment begins, y + K inside a segment, 0 past the mask. Ties go to the
 * shortest segment, then the lowest label.
 */
export function semiCrfViterbi(a: SemiCrfArrays, shape: SemiCrfShape): { labels: Int32Array; score: Float32Array } {
  const { batch: B, steps: T, labels: K, maxLength: L } = shape;
  const labels = new Int32Array(B * T);
  const score = new Float32Array(B);
  const best = new Float64Array(T * K); // best[(e-1)*K + y]: best score of [0, e) ending in a segment of y
  const bestLength = new Int32Array(T * K);
  const bestPrevious = new Int32Array(T * K);
  for (let b = 0; b < B; b++) {
    const n = sequenceLength(a.mask, b, T);
    const base = b * T * K;
    for (let e = 1; e <= n; e++) {
      for (let y = 0; y < K; y++) {
        let top = -Infinity;
        let [topD, topPrev] = [1, -1];
        let segment = 0;
        for (let d = 1; d <= Math.min(L, e); d++) {
          const s = e - d;
          segment += a.emissions[base + s * K + y]!;
          let before = a.start[y]!;
          let prev = -1;
          if (s > 0) {
            before = -Infinity;
            for (let p = 0; p < K; p++) {
              const v = best[(s - 1) * K + p]! + a.transitions[p * K + y]!;
              if (v > before) [before, prev] = [v, p];
            }
          }
          const v = before + segment + a.lengthScores[y * L + d - 1]!;
          if (v > top) [top, topD, topPrev] = [v, d, prev];
        }
        best[(e - 1) * K + y] = top;
        bestLength[(e - 1) * K + y] = topD;
        bestPrevious[(e - 1) * K + y] = topPrev;
      }
    }
    let top = -Infinity;
    let y = 0;
    for (let k = 0; k < K; k++) {
      const v = best[(n - 1) * K + k]! + a.end[k]!;
      if (v > top) [top, y] = [v, k];
    }
    score[b] = top;
    let e = n;
    while (e > 0) {
      const d = bestLength[(e - 1) * K + y]!;
      const prev = bestPrevious[(e - 1) * K + y]!;
      for (let t = e - d; t < e; t++) labels[b * T + t] = t === e - d ? y : y + K;
      e -= d;
      y = prev;
    }
  }
  return { labels, score };
}
