// SGD with momentum, dampening, Nesterov and L2 weight decay, as torch.optim.SGD.
// Written with engine ops under noGrad, so it runs on whichever backend holds the parameters.

import type { Tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { clone } from '../ops/shape.js';
import { Optimizer, type NamedParameters, type OptimizerOptions, type ParamGroup, type ParamGroupOptions } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  /** Weight decay here is torch's: added to the gradient (L2), on every parameter unless `noDecay` excludes it. */
  constructor(params: NamedParameters | ParamGroupOptions[], options: SGDOptions) {
    super('SGD', params, options, () => false);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${this.momentum}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
  }

  protected update(param: Tensor, grad: Tensor, step: number, buffers: Map<string, Tensor>, group: ParamGroup, weightDecay: number): void {
    noGrad(() =>
      tidy(() => {
        let direction = weightDecay !== 0 ? add(grad, mul(param, weightDecay)) : grad;
        if (this.momentum !== 0) {
          let buffer = buffers.get('momentum_buffer');
          if (!buffer || step === 1) {
            // torch starts the buffer at the first gradient, undamped.
            buffer?.dispose();
            buffer = keep(clone(direction));
            buffers.set('momentum_buffer', buffer);
          } else {
            buffer.assign(add(mul(buffer, this.momentum), mul(direction, 1 - this.dampening)));
          }
          direction = this.nesterov ? add(direction, mul(buffer, this.momentum)) : buffer;
        }
        param.assign(sub(param, mul(direction, group.lr)));
      }),
    );
  }
}
