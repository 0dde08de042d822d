// The CRF log-partition written with ordinary ops: the teaching version of the forward
// algorithm, whose autograd gradient the tests compare with the fused op's marginal-based
// one (crfLogPartition, src/ops/sequence.ts).
// B = batch, T = time steps, C = tags.

import { Tensor } from '../tensor/tensor.js';
import { crfShape } from '../ops/sequence.js';
import { add } from '../ops/elementwise.js';
import { logsumexp } from '../ops/reduce.js';
import { reshape, slice, unsqueeze } from '../ops/shape.js';
import { where } from '../ops/indexing.js';

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
