// Fused ops whose forward and backward are each one kernel: layer_norm,
// cross-entropy, dropout (kernels/layer_norm*.wgsl, kernels/cross_entropy*.wgsl,
// kernels/dropout.wgsl; src/backend/cpu/fused.ts).
// Shape legend: N = rows, D = features, C = classes.

import { Tensor } from '../tensor/tensor.js';
import type { AdamWParams } from '../backend/backend.js';
import { fmt } from '../tensor/shape.js';
import { globalRng } from '../tensor/random.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out } from './util.js';
import { div, mul } from './elementwise.js';
import { sum } from './reduce.js';

/** LayerNorm over the last axis: x [..., D], gamma and beta [D]. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  checkFloat('layerNorm', x, gamma, beta);
  const dim = x.shape[x.rank - 1]!;
  if (gamma.size !== dim || beta.size !== dim) {
    throw new Error(`layerNorm: gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must have the last dim of x ${fmt(x.shape)}`);
  }
  const rows = x.size / dim;
  const { y, mean, rstd } = x.backend.layerNorm(x.storage, gamma.storage, beta.storage, rows, dim, eps);
  // mean and rstd live as long as the output's graph node (they are freed with y's scope).
  const meanT = out(mean, [rows], x);
  const rstdT = out(rstd, [rows], x);
  return record(out(y, x.shape, x), 'layerNorm', [x, gamma, beta], (g) => {
    const grads = x.backend.layerNormBackward(g.storage, x.storage, gamma.storage, meanT.storage, rstdT.storage, rows, dim);
    return [out(grads.dx, x.shape, x), out(grads.dgamma, gamma.shape, x), out(grads.dbeta, beta.shape, x)];
  });
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (PyTorch's default -100). */
  ignoreIndex?: number;
  /** Per-class weights [C]. */
  weight?: Tensor;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of logits [N, C] against i32 targets [N]. 'mean' divides by the
 * summed weights of non-ignored rows, as torch.nn.functional.cross_entropy does.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkFloat('crossEntropy', logits);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [N, C], got ${fmt(logits.shape)}`);
  const [rows, classes] = logits.shape as [number, number];
  if (targets.dtype !== 'i32' || targets.size !== rows) {
    throw new Error(`crossEntropy: targets must be i32 [${rows}], got ${targets.dtype} ${fmt(targets.shape)}`);
  }
  if (options.weight && options.weight.size !== classes) {
    throw new Error(`crossEntropy: weight ${fmt(options.weight.shape)} must have ${classes} entries`);
  }
  const weightStorage = options.weight?.storage ?? null;
  const { loss, weight } = logits.backend.crossEntropy(logits.storage, targets.storage, weightStorage, rows, classes, ignoreIndex);
  const rowWeights = out(weight, [rows], logits);
  const perRow = record(out(loss, [rows], logits), 'crossEntropy', [logits], (g) => [
    out(logits.backend.crossEntropyBackward(logits.storage, targets.storage, weightStorage, g.storage, rows, classes, ignoreIndex), logits.shape, logits),
  ]);
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'none') return perRow;
  if (reduction === 'sum') return sum(perRow);
  return div(sum(perRow), sum(rowWeights));
}

/** Inverted dropout: zero with probability p, scale the rest by 1/(1-p). Identity when not training. */
export function dropout(x: Tensor, p: number, training: boolean, seed: number = globalRng.nextUint32()): Tensor {
  if (p < 0 || p >= 1) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const mask = out(x.backend.dropoutMask(x.size, p, seed), x.shape, x);
  return mul(x, mask);
}

/**
 * One AdamW step in place (decoupled weight decay, bias-corrected moments as torch.optim.AdamW):
 * param, and its moments m and v, are updated from grad by one kernel. An optimizer update, not
 * part of any graph.
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWParams): void {
  checkFloat('adamwUpdate', param, grad, m, v);
  for (const [name, t] of [['grad', grad], ['exp_avg', m], ['exp_avg_sq', v]] as const) {
    if (t.size !== param.size) throw new Error(`adamwUpdate: ${name} ${fmt(t.shape)} does not match the parameter ${fmt(param.shape)}`);
  }
  param.backend.adamwInPlace(param.storage, grad.storage, m.storage, v.storage, options);
}
