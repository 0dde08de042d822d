// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as torch.optim.AdamW.
// The whole update of a parameter is one Backend.adamwInPlace kernel, so on WebGPU
// parameters, gradients and moments never leave the device.

import { zeros, type Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { adamwUpdate } from '../ops/fused.js';
import { Optimizer, isNoDecayParameter, type NamedParameters, type OptimizerOptions, type ParamGroup, type ParamGroupOptions } from './optimizer.js';

export interface AdamWOptions extends OptimizerOptions {
  /** Defaults as torch: [0.9, 0.999]. */
  betas?: readonly [number, number];
  eps?: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  /**
   * params: model.namedParameters(), or groups such as
   * `[{ name: 'encoder', params: bert.namedParameters('bert.'), lr: 2e-5 }, { name: 'head', params, lr: 1e-3 }]`.
   * torch's default weight decay is 0.01; biases and LayerNorm weights get none
   * unless `noDecay` says otherwise (pass `() => false` for torch's plain AdamW).
   */
  constructor(params: NamedParameters | ParamGroupOptions[], options: AdamWOptions) {
    super('AdamW', params, { weightDecay: 0.01, ...options }, isNoDecayParameter);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    for (const beta of [this.beta1, this.beta2]) if (!(beta >= 0 && beta < 1)) throw new Error(`AdamW: betas must be in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    if (!(this.eps >= 0)) throw new Error(`AdamW: eps must be >= 0, got ${this.eps}`);
  }

  protected update(param: Tensor, grad: Tensor, step: number, buffers: Map<string, Tensor>, group: ParamGroup, weightDecay: number): void {
    // torch's names, so a state dict reads like torch's.
    let m = buffers.get('exp_avg');
    let v = buffers.get('exp_avg_sq');
    if (!m || !v) {
      m = keep(zeros(param.shape, { backend: param.backend }));
      v = keep(zeros(param.shape, { backend: param.backend }));
      buffers.set('exp_avg', m);
      buffers.set('exp_avg_sq', v);
    }
    adamwUpdate(param, grad, m, v, {
      lr: group.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay, step,
    });
  }
}
