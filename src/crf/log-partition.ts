// The CRF log-partition as an op: forward algorithm in one kernel, gradient by
// forward-backward marginals in another (Backend.crfForward / crfBackward;
// src/backend/cpu/crf.ts). Next to it, the same quantity written with ordinary ops,
// whose autograd gradient the tests compare with the marginal-based one.
// B = batch, T = time steps, C = tags.

import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out } from '../ops/util.js';
import { add } from '../ops/elementwise.js';
import { logsumexp } from '../ops/reduce.js';
import { reshape, slice, unsqueeze } from '../ops/shape.js';
import { where } from '../ops/indexing.js';
import type { CrfShape } from '../backend/backend.js';

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

/**
 * The same logZ with ordinary ops and autograd -- a cross-check for crfLogPartition's
 * explicit backward, and a teaching version of the forward algorithm. One logsumexp per step:
 * alpha_t[b,j] = logsumexp_i(alpha_{t-1}[b,i] + transitions[i,j]) + emissions[b,t,j],
 * kept only where mask[b,t] = 1 (masked steps carry alpha forward).
 */
export function logPartitionAutodiff(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor): Tensor {
  const { batch, steps, tags } = crfShape('logPartitionAutodiff', emissions, mask, transitions, start, end);
  const step = (t: number) => reshape(slice(emissions, 1, t, t + 1), [batch, tags]); // [B,C]
  let alpha = add(start, step(0));
  for (let t = 1; t < steps; t++) {
    // [B,C,1] + [C,C] -> [B,C,C]; reduce over the previous tag (axis 1).
    const next = add(logsumexp(add(unsqueeze(alpha, 2), transitions), 1), step(t));
    alpha = where(slice(mask, 1, t, t + 1), next, alpha); // [B,1] selects per sequence
  }
  return logsumexp(add(alpha, end), 1);
}
