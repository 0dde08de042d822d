// Module: a tree of named parameters and sub-modules, as torch.nn.Module.
// Dotted names (encoder.layer.0.attention.self.query.weight) are the keys of the
// state dict, so Hugging Face checkpoints load by name.

import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fmt } from '../tensor/shape.js';
import { releaseQuantized, type QuantizedMatrix } from '../ops/quantized.js';

/** Mark a tensor as a trainable parameter: requires grad and is never freed by a tidy scope. */
export function parameter(t: Tensor): Tensor {
  return keep(t.setRequiresGrad(true));
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  /** Parameters replaced by their int8 form (src/nn/quantize.ts): inference only, not in stateDict(). */
  private readonly int8Params = new Map<string, QuantizedMatrix>();

  /** Register (or replace) a parameter under `name`; returns it for `this.weight = this.param(...)`. */
  protected param(name: string, t: Tensor): Tensor {
    this.params.set(name, parameter(t));
    t.name ??= name;
    return t;
  }

  protected child<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const result: [string, Tensor][] = [];
    for (const [name, t] of this.params) result.push([prefix + name, t]);
    for (const [name, m] of this.children) result.push(...m.namedParameters(`${prefix}${name}.`));
    return result;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedModules(prefix = ''): [string, Module][] {
    const result: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, m] of this.children) result.push(...m.namedModules(`${prefix}${name}.`));
    return result;
  }

  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /** Copy values in by name. strict: every parameter must be present and no extra names. */
  loadStateDict(state: Map<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(`loadStateDict: missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`);
    }
    for (const [name, t] of own) {
      const source = state.get(name);
      if (!source) continue;
      if (source.shape.length !== t.shape.length || source.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`loadStateDict: ${name} has shape ${fmt(source.shape)} in the state dict but ${fmt(t.shape)} in the model`);
      }
      t.assign(source);
    }
    return { missing, unexpected };
  }

  /**
   * Replace the 2-D f32 parameter `name` by int8 values and per-output-channel scales (dynamic
   * quantization, src/ops/quantized.ts). The f32 tensor is freed; the layer's forward uses the int8 form.
   */
  setQuantized(name: string, weight: QuantizedMatrix): void {
    const t = this.params.get(name);
    if (!t) throw new Error(`${this.constructor.name}.setQuantized: no parameter '${name}'`);
    if (t.rank !== 2 || t.shape[0] !== weight.rows || t.shape[1] !== weight.cols) throw new Error(`${this.constructor.name}.setQuantized: '${name}' is ${fmt(t.shape)}, the int8 weight [${weight.rows}, ${weight.cols}]`);
    this.params.delete(name);
    t.dispose();
    this.int8Params.set(name, weight);
  }

  /** The int8 form of parameter `name`, if it was quantized. */
  quantized(name: string): QuantizedMatrix | undefined {
    return this.int8Params.get(name);
  }

  /** Every int8 parameter by its dotted name, as namedParameters lists the f32 ones. */
  namedQuantized(prefix = ''): [string, QuantizedMatrix][] {
    const result: [string, QuantizedMatrix][] = [];
    for (const [name, q] of this.int8Params) result.push([prefix + name, q]);
    for (const [name, m] of this.children) result.push(...m.namedQuantized(`${prefix}${name}.`));
    return result;
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Free every parameter and gradient buffer. Children dispose themselves, so what a
   * sub-module holds beside parameters (the CRF's constraint penalties) is freed too.
   */
  dispose(): void {
    for (const p of this.params.values()) {
      p.zeroGrad();
      p.dispose();
    }
    for (const q of this.int8Params.values()) releaseQuantized(q);
    for (const m of this.children.values()) m.dispose();
  }
}
