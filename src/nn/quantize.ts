// Dynamic int8 quantization of a model, as torch.ao.quantization.quantize_dynamic({nn.Linear, nn.LSTM}, qint8):
// every Linear weight and every LSTM weight (input and recurrent, each direction and layer) becomes int8
// with one scale per output channel; biases, embeddings, LayerNorms, the char-CNN and the CRF stay f32.
// The layers then run their products in int8 (src/ops/quantized.ts). Inference only.

import { quantizePerChannel, type QuantizedMatrix } from '../ops/quantized.js';
import type { Module } from './module.js';
import { Linear } from './linear.js';
import { LSTM } from './lstm.js';

/** The parameters (by local name) of one module that dynamic quantization turns into int8. */
function quantizable(module: Module): string[] {
  if (module instanceof Linear) return ['weight'];
  if (module instanceof LSTM) return module.namedParameters().map(([name]) => name).filter((name) => name.startsWith('weight_'));
  return [];
}

/**
 * Quantize every Linear and LSTM weight of `model` in place; returns their dotted names (what a
 * checkpoint's config.json records). Weights already int8 are left as they are.
 */
export async function quantizeDynamic(model: Module): Promise<string[]> {
  const names: string[] = [];
  for (const [prefix, module] of model.namedModules()) {
    for (const name of quantizable(module)) {
      const weight = module.namedParameters().find(([n]) => n === name)?.[1];
      if (!weight) continue;
      if (weight.rank !== 2) throw new Error(`quantizeDynamic: ${prefix}.${name} is ${weight.rank}-D; int8 weights are matrices`);
      const [rows, cols] = weight.shape as [number, number];
      const values = (await weight.data()) as Float32Array;
      module.setQuantized(name, quantizePerChannel(values, rows, cols));
      names.push(prefix ? `${prefix}.${name}` : name);
    }
  }
  return names;
}

/** Put int8 weights (read from a checkpoint) in place of the f32 parameters of the same dotted names. */
export function setQuantizedWeights(model: Module, weights: Map<string, QuantizedMatrix>): void {
  const modules = new Map(model.namedModules());
  for (const [dotted, q] of weights) {
    const cut = dotted.lastIndexOf('.');
    const owner = modules.get(cut < 0 ? '' : dotted.slice(0, cut));
    const name = dotted.slice(cut + 1);
    if (!owner || !quantizable(owner).includes(name)) throw new Error(`${dotted}: not a Linear or LSTM weight of this model, so it cannot be int8`);
    owner.setQuantized(name, q);
  }
}
