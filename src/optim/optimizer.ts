// The Optimizer base: parameter groups (each with its own learning rate and weight
// decay, e.g. a pretrained encoder and a fresh head), per-parameter state tensors,
// and a state dict with torch's buffer names so training can stop and resume.

import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { clone } from '../ops/shape.js';

/** [name, parameter] pairs, as Module.namedParameters() returns them. */
export type NamedParameters = Iterable<readonly [string, Tensor]>;

export interface ParamGroupOptions {
  /** Shown in errors and kept in the state dict; defaults to group0, group1, ... */
  name?: string;
  params: NamedParameters;
  lr?: number;
  weightDecay?: number;
}

export interface ParamGroup {
  readonly name: string;
  readonly params: readonly (readonly [string, Tensor])[];
  /** The learning rate of the next step; a scheduler rewrites it from initialLr. */
  lr: number;
  /** The base learning rate schedules scale (torch's `initial_lr`). */
  initialLr: number;
  weightDecay: number;
}

export interface OptimizerOptions {
  lr: number;
  weightDecay?: number;
  /**
   * Parameters (by name) that get no weight decay whatever their group says.
   * AdamW defaults to isNoDecayParameter (biases, LayerNorm weights); SGD to none.
   */
  noDecay?: (name: string) => boolean;
}

/** Per-parameter state: the count of updates and named buffers (exp_avg, momentum_buffer, ...). */
interface ParamState {
  step: number;
  buffers: Map<string, Tensor>;
}

export interface OptimizerGroupState {
  name: string;
  lr: number;
  initialLr: number;
  weightDecay: number;
  params: string[];
}

/**
 * What stateDict() returns. `tensors` holds `state.<param>.step` (0-d) and
 * `state.<param>.<buffer>`; the caller owns every tensor in it (the buffers are
 * aliases of the optimizer's, so dispose them once written). `groups` is JSON.
 */
export interface OptimizerState {
  kind: string;
  groups: OptimizerGroupState[];
  tensors: Map<string, Tensor>;
}

/**
 * Hugging Face's convention for which parameters are not decayed: biases (also
 * torch's LSTM `bias_ih_l0`) and normalisation weights (BERT's `LayerNorm`,
 * DistilBERT's `sa_layer_norm`, a `norm.weight`). Decaying a LayerNorm gain pulls it toward 0.
 */
export function isNoDecayParameter(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return last.startsWith('bias') || name.includes('LayerNorm') || name.includes('layer_norm') || name.includes('norm.weight');
}

function isGroupList(params: NamedParameters | ParamGroupOptions[]): params is ParamGroupOptions[] {
  return Array.isArray(params) && params.length > 0 && !Array.isArray(params[0]) && typeof params[0] === 'object' && 'params' in (params[0] as object);
}

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  protected readonly noDecay: (name: string) => boolean;
  private readonly state = new Map<Tensor, ParamState>();
  private readonly nameOf = new Map<Tensor, string>();

  protected constructor(readonly kind: string, params: NamedParameters | ParamGroupOptions[], options: OptimizerOptions, defaultNoDecay: (name: string) => boolean) {
    if (!(options.lr >= 0)) throw new Error(`${kind}: lr must be >= 0, got ${options.lr}`);
    this.noDecay = options.noDecay ?? defaultNoDecay;
    const groupOptions: ParamGroupOptions[] = isGroupList(params) ? params : [{ params }];
    this.groups = groupOptions.map((g, i) => {
      const lr = g.lr ?? options.lr;
      const weightDecay = g.weightDecay ?? options.weightDecay ?? 0;
      const name = g.name ?? `group${i}`;
      if (!(lr >= 0) || !(weightDecay >= 0)) throw new Error(`${kind}: group ${name} has lr ${lr} and weightDecay ${weightDecay}; both must be >= 0`);
      const list = [...g.params].map(([n, t]) => [n, t] as const);
      for (const [paramName, t] of list) {
        const seen = this.nameOf.get(t);
        if (seen !== undefined) throw new Error(`${kind}: parameter ${paramName} is listed twice (also as ${seen}); each parameter belongs to one group`);
        if ([...this.nameOf.values()].includes(paramName)) throw new Error(`${kind}: two parameters are named ${paramName}; the state dict needs unique names`);
        if (t.dtype !== 'f32') throw new Error(`${kind}: parameter ${paramName} is ${t.dtype}; only f32 tensors are optimized`);
        this.nameOf.set(t, paramName);
      }
      return { name, params: list, lr, initialLr: lr, weightDecay };
    });
    if (this.nameOf.size === 0) throw new Error(`${kind}: no parameters given`);
  }

  /** One update of every parameter that has a gradient; parameters without one are skipped (as torch). */
  step(): void {
    for (const group of this.groups) {
      for (const [name, param] of group.params) {
        if (!param.grad) continue;
        const state = this.stateOf(param);
        state.step++;
        this.update(param, param.grad, state.step, state.buffers, group, this.noDecay(name) ? 0 : group.weightDecay);
      }
    }
  }

  /** The update rule of one parameter; buffers persist across steps and are created here on step 1. */
  protected abstract update(param: Tensor, grad: Tensor, step: number, buffers: Map<string, Tensor>, group: ParamGroup, weightDecay: number): void;

  zeroGrad(): void {
    for (const group of this.groups) for (const [, p] of group.params) p.zeroGrad();
  }

  private stateOf(param: Tensor): ParamState {
    let state = this.state.get(param);
    if (!state) {
      state = { step: 0, buffers: new Map() };
      this.state.set(param, state);
    }
    return state;
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [param, state] of this.state) {
      const name = this.nameOf.get(param)!;
      tensors.set(`state.${name}.step`, keep(Tensor.fromArray([state.step], [], 'f32', param.backend)));
      for (const [buffer, t] of state.buffers) tensors.set(`state.${name}.${buffer}`, keep(t.alias()));
    }
    const groups = this.groups.map((g) => ({ name: g.name, lr: g.lr, initialLr: g.initialLr, weightDecay: g.weightDecay, params: g.params.map(([n]) => n) }));
    return { kind: this.kind, groups, tensors };
  }

  /**
   * Restore from stateDict() output (possibly read back from a file). Buffers are
   * copied, so the caller may dispose `state.tensors` afterwards. Async because
   * the step counts are read back from their tensors.
   */
  async loadStateDict(state: OptimizerState): Promise<void> {
    if (state.kind !== this.kind) throw new Error(`${this.kind}.loadStateDict: the state was saved by ${state.kind}`);
    if (state.groups.length !== this.groups.length) {
      throw new Error(`${this.kind}.loadStateDict: the state has ${state.groups.length} parameter groups, the optimizer ${this.groups.length}`);
    }
    state.groups.forEach((saved, i) => {
      const group = this.groups[i]!;
      const names = group.params.map(([n]) => n);
      if (saved.params.length !== names.length || saved.params.some((n, k) => n !== names[k])) {
        throw new Error(`${this.kind}.loadStateDict: group ${group.name} holds [${names.join(', ')}] but the state has [${saved.params.join(', ')}]`);
      }
    });
    const byName = new Map([...this.nameOf].map(([t, n]) => [n, t] as const));
    const restored = new Map<Tensor, ParamState>();
    for (const [key, t] of state.tensors) {
      const match = /^state\.(.+)\.([^.]+)$/.exec(key);
      const param = match ? byName.get(match[1]!) : undefined;
      if (!match || !param) throw new Error(`${this.kind}.loadStateDict: ${key} names no parameter of this optimizer`);
      const entry = restored.get(param) ?? { step: 0, buffers: new Map<string, Tensor>() };
      restored.set(param, entry);
      if (match[2] === 'step') entry.step = (await t.data())[0]!;
      else {
        if (t.shape.length !== param.shape.length || t.shape.some((d, k) => d !== param.shape[k])) {
          throw new Error(`${this.kind}.loadStateDict: ${key} has shape [${t.shape.join(', ')}] but ${match[1]} is [${param.shape.join(', ')}]`);
        }
        entry.buffers.set(match[2]!, keep(clone(t)));
      }
    }
    this.disposeState();
    for (const [param, entry] of restored) this.state.set(param, entry);
    state.groups.forEach((saved, i) => {
      const group = this.groups[i]!;
      group.lr = saved.lr;
      group.initialLr = saved.initialLr;
      group.weightDecay = saved.weightDecay;
    });
  }

  private disposeState(): void {
    for (const state of this.state.values()) for (const t of state.buffers.values()) t.dispose();
    this.state.clear();
  }

  /** Free the state buffers (m, v, momentum); parameters and gradients stay with their owner. */
  dispose(): void {
    this.disposeState();
  }
}
