// One training step, in the two halves the trainer interleaves with gradient accumulation:
// backpropagate a batch's loss, then clip and update. The benchmarks and the training tests
// run exactly these, so the step they time is the step `medner train` takes.

import type { Backend } from '../backend/backend.js';
import type { Sentence } from '../data/types.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { SentenceEncoder } from './encode.js';
import type { NerModel } from './model-factory.js';

export interface StepContext {
  model: NerModel;
  encoder: SentenceEncoder;
  labelIndex: Map<string, number>;
  backend: Backend;
  /** The parameters clipping sees (model.namedParameters(), taken once). */
  params: [string, Tensor][];
  optimizer: Optimizer;
  /** Global-norm clipping threshold; 0 = none. */
  clip: number;
}

type Batch = readonly Pick<Sentence, 'tokens' | 'tags'>[];

/** Encode, loss, backward (of the loss divided by `scale`, for accumulation); returns the undivided loss, still on the device. */
export function backpropagate(step: StepContext, sentences: Batch, scale = 1): Tensor {
  return tidy(() => {
    const { batch } = step.encoder.encode(sentences, step.labelIndex, step.backend);
    const loss = step.model.loss(batch);
    (scale > 1 ? loss.div(scale) : loss).backward();
    return loss;
  });
}

/** Clipping, the optimizer step, and the gradients dropped. */
export function applyUpdate(step: StepContext): void {
  tidy(() => {
    if (step.clip > 0) clipGradNorm(step.params, step.clip);
    step.optimizer.step();
    return null;
  });
  step.optimizer.zeroGrad();
}

/** A whole step on one batch; the loss value is its one readback. */
export async function trainingStep(step: StepContext, sentences: Batch): Promise<number> {
  const loss = backpropagate(step, sentences);
  applyUpdate(step);
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
}
