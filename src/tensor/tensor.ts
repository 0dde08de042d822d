// The Tensor: a shape over a contiguous, refcounted device buffer, plus the
// autograd fields (requiresGrad, grad, node). The op methods (`a.matmul(b).relu().sum()`,
// the same as `ops.sum(ops.relu(...))`) are added by src/ops/methods.ts, a layer above.

import type { Backend, DType, Storage, TypedArray } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { GradNode } from '../autograd/backward.js';
import { track } from './scope.js';
import { checkShape, fmt, shapeSize, type Shape } from './shape.js';
import { globalRng, type Rng } from './random.js';

/** A device buffer shared by a tensor and its views (reshape, detach, alias). */
class SharedStorage {
  refs = 1;
  constructor(readonly backend: Backend, readonly storage: Storage) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  /** Optional name, used by modules and error messages. */
  name?: string;
  private shared: SharedStorage | null;

  private constructor(shared: SharedStorage, shape: Shape, dtype: DType) {
    this.shared = shared;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    track(this);
  }

  // ---------- construction ----------

  /** Wrap a kernel's output. The tensor takes ownership of the storage. */
  static fromStorage(storage: Storage, shape: Shape, backend: Backend = getBackend()): Tensor {
    if (storage.size !== shapeSize(shape)) {
      throw new Error(`Tensor: storage of ${storage.size} elements cannot have shape ${fmt(shape)}`);
    }
    return new Tensor(new SharedStorage(backend, storage), shape, storage.dtype);
  }

  static fromArray(data: ArrayLike<number> | TypedArray, shape?: Shape, dtype: DType = data instanceof Int32Array ? 'i32' : 'f32', backend: Backend = getBackend()): Tensor {
    const s = shape ? checkShape('fromArray', shape) : [data.length];
    if (shapeSize(s) !== data.length) throw new Error(`fromArray: ${data.length} values cannot have shape ${fmt(s)}`);
    // A typed array of the right type goes to the backend as it is (the backend copies it).
    const typed = dtype === 'i32' ? (data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>)) : data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    return Tensor.fromStorage(backend.fromArray(typed), s, backend);
  }

  /** The backend and storage of this tensor; throws if disposed. */
  get backend(): Backend {
    return this.live().backend;
  }

  get storage(): Storage {
    return this.live().storage;
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.shared === null;
  }

  private live(): SharedStorage {
    if (!this.shared) throw new Error(`Tensor ${this.name ?? '#' + this.id} ${fmt(this.shape)} was used after dispose()`);
    return this.shared;
  }

  /** A new tensor with another shape over the same buffer (no copy). Internal: use reshape(). */
  view(shape: Shape): Tensor {
    const shared = this.live();
    if (shapeSize(shape) !== this.size) throw new Error(`view: cannot view ${fmt(this.shape)} as ${fmt(shape)}`);
    shared.refs++;
    return new Tensor(shared, shape, this.dtype);
  }

  /** Same buffer, same shape, no graph: used where a tensor must be owned twice. */
  alias(): Tensor {
    return this.view(this.shape);
  }

  /** A tensor sharing this buffer but cut from the graph. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  dispose(): void {
    if (!this.shared) return;
    this.shared.release();
    this.shared = null;
    this.node = null;
  }

  /** Replace this tensor's buffer by `other`'s (same shape); used by optimizers and checkpoint loading. */
  assign(other: Tensor): this {
    if (other.shape.length !== this.shape.length || other.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign: shape ${fmt(other.shape)} does not match ${fmt(this.shape)}`);
    }
    if (other.backend !== this.backend) throw new Error('assign: tensors live on different backends');
    const shared = other.live();
    shared.refs++;
    this.live().release();
    this.shared = shared;
    return this;
  }

  // ---------- reading back ----------

  /** Values on the host. Async because a WebGPU readback is. */
  async data(): Promise<TypedArray> {
    return this.backend.read(this.storage);
  }

  /** Synchronous read, CPU backend only. */
  dataSync(): TypedArray {
    const b = this.backend;
    if (!b.readSync) throw new Error(`dataSync: the ${b.name} backend reads asynchronously; use await tensor.data()`);
    return b.readSync(this.storage);
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor has shape ${fmt(this.shape)}, not one element`);
    return (await this.data())[0]!;
  }

  /** Nested arrays, for printing and tests. */
  async toArray(): Promise<unknown> {
    const flat = Array.from(await this.data());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---------- autograd ----------


  setRequiresGrad(value = true): this {
    if (value && this.dtype !== 'f32') throw new Error('requiresGrad: only f32 tensors can require gradients');
    this.requiresGrad = value;
    return this;
  }

  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  onesLike(): Tensor {
    return Tensor.fromStorage(this.backend.fill(this.size, 1), this.shape, this.backend);
  }
}

// ---------- creation ----------

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  backend?: Backend;
}

function finish(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.setRequiresGrad();
  return t;
}

export function tensor(data: ArrayLike<number> | TypedArray | number, shape?: Shape, options: CreateOptions = {}): Tensor {
  const values = typeof data === 'number' ? [data] : data;
  const s = shape ?? (typeof data === 'number' ? [] : undefined);
  return finish(Tensor.fromArray(values, s, options.dtype, options.backend), options);
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  const backend = options.backend ?? getBackend();
  const s = checkShape('zeros', shape);
  return finish(Tensor.fromStorage(backend.zeros(shapeSize(s), options.dtype ?? 'f32'), s, backend), options);
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  const backend = options.backend ?? getBackend();
  const s = checkShape('full', shape);
  if (options.dtype === 'i32') return finish(Tensor.fromArray(new Int32Array(shapeSize(s)).fill(value), s, 'i32', backend), options);
  return finish(Tensor.fromStorage(backend.fill(shapeSize(s), value), s, backend), options);
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const n = Math.max(0, Math.ceil((end - start) / step));
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return finish(Tensor.fromArray(values, [n], options.dtype ?? 'f32', options.backend), options);
}

/** Uniform in [low, high) from `rng` (the global, seedable generator by default). */
export function uniform(shape: Shape, low = 0, high = 1, options: CreateOptions & { rng?: Rng } = {}): Tensor {
  const rng = options.rng ?? globalRng;
  const values = new Float32Array(shapeSize(checkShape('uniform', shape)));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(low, high);
  return finish(Tensor.fromArray(values, shape, 'f32', options.backend), options);
}

export function rand(shape: Shape, options: CreateOptions & { rng?: Rng } = {}): Tensor {
  return uniform(shape, 0, 1, options);
}

/** Normal(mean, std) from `rng` (the global, seedable generator by default). */
export function randn(shape: Shape, options: CreateOptions & { rng?: Rng; mean?: number; std?: number } = {}): Tensor {
  const rng = options.rng ?? globalRng;
  const values = new Float32Array(shapeSize(checkShape('randn', shape)));
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  for (let i = 0; i < values.length; i++) values[i] = mean + std * rng.normal();
  return finish(Tensor.fromArray(values, shape, 'f32', options.backend), options);
}
