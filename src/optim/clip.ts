// Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_. The norm and
// the scale stay on the device (no readback): the scale min(1, maxNorm / (norm + 1e-6))
// multiplies every gradient as a 0-d tensor, and the norm comes back as a tensor
// the caller may read (for logging) when it likes.

import { Tensor, full, zeros } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { abs, add, div, minimum, mul, pow, sqrt } from '../ops/elementwise.js';
import { max, sum, sumSquares } from '../ops/reduce.js';
import { stack } from '../ops/shape.js';
import { readHost } from '../nn/host.js';

/**
 * Scale the gradients of `params` in place so that their joint `normType`-norm is
 * at most maxNorm; returns the norm before clipping (0-d tensor, owned by the caller).
 * normType: 2 (default), any p > 0, or Infinity (largest absolute entry).
 */
export function clipGradNorm(params: Iterable<Tensor | readonly [string, Tensor]>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  const grads: Tensor[] = [];
  for (const p of params) {
    const t = p instanceof Tensor ? p : p[1];
    if (t.grad) grads.push(t.grad);
  }
  if (grads.length === 0) return zeros([]);
  return noGrad(() =>
    tidy(() => {
      let total: Tensor;
      if (normType === Infinity) total = max(stack(grads.map((g) => max(abs(g)))));
      else if (normType === 2) total = sqrt(sum(stack(grads.map((g) => sumSquares(g)))));
      else total = pow(sum(stack(grads.map((g) => sum(pow(abs(g), normType))))), 1 / normType);
      const scale = minimum(div(full([], maxNorm, { backend: total.backend }), add(total, 1e-6)), 1);
      // Where the backend reads synchronously (CPU), gradients already within the norm are left
      // as they are instead of multiplied by 1: the same values, one pass over every gradient less.
      // A NaN norm still multiplies (as torch does): every gradient becomes NaN, none steps unclipped.
      const hostScale = readHost(scale);
      if (hostScale === null || !(hostScale[0]! >= 1)) for (const g of grads) g.assign(mul(g, scale));
      return total;
    }),
  );
}
