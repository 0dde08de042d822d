// The fused sequence ops: a whole LSTM direction, and the linear-chain and semi-Markov
// CRF's log-partition (forward algorithm; backward by forward-backward marginals, not
// autodiff through the recursion), Viterbi and marginals. Each is one kernel forward and
// one backward (Backend.lstmForward/Backward, crfForward/Backward, viterbi, semiCrf*;
// src/backend/cpu/lstm.ts, crf.ts, semi-crf.ts; kernels/lstm_step*.wgsl, crf_*.wgsl,
// viterbi.wgsl, semi_crf_*.wgsl). The layers (src/nn/lstm.ts, src/crf) call these.
// B = batch, T = time steps, C = tags, K = segment labels, L = longest segment, H = hidden, N = packed rows.

import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { CrfShape, SemiCrfInputs, SemiCrfShape, Storage } from '../backend/backend.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out } from './util.js';

// ---------- LSTM ----------

/**
 * The whole recurrence of one LSTM direction as a single op, over a packed batch (rows
 * time-major, step t holding batchSizes[t] rows, as PyTorch's PackedSequence): xProj [N, 4H]
 * (x W_ih^T + biases, all steps in one matmul) and weightHH [4H, H] -> h [N, H]. The backend
 * runs every step in one call and the backward pass is its explicit backpropagation through
 * time, so a batch costs one graph node, not five per token. Initial states are zero.
 */
export function lstmRecurrence(xProj: Tensor, weightHH: Tensor, batchSizes: readonly number[]): Tensor {
  checkFloat('lstmRecurrence', xProj, weightHH);
  if (xProj.rank !== 2 || weightHH.rank !== 2 || xProj.shape[1] !== weightHH.shape[0] || weightHH.shape[0] !== 4 * weightHH.shape[1]!) {
    throw new Error(`lstmRecurrence: expected xProj [N, 4H] and weightHH [4H, H], got ${fmt(xProj.shape)} and ${fmt(weightHH.shape)}`);
  }
  const rows = batchSizes.reduce((total, n) => total + n, 0);
  if (rows !== xProj.shape[0] || batchSizes.some((n, t) => !Number.isInteger(n) || n < 1 || (t > 0 && n > batchSizes[t - 1]!))) {
    throw new Error(`lstmRecurrence: batchSizes must be positive, non-increasing and sum to the ${xProj.shape[0]} rows of xProj, got [${batchSizes.join(', ')}]`);
  }
  const backend = xProj.backend;
  const H = weightHH.shape[1]!;
  const { h, c, act } = backend.lstmForward(xProj.storage, weightHH.storage, batchSizes, H);
  const y = out(h, [rows, H], xProj);
  // The cell states and gate activations, saved for backward as tensors: the enclosing scope frees them with the graph.
  const [cells, gates] = [out(c, [c.size], xProj), out(act, [act.size], xProj)];
  if (!isGradEnabled() || !(xProj.requiresGrad || weightHH.requiresGrad)) {
    cells.dispose();
    gates.dispose();
    return y;
  }
  return record(y, 'lstmRecurrence', [xProj, weightHH], (g) => {
    const { dxProj, dWeightHH } = backend.lstmBackward(g.storage, weightHH.storage, y.storage, cells.storage, gates.storage, batchSizes, H);
    return [out(dxProj, xProj.shape, xProj), out(dWeightHH, weightHH.shape, xProj)];
  });
}

// ---------- linear-chain CRF ----------

/** Checks emissions [B,T,C], mask [B,T], transitions [C,C], start and end [C]; returns the shape. */
export function crfShape(op: string, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor): CrfShape {
  checkFloat(op, emissions, mask, transitions, start, end);
  if (emissions.rank !== 3 || emissions.shape.some((d) => d === 0)) {
    throw new Error(`${op}: emissions must be [batch, steps, tags] with no empty dimension, got ${fmt(emissions.shape)}`);
  }
  const [batch, steps, tags] = emissions.shape as [number, number, number];
  const expect = (name: string, t: Tensor, shape: number[]) => {
    if (!sameShape(t.shape, shape)) throw new Error(`${op}: ${name} has shape ${fmt(t.shape)}; emissions ${fmt(emissions.shape)} need ${fmt(shape)}`);
  };
  expect('mask', mask, [batch, steps]);
  expect('transitions', transitions, [tags, tags]);
  expect('start', start, [tags]);
  expect('end', end, [tags]);
  return { batch, steps, tags };
}

/**
 * logZ [B]: log of the sum over all tag paths of exp(score), score = start[y0] +
 * sum_t emissions[t, y_t] + sum_t transitions[y_{t-1}, y_t] + end[y_last] over unmasked steps.
 * mask is f32 0/1 [B,T], a prefix of ones per sequence (checked by the CRF layer, not here).
 */
export function crfLogPartition(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor): Tensor {
  const shape = crfShape('crfLogPartition', emissions, mask, transitions, start, end);
  const backend = emissions.backend;
  const forward = backend.crfForward(emissions.storage, mask.storage, transitions.storage, start.storage, end.storage, shape);
  // alpha lives as long as the graph node that needs it (it is freed with logZ's scope).
  const alpha = out(forward.alpha, [shape.batch, shape.steps, shape.tags], emissions);
  const logZ = out(forward.logZ, [shape.batch], emissions);
  return record(logZ, 'crfLogPartition', [emissions, transitions, start, end], (g) => {
    const d = backend.crfBackward(emissions.storage, mask.storage, transitions.storage, start.storage, end.storage, alpha.storage, g.storage, shape);
    return [out(d.dEmissions, emissions.shape, g), out(d.dTransitions, transitions.shape, g), out(d.dStart, start.shape, g), out(d.dEnd, end.shape, g)];
  });
}

/** Batched Viterbi on the device: the best tags i32 [B,T] (0 past the mask) and their scores [B]. No gradient. */
export function crfViterbi(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor): { tags: Tensor; score: Tensor } {
  const shape = crfShape('crfViterbi', emissions, mask, transitions, start, end);
  const r = emissions.backend.viterbi(emissions.storage, mask.storage, transitions.storage, start.storage, end.storage, shape);
  return { tags: out(r.tags, [shape.batch, shape.steps], emissions), score: out(r.score, [shape.batch], emissions) };
}

/** Per-token posteriors P(y_t = j) [B,T,C] (0 on masked steps): d logZ / d emissions, the backward pass with dlogZ = 1. No gradient. */
export function crfMarginals(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor): Tensor {
  const shape = crfShape('crfMarginals', emissions, mask, transitions, start, end);
  const backend = emissions.backend;
  const inputs = [emissions, mask, transitions, start, end].map((t) => t.storage) as [Storage, Storage, Storage, Storage, Storage];
  return noGrad(() =>
    tidy(() => {
      const forward = backend.crfForward(...inputs, shape);
      const [alpha, ones] = [out(forward.alpha, [forward.alpha.size], emissions), out(backend.fill(shape.batch, 1), [shape.batch], emissions)];
      out(forward.logZ, [shape.batch], emissions);
      const d = backend.crfBackward(...inputs, alpha.storage, ones.storage, shape);
      for (const unused of [d.dTransitions, d.dStart, d.dEnd]) out(unused, [unused.size], emissions); // freed by the scope
      return out(d.dEmissions, emissions.shape, emissions);
    }),
  );
}

// ---------- semi-Markov CRF ----------

/** Checks emissions [B,T,K], mask [B,T], transitions [K,K], start and end [K], lengthScores [K,L]; returns the shape. */
export function semiCrfShape(op: string, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, lengthScores: Tensor): SemiCrfShape {
  checkFloat(op, emissions, mask, transitions, start, end, lengthScores);
  if (emissions.rank !== 3 || emissions.shape.some((d) => d === 0)) throw new Error(`${op}: emissions must be [batch, steps, labels] with no empty dimension, got ${fmt(emissions.shape)}`);
  const [batch, steps, labels] = emissions.shape as [number, number, number];
  const maxLength = lengthScores.shape[1] ?? 0;
  const expect = (name: string, t: Tensor, shape: number[]) => {
    if (!sameShape(t.shape, shape)) throw new Error(`${op}: ${name} has shape ${fmt(t.shape)}; emissions ${fmt(emissions.shape)} need ${fmt(shape)}`);
  };
  expect('mask', mask, [batch, steps]);
  expect('transitions', transitions, [labels, labels]);
  expect('start', start, [labels]);
  expect('end', end, [labels]);
  if (lengthScores.rank !== 2 || lengthScores.shape[0] !== labels || maxLength < 1) throw new Error(`${op}: lengthScores must be [labels, maxLength], got ${fmt(lengthScores.shape)}`);
  return { batch, steps, labels, maxLength };
}

const semiInputs = (emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, lengthScores: Tensor): SemiCrfInputs => ({
  emissions: emissions.storage, mask: mask.storage, transitions: transitions.storage, start: start.storage, end: end.storage, lengthScores: lengthScores.storage,
});

/**
 * log Z [B] of a semi-Markov CRF: the log-sum over every segmentation into labelled segments of
 * 1..L tokens (L = lengthScores.shape[1]). Differentiable in emissions, transitions, start, end
 * and lengthScores, with the gradient from segment marginals.
 */
export function semiCrfLogPartition(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, lengthScores: Tensor): Tensor {
  const shape = semiCrfShape('semiCrfLogPartition', emissions, mask, transitions, start, end, lengthScores);
  const backend = emissions.backend;
  const inputs = semiInputs(emissions, mask, transitions, start, end, lengthScores);
  const forward = backend.semiCrfForward(inputs, shape);
  const alpha = out(forward.alpha, [shape.batch, shape.steps, shape.labels], emissions);
  const logZ = out(forward.logZ, [shape.batch], emissions);
  return record(logZ, 'semiCrfLogPartition', [emissions, transitions, start, end, lengthScores], (g) => {
    const d = backend.semiCrfBackward(inputs, alpha.storage, g.storage, shape);
    return [out(d.dEmissions, emissions.shape, g), out(d.dTransitions, transitions.shape, g), out(d.dStart, start.shape, g), out(d.dEnd, end.shape, g), out(d.dLengths, lengthScores.shape, g)];
  });
}

/** Semi-Markov Viterbi on the device: per word the label code i32 [B,T] (label, or label + K inside a segment) and the best scores [B]. */
export function semiCrfViterbi(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, lengthScores: Tensor): { codes: Tensor; score: Tensor } {
  const shape = semiCrfShape('semiCrfViterbi', emissions, mask, transitions, start, end, lengthScores);
  const r = emissions.backend.semiCrfViterbi(semiInputs(emissions, mask, transitions, start, end, lengthScores), shape);
  return { codes: out(r.labels, [shape.batch, shape.steps], emissions), score: out(r.score, [shape.batch], emissions) };
}

/** P(word t lies in a segment of label y) [B,T,K] (0 on masked words): the backward pass with dlogZ = 1. No gradient. */
export function semiCrfMarginals(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, lengthScores: Tensor): Tensor {
  const shape = semiCrfShape('semiCrfMarginals', emissions, mask, transitions, start, end, lengthScores);
  const backend = emissions.backend;
  const inputs = semiInputs(emissions, mask, transitions, start, end, lengthScores);
  return noGrad(() =>
    tidy(() => {
      const forward = backend.semiCrfForward(inputs, shape);
      const [alpha, ones] = [out(forward.alpha, [forward.alpha.size], emissions), out(backend.fill(shape.batch, 1), [shape.batch], emissions)];
      out(forward.logZ, [shape.batch], emissions);
      const d = backend.semiCrfBackward(inputs, alpha.storage, ones.storage, shape);
      for (const unused of [d.dTransitions, d.dStart, d.dEnd, d.dLengths]) out(unused, [unused.size], emissions); // freed by the scope
      return out(d.dEmissions, emissions.shape, emissions);
    }),
  );
}
