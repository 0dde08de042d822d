// The position-wise feed-forward block DistilBERT (FFN: lin1, lin2) and GPT-Neo (GPTNeoMLP: c_fc,
// c_proj) share: dropout(output(act(input(x)))), H -> I -> H. Only the checkpoint's names differ.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { Dropout, Linear } from './linear.js';
import { activation, type Activation } from './activations.js';

export class FeedForward extends Module {
  private readonly input: Linear;
  private readonly output: Linear;
  readonly dropout: Dropout;

  /** `names`: the two linears' names in the checkpoint (input H -> I, output I -> H). */
  constructor(names: readonly [string, string], sizes: { hiddenSize: number; intermediateSize: number; hiddenDropout: number }, private readonly act: Activation, initStd: number) {
    super();
    this.input = this.child(names[0], new Linear(sizes.hiddenSize, sizes.intermediateSize, { initStd }));
    this.output = this.child(names[1], new Linear(sizes.intermediateSize, sizes.hiddenSize, { initStd }));
    this.dropout = this.child('dropout', new Dropout(sizes.hiddenDropout));
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.output.forward(activation(this.act, this.input.forward(x))));
  }
}
