// The feed-forward activations the encoders use, by Hugging Face's ACT2FN names.

import type { Tensor } from '../tensor/tensor.js';
import { add, gelu, mul, pow, relu, tanh } from '../ops/index.js';

export const ACTIVATIONS = ['gelu', 'relu', 'gelu_new', 'gelu_pytorch_tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** tanh approximation of GELU (HF 'gelu_new'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanh(x: Tensor): Tensor {
  const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}

export function activation(name: Activation, x: Tensor): Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'relu':
      return relu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
  }
}

/** A config's hiddenAct checked against what the encoder implements (all of ACTIVATIONS unless it says fewer). */
export function checkActivation(who: string, name: string, supported: readonly Activation[] = ACTIVATIONS): Activation {
  if (!(supported as readonly string[]).includes(name)) throw new Error(`${who}: activation '${name}' is not supported (${supported.join(', ')})`);
  return name as Activation;
}
