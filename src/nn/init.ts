// Parameter initialisers that reproduce PyTorch's and Hugging Face's defaults, drawn
// from the seedable global generator (src/tensor/random.ts) so a seed fixes a model.

import { randn, uniform, zeros, ones, type Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';

/**
 * torch.nn.init.kaiming_uniform_(w, a=sqrt(5)), the default of nn.Linear and nn.Conv1d:
 * gain sqrt(2 / (1 + a^2)) = sqrt(1/3), bound gain * sqrt(3 / fanIn) = 1 / sqrt(fanIn).
 * The bias uses the same bound.
 */
export function torchDefaultUniform(shape: Shape, fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound);
}

/** Hugging Face BERT: normal(0, initializer_range) for every Linear and Embedding weight. */
export function normalInit(shape: Shape, std: number): Tensor {
  return randn(shape, { std });
}

export function zerosInit(shape: Shape): Tensor {
  return zeros(shape);
}

export function onesInit(shape: Shape): Tensor {
  return ones(shape);
}
