// Linear-chain CRF kernels on the CPU: the forward algorithm (log-partition),
// its gradient by forward-backward marginals, and batched Viterbi. This is the
// readable reference the WGSL kernels are checked against.
//
// B = batch, T = time steps, C = tags.
// emissions   [B,T,C]  row-major, emissions[(b*T + t)*C + j]
// mask        [B,T]    f32 0/1; the CRF layer guarantees a prefix of ones with mask[b,0] = 1
// transitions [C,C]    transitions[i*C + j] = score of tag i followed by tag j (pytorch-crf)
// start, end  [C]      score of the first / last tag
// alpha       [B,T,C]  alpha[b,t,j] = log-sum of the scores of all prefixes ending in tag j at step t
//
// Masking: a masked step is skipped -- it carries the previous step's values forward
// unchanged (as pytorch-crf's torch.where), so alpha[b,T-1] is alpha at the sequence's
// last real token and no kernel needs the lengths. Step 0 always belongs to the sequence.
// Arithmetic is in float64 inside a kernel; inputs and outputs are float32.

import type { CrfShape } from '../backend.js';
import { allocF32 } from './pool.js';

/** log(sum(exp(values))), shifted by the max so nothing overflows. */
function logSumExp(values: Float64Array): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  // Every term impossible (-Infinity scores): avoid -inf - -inf = NaN.
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

// ---------- forward algorithm ----------

/** logZ[b] = log of the sum over all tag paths of exp(path score); alpha is kept for the backward pass. */
export function crfForward(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, start: Float32Array, end: Float32Array, shape: CrfShape,
): { logZ: Float32Array; alpha: Float32Array } {
  const scaled = scaledTransitions(transitions);
  return scaled ? crfForwardScaled(emissions, mask, transitions, scaled, start, end, shape) : crfForwardLogSpace(emissions, mask, transitions, start, end, shape);
}

/** The forward algorithm as written, C^2 exps per step: the reference the scaled version is tested against. */
export function crfForwardLogSpace(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, start: Float32Array, end: Float32Array, shape: CrfShape,
): { logZ: Float32Array; alpha: Float32Array } {
  const { batch: B, steps: T, tags: C } = shape;
  const alpha = allocF32(B * T * C);
  const logZ = new Float32Array(B);
  const prev = new Float64Array(C);
  const next = new Float64Array(C);
  const terms = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const base = b * T * C;
    for (let j = 0; j < C; j++) prev[j] = start[j]! + emissions[base + j]!;
    alpha.set(prev, base);
    for (let t = 1; t < T; t++) {
      const row = base + t * C;
      if (mask[b * T + t] !== 0) {
        // alpha[t,j] = logsumexp_i(alpha[t-1,i] + transitions[i,j]) + emissions[t,j]
        for (let j = 0; j < C; j++) {
          for (let i = 0; i < C; i++) terms[i] = prev[i]! + transitions[i * C + j]!;
          next[j] = logSumExp(terms) + emissions[row + j]!;
        }
        prev.set(next);
      }
      alpha.set(prev, row);
    }
    for (let j = 0; j < C; j++) terms[j] = prev[j]! + end[j]!;
    logZ[b] = logSumExp(terms);
  }
  return { logZ, alpha };
}

// ---------- the same in probability space: C^2 multiply-adds per step instead of C^2 exps ----------
//
// logsumexp_i(alpha[i] + transitions[i,j]) = m + shift + log(sum_i exp(alpha[i] - m) * E[i,j]),
// with E = exp(transitions - shift) computed once per call, m = max_i alpha[i] and shift the
// largest transition. The exps per step fall from C^2 to C (and C logs); what is left is a
// vector-matrix product, so the CRF's cost at 129 or 255 tags is arithmetic, not exp. Terms are
// at most 1 and the sums are float64, so a path that matters cannot underflow (below e^-700 of
// the best path it cannot change a float32 result). Transitions with a non-finite largest value
// (+Infinity, NaN, all -Infinity) use the log-space loops above.

interface ScaledTransitions {
  /** E[i*C + j] = exp(transitions[i,j] - shift) */
  E: Float64Array;
  shift: number;
}

function scaledTransitions(transitions: Float32Array): ScaledTransitions | null {
  let shift = -Infinity;
  for (const v of transitions) if (v > shift || Number.isNaN(v)) shift = v;
  if (!Number.isFinite(shift)) return null;
  const E = new Float64Array(transitions.length);
  for (let k = 0; k < E.length; k++) E[k] = Math.exp(transitions[k]! - shift);
  return { E, shift };
}

function crfForwardScaled(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, { E, shift }: ScaledTransitions, start: Float32Array, end: Float32Array, shape: CrfShape,
): { logZ: Float32Array; alpha: Float32Array } {
  const { batch: B, steps: T, tags: C } = shape;
  const alpha = allocF32(B * T * C);
  const logZ = new Float32Array(B);
  const prev = new Float64Array(C);
  const p = new Float64Array(C);
  const sums = new Float64Array(C);
  const terms = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const base = b * T * C;
    for (let j = 0; j < C; j++) prev[j] = start[j]! + emissions[base + j]!;
    alpha.set(prev, base);
    for (let t = 1; t < T; t++) {
      const row = base + t * C;
      if (mask[b * T + t] !== 0) {
        let m = -Infinity;
        for (let i = 0; i < C; i++) if (prev[i]! > m) m = prev[i]!;
        if (m === -Infinity) {
          prev.fill(-Infinity); // no path reaches this step
        } else {
          for (let i = 0; i < C; i++) p[i] = Math.exp(prev[i]! - m);
          sums.fill(0);
          for (let i = 0; i < C; i++) {
            const pi = p[i]!;
            if (pi === 0) continue;
            const r = i * C;
            for (let j = 0; j < C; j++) sums[j]! += pi * E[r + j]!;
          }
          for (let j = 0; j < C; j++) {
            if (sums[j]! > 0) {
              sums[j] = Math.log(sums[j]!) + m + shift;
            } else {
              // Every term underflowed (a tag reached only through penalised transitions): in log space.
              for (let i = 0; i < C; i++) terms[i] = prev[i]! + transitions[i * C + j]!;
              sums[j] = logSumExp(terms);
            }
          }
          for (let j = 0; j < C; j++) prev[j] = sums[j]! + emissions[row + j]!;
        }
      }
      alpha.set(prev, row);
    }
    for (let j = 0; j < C; j++) terms[j] = prev[j]! + end[j]!;
    logZ[b] = logSumExp(terms);
  }
  return { logZ, alpha };
}

// ---------- backward: forward-backward marginals ----------

/** The gradients of the unary scores, summed over the batch (dStart, dEnd in float64, rounded once at the end). */
interface UnaryGradients {
  dEmissions: Float32Array;
  dStart: Float64Array;
  dEnd: Float64Array;
}

const unaryGradients = ({ batch: B, steps: T, tags: C }: CrfShape): UnaryGradients => ({ dEmissions: allocF32(B * T * C), dStart: new Float64Array(C), dEnd: new Float64Array(C) });
const roundUnary = ({ dEmissions, dStart, dEnd }: UnaryGradients) => ({ dEmissions, dStart: Float32Array.from(dStart), dEnd: Float32Array.from(dEnd) });

/**
 * Sequence b's unary marginals, times its dlogZ g, into the gradients: dEmissions[b,t,j] = g P(y_t = j)
 * on active steps (zero on masked ones), dStart[j] += g P(y_0 = j), dEnd[j] += g P(y_last = j), with
 * P(y_t = j) = exp(alpha[t,j] + beta[t,j] - logZ). Both backward passes share it; beta is b's [T, C].
 */
function addUnaryMarginals(
  b: number, g: number, logZ: number, beta: Float64Array, emissions: Float32Array, start: Float32Array, end: Float32Array, alpha: Float32Array,
  active: (b: number, t: number) => boolean, { steps: T, tags: C }: CrfShape, { dEmissions, dStart, dEnd }: UnaryGradients,
): void {
  const base = b * T * C;
  const last = base + (T - 1) * C; // alpha's last row is the last real token's (masked steps carry it)
  for (let t = 0; t < T; t++) {
    if (!active(b, t)) continue;
    for (let j = 0; j < C; j++) dEmissions[base + t * C + j] = g * Math.exp(alpha[base + t * C + j]! + beta[t * C + j]! - logZ);
  }
  for (let j = 0; j < C; j++) {
    dStart[j] += g * Math.exp(start[j]! + emissions[base + j]! + beta[j]! - logZ);
    dEnd[j] += g * Math.exp(alpha[last + j]! + end[j]! - logZ);
  }
}

function crfBackwardScaled(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, { E, shift }: ScaledTransitions, start: Float32Array, end: Float32Array,
  alpha: Float32Array, dlogZ: Float32Array, shape: CrfShape,
): { dEmissions: Float32Array; dTransitions: Float32Array; dStart: Float32Array; dEnd: Float32Array } {
  const { batch: B, steps: T, tags: C } = shape;
  const unary = unaryGradients(shape);
  // sum over b and t of dlogZ[b] * P_t(i, j) / E[i, j]: multiplied by E once at the end.
  const pairwise = new Float64Array(C * C);
  const beta = new Float64Array(T * C);
  const terms = new Float64Array(C);
  const u = new Float64Array(C);
  const v = new Float64Array(C);
  const Ev = new Float64Array(C);
  // Steps computed in log space (rare) add their terms here, outside the sums that are multiplied by E.
  const exactPairs = new Map<number, number>();
  const active = (b: number, t: number): boolean => t === 0 || mask[b * T + t] !== 0;
  for (let b = 0; b < B; b++) {
    const g = dlogZ[b]!;
    const base = b * T * C;
    const last = base + (T - 1) * C;
    for (let j = 0; j < C; j++) terms[j] = alpha[last + j]! + end[j]!;
    const logZ = logSumExp(terms);

    // beta[t,i] = shift + m + log(sum_j E[i,j] exp(emissions[t+1,j] + beta[t+1,j] - m))
    for (let i = 0; i < C; i++) beta[(T - 1) * C + i] = end[i]!;
    for (let t = T - 2; t >= 0; t--) {
      if (!active(b, t + 1)) {
        beta.copyWithin(t * C, (t + 1) * C, (t + 2) * C);
        continue;
      }
      const nextRow = base + (t + 1) * C;
      let m = -Infinity;
      for (let j = 0; j < C; j++) if ((v[j] = emissions[nextRow + j]! + beta[(t + 1) * C + j]!) > m) m = v[j]!;
      if (m === -Infinity) {
        beta.fill(-Infinity, t * C, (t + 1) * C);
        continue;
      }
      for (let j = 0; j < C; j++) v[j] = Math.exp(v[j]! - m);
      for (let i = 0; i < C; i++) {
        let sum = 0;
        const r = i * C;
        for (let j = 0; j < C; j++) sum += E[r + j]! * v[j]!;
        if (sum > 0) {
          beta[t * C + i] = Math.log(sum) + m + shift;
        } else {
          for (let j = 0; j < C; j++) terms[j] = transitions[r + j]! + emissions[nextRow + j]! + beta[(t + 1) * C + j]!;
          beta[t * C + i] = logSumExp(terms);
        }
      }
    }

    addUnaryMarginals(b, g, logZ, beta, emissions, start, end, alpha, active, shape, unary);

    // P_t(i, j) = u_i E[i,j] v_j / sum_ij(u_i E[i,j] v_j), u = exp(alpha[t-1] - max), v = exp(emissions[t] + beta[t] - max):
    // the pairwise marginals of an active step sum to 1, so the normaliser needs no exp of logZ.
    for (let t = 1; t < T; t++) {
      if (!active(b, t)) continue;
      const prevRow = base + (t - 1) * C;
      const row = base + t * C;
      let mu = -Infinity;
      let mv = -Infinity;
      for (let i = 0; i < C; i++) if (alpha[prevRow + i]! > mu) mu = alpha[prevRow + i]!;
      for (let j = 0; j < C; j++) if ((v[j] = emissions[row + j]! + beta[t * C + j]!) > mv) mv = v[j]!;
      if (mu === -Infinity || mv === -Infinity) continue;
      for (let i = 0; i < C; i++) u[i] = Math.exp(alpha[prevRow + i]! - mu);
      for (let j = 0; j < C; j++) v[j] = Math.exp(v[j]! - mv);
      let total = 0;
      for (let i = 0; i < C; i++) {
        let sum = 0;
        const r = i * C;
        for (let j = 0; j < C; j++) sum += E[r + j]! * v[j]!;
        Ev[i] = sum;
        total += u[i]! * sum;
      }
      if (!(total > 1e-200)) {
        // The best predecessor and the best successor are joined only by penalised transitions: in log space.
        for (let i = 0; i < C; i++) {
          for (let j = 0; j < C; j++) {
            const k = i * C + j;
            const term = g * Math.exp(alpha[prevRow + i]! + transitions[k]! + emissions[row + j]! + beta[t * C + j]! - logZ);
            if (term !== 0) exactPairs.set(k, (exactPairs.get(k) ?? 0) + term);
          }
        }
        continue;
      }
      const scale = g / total;
      for (let i = 0; i < C; i++) {
        const ui = u[i]! * scale;
        if (ui === 0) continue;
        const r = i * C;
        for (let j = 0; j < C; j++) pairwise[r + j]! += ui * v[j]!;
      }
    }
  }
  const dTransitions = new Float32Array(C * C);
  for (let k = 0; k < C * C; k++) dTransitions[k] = pairwise[k]! * E[k]! + (exactPairs.get(k) ?? 0);
  return { ...roundUnary(unary), dTransitions };
}

/**
 * Gradient of sum_b dlogZ[b] * logZ[b]. d logZ / d(a score) is the expected number of
 * times the score is used by a path drawn from the CRF, so the gradients are marginals:
 *   d/d emissions[t,j]     = P(y_t = j)                       (unary marginal)
 *   d/d transitions[i,j]   = sum_t P(y_{t-1} = i, y_t = j)    (pairwise marginals)
 *   d/d start[j]           = P(y_0 = j),  d/d end[j] = P(y_last = j)
 * with P(y_t = j) = exp(alpha[t,j] + beta[t,j] - logZ), where beta[t,i] is the log-sum
 * of the scores of all continuations after tag i at step t (not counting emissions[t]).
 */
export function crfBackward(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, start: Float32Array, end: Float32Array,
  alpha: Float32Array, dlogZ: Float32Array, shape: CrfShape,
): { dEmissions: Float32Array; dTransitions: Float32Array; dStart: Float32Array; dEnd: Float32Array } {
  const scaled = scaledTransitions(transitions);
  return scaled ? crfBackwardScaled(emissions, mask, transitions, scaled, start, end, alpha, dlogZ, shape) : crfBackwardLogSpace(emissions, mask, transitions, start, end, alpha, dlogZ, shape);
}

/** Forward-backward as written, C^2 exps per step: the reference the scaled version is tested against. */
export function crfBackwardLogSpace(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, start: Float32Array, end: Float32Array,
  alpha: Float32Array, dlogZ: Float32Array, shape: CrfShape,
): { dEmissions: Float32Array; dTransitions: Float32Array; dStart: Float32Array; dEnd: Float32Array } {
  const { batch: B, steps: T, tags: C } = shape;
  const unary = unaryGradients(shape);
  // Summed over the batch in float64, rounded once at the end.
  const dTransitions = new Float64Array(C * C);
  const beta = new Float64Array(T * C);
  const terms = new Float64Array(C);
  const active = (b: number, t: number): boolean => t === 0 || mask[b * T + t] !== 0;
  for (let b = 0; b < B; b++) {
    const g = dlogZ[b]!;
    const base = b * T * C;
    const last = base + (T - 1) * C; // alpha's last row is the last real token's (masked steps carry it)
    // logZ again from the stored alpha, so the marginals are normalised against the same numbers.
    for (let j = 0; j < C; j++) terms[j] = alpha[last + j]! + end[j]!;
    const logZ = logSumExp(terms);

    // beta, right to left; a masked step t+1 is skipped by carrying beta[t+1] back unchanged.
    for (let i = 0; i < C; i++) beta[(T - 1) * C + i] = end[i]!;
    for (let t = T - 2; t >= 0; t--) {
      if (!active(b, t + 1)) {
        beta.copyWithin(t * C, (t + 1) * C, (t + 2) * C);
        continue;
      }
      const nextRow = base + (t + 1) * C;
      for (let i = 0; i < C; i++) {
        for (let j = 0; j < C; j++) terms[j] = transitions[i * C + j]! + emissions[nextRow + j]! + beta[(t + 1) * C + j]!;
        beta[t * C + i] = logSumExp(terms);
      }
    }

    addUnaryMarginals(b, g, logZ, beta, emissions, start, end, alpha, active, shape, unary);

    // Pairwise marginals P(y_prev = i, y_t = j) = exp(alpha[prev,i] + transitions[i,j] + emissions[t,j] + beta[t,j] - logZ),
    // where prev is the previous active step (its alpha was carried into row t-1).
    for (let t = 1; t < T; t++) {
      if (!active(b, t)) continue;
      const prevRow = base + (t - 1) * C;
      const row = base + t * C;
      for (let i = 0; i < C; i++) {
        for (let j = 0; j < C; j++) {
          dTransitions[i * C + j] += g * Math.exp(alpha[prevRow + i]! + transitions[i * C + j]! + emissions[row + j]! + beta[t * C + j]! - logZ);
        }
      }
    }
  }
  return { ...roundUnary(unary), dTransitions: Float32Array.from(dTransitions) };
}

// ---------- Viterbi ----------

/**
 * The highest-scoring tag path per sequence and its score. The recursion is the forward
 * algorithm with max in place of logsumexp; backpointers remember the argmax. Ties go to
 * the lowest tag index. tags is 0 on masked steps.
 */
export function viterbi(
  emissions: Float32Array, mask: Float32Array, transitions: Float32Array, start: Float32Array, end: Float32Array, shape: CrfShape,
): { tags: Int32Array; score: Float32Array } {
  const { batch: B, steps: T, tags: C } = shape;
  const tags = new Int32Array(B * T);
  const score = new Float32Array(B);
  const prev = new Float64Array(C);
  const next = new Float64Array(C);
  const backpointers = new Int32Array(T * C); // backpointers[t*C + j] = best tag at the previous step given tag j at t
  // Transposed once, so the max over previous tags i reads a contiguous row.
  const into = new Float64Array(C * C);
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) into[j * C + i] = transitions[i * C + j]!;
  for (let b = 0; b < B; b++) {
    const base = b * T * C;
    for (let j = 0; j < C; j++) prev[j] = start[j]! + emissions[base + j]!;
    for (let t = 1; t < T; t++) {
      const masked = mask[b * T + t] === 0;
      for (let j = 0; j < C; j++) {
        if (masked) {
          backpointers[t * C + j] = j; // a skipped step keeps the tag, so backtracking passes through it
          continue;
        }
        let best = -Infinity;
        let arg = 0;
        const r = j * C;
        for (let i = 0; i < C; i++) {
          const s = prev[i]! + into[r + i]!;
          if (s > best) {
            best = s;
            arg = i;
          }
        }
        next[j] = best + emissions[base + t * C + j]!;
        backpointers[t * C + j] = arg;
      }
      if (!masked) prev.set(next);
    }
    let best = -Infinity;
    let tag = 0;
    for (let j = 0; j < C; j++) {
      const s = prev[j]! + end[j]!;
      if (s > best) [best, tag] = [s, j];
    }
    score[b] = best;
    for (let t = T - 1; t >= 0; t--) {
      tags[b * T + t] = t === 0 || mask[b * T + t] !== 0 ? tag : 0;
      tag = backpointers[t * C + tag]!;
    }
  }
  return { tags, score };
}
