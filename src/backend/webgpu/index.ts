// The WebGPU backend: every Backend kernel as a dispatch of a WGSL file in
// kernels/ (interfaces in ./kernels.ts). Outputs are allocated from a buffer
// pool; nothing is read back to the host except by read().
// createWebGpuBackend() finds a device (./device.ts) and loads the kernels.

import type { AdamWParams, AxisLayout, Backend, BinaryOp, BroadcastLayout, CrfShape, DType, MatmulLayout, ReduceOp, RotaryLayout, SemiCrfInputs, SemiCrfShape, Storage, StridedCopy, TypedArray, UnaryOp } from '../backend.js';
import { contiguousStrides } from '../../tensor/shape.js';
import { mergeDimensions } from '../layout.js';
import { hash32 } from '../../tensor/random.js';
import { acquireDevice, type AdapterReport, type DeviceOptions } from './device.js';
import { KERNELS, MAX_DIMS, maxStorageBindings, type KernelSpec } from './kernels.js';
import { opCode } from './op-tables.js';
import { Runtime, loadKernelSources, platformKernelLoader, type KernelLoader } from './runtime.js';
import { chooseKernelVariants, type KernelVariants } from './variants.js';

export type { AdapterReport } from './device.js';
export type { KernelLoader } from './runtime.js';
export type { KernelProfile, KernelVariants } from './variants.js';

/** kernels/matmul_vec4.wgsl, the general kernels/matmul.wgsl, or kernels/matmul_tiled.wgsl (real GPUs). */
export type MatmulVersion = 'vec4' | 'general' | 'tiled';

export class WebGpuStorage implements Storage {
  freed = false;
  constructor(readonly buffer: GPUBuffer, readonly size: number, readonly dtype: DType) {}
}

/** Largest tag set the CRF kernels hold in workgroup memory (MAX_TAGS in crf_*.wgsl, viterbi.wgsl). */
const MAX_CRF_TAGS = 256;
const MAX_GROUPS_PER_DIMENSION = 65535;
/** Largest label set and segment length of the semi-Markov CRF kernels (MAX_LABELS, MAX_SEGMENT in semi_crf_*.wgsl). */
const MAX_SEMI_CRF_LABELS = 64;
const MAX_SEMI_CRF_SEGMENT = 16;

export { mergeDimensions } from '../layout.js';

function checkRank(op: string, shape: number[]): void {
  if (shape.length > MAX_DIMS) throw new Error(`webgpu ${op}: ${shape.length} dimensions after merging [${shape}]; the kernel takes at most ${MAX_DIMS}`);
}

/** Where each step's rows start in a packed batch (offsets[T] = N); batchSizes must be non-increasing. */
function packedOffsets(op: string, batchSizes: readonly number[]): number[] {
  const offsets = [0];
  batchSizes.forEach((n, t) => {
    if (!Number.isInteger(n) || n < 0 || (t > 0 && n > batchSizes[t - 1]!)) {
      throw new Error(`webgpu ${op}: batchSizes must be non-increasing non-negative integers, got [${batchSizes}]`);
    }
    offsets.push(offsets[t]! + n);
  });
  return offsets;
}

function checkSize(op: string, name: string, s: Storage, size: number): void {
  if (s.size !== size) throw new Error(`webgpu ${op}: ${name} has ${s.size} elements, expected ${size}`);
}

export interface WebGpuBackendOptions extends DeviceOptions {
  /** How to load kernels/*.wgsl; Node reads them from the package, a browser must pass a fetcher. */
  loadKernel?: KernelLoader;
  /** Use this device instead of finding one (a browser page that already has one). */
  device?: GPUDevice;
  /** Kernel set: 'software', 'gpu' or 'auto' (by adapter; MEDNER_WEBGPU_KERNELS when not given). */
  kernels?: string;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;

  readonly variants: KernelVariants;

  constructor(readonly runtime: Runtime, readonly adapter: AdapterReport, kernels?: string) {
    this.variants = chooseKernelVariants(adapter, runtime.device.limits, kernels);
  }

  /** One workgroup per row (real GPUs), or one invocation per row (software adapters). */
  private get rowsPerWorkgroup(): boolean {
    return this.variants.profile === 'gpu';
  }

  // ---------- helpers ----------

  private allocate(size: number, dtype: DType): WebGpuStorage {
    return new WebGpuStorage(this.runtime.storagePool.acquire(size * 4), size, dtype);
  }

  private buffer(s: Storage, op: string, dtype?: DType): GPUBuffer {
    if (!(s instanceof WebGpuStorage)) throw new Error(`webgpu ${op}: the storage belongs to another backend`);
    if (s.freed) throw new Error(`webgpu ${op}: buffer used after it was freed`);
    if (dtype && s.dtype !== dtype) throw new Error(`webgpu ${op}: expected an ${dtype} buffer, got ${s.dtype}`);
    return s.buffer;
  }

  private runCounted(spec: KernelSpec, count: number, buffers: Record<string, GPUBuffer>, uniforms: Record<string, number | readonly number[]>, constants = {}): void {
    if (count === 0) return;
    this.runtime.run(spec, buffers, uniforms, Runtime.grid(spec, count), constants);
  }

  private runPerSequence(spec: KernelSpec, batch: number, buffers: Record<string, GPUBuffer>, shape: CrfShape): void {
    if (batch > MAX_GROUPS_PER_DIMENSION) throw new Error(`webgpu ${spec.file}: batch ${batch} exceeds ${MAX_GROUPS_PER_DIMENSION} sequences per dispatch`);
    if (batch === 0 || shape.steps === 0 || shape.tags === 0) return;
    // One lane per tag (64 lanes at least, up to MAX_CRF_TAGS): a sequence's whole forward or
    // Viterbi pass is one workgroup, so its time is steps x (tags / lanes) x tags. With 64 lanes
    // over 129 tags, llvmpipe returned a 128-step sequence's alpha unfinished (bench/gpu/check.ts).
    const lanes = Math.min(MAX_CRF_TAGS, Math.max(64, Math.ceil(shape.tags / 64) * 64));
    this.runtime.run(spec, buffers, { batch: shape.batch, steps: shape.steps, tags: shape.tags }, [batch, 1, 1], { WORKGROUP_SIZE: lanes });
  }

  private checkCrfShape(op: string, shape: CrfShape): void {
    if (shape.tags > MAX_CRF_TAGS) throw new Error(`webgpu ${op}: ${shape.tags} tags; the CRF kernels hold at most ${MAX_CRF_TAGS} in workgroup memory`);
  }

  /** Scratch buffers live only for the kernels of one call; queue order makes the early release safe. */
  private withScratch<T>(sizes: number[], body: (buffers: GPUBuffer[]) => T): T {
    const buffers = sizes.map((n) => this.runtime.storagePool.acquire(n * 4));
    try {
      return body(buffers);
    } finally {
      for (const b of buffers) this.runtime.storagePool.release(b);
    }
  }

  // ---------- memory ----------

  fromArray(data: TypedArray): Storage {
    const s = this.allocate(data.length, data instanceof Int32Array ? 'i32' : 'f32');
    this.runtime.write(s.buffer, data);
    return s;
  }

  zeros(size: number, dtype: DType): Storage {
    const s = this.allocate(size, dtype);
    this.runtime.clear(s.buffer, size * 4);
    return s;
  }

  fill(size: number, value: number): Storage {
    const s = this.allocate(size, 'f32');
    this.runCounted(KERNELS.fill, size, { y: s.buffer }, { size, value });
    return s;
  }

  async read(s: Storage): Promise<TypedArray> {
    const bytes = await this.runtime.read(this.buffer(s, 'read'), s.size * 4);
    return s.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  free(s: Storage): void {
    const storage = s as WebGpuStorage;
    if (storage.freed) throw new Error('webgpu backend: buffer freed twice');
    storage.freed = true;
    this.runtime.storagePool.release(storage.buffer);
  }

  liveBuffers(): number {
    return this.runtime.storagePool.live;
  }

  /** Wait for all submitted work (benchmarks time with this or a read). */
  async synchronize(): Promise<void> {
    await this.runtime.finish();
  }

  /** Release the device; the backend is unusable afterwards. */
  destroy(): void {
    this.runtime.storagePool.trim();
    this.runtime.device.destroy();
  }

  // ---------- elementwise ----------

  unary(op: UnaryOp, x: Storage): Storage {
    const y = this.allocate(x.size, 'f32');
    this.runCounted(KERNELS.unary, x.size, { x: this.buffer(x, op, 'f32'), y: y.buffer }, { size: x.size }, { OP: opCode.unary(op) });
    return y;
  }

  binary(op: BinaryOp, a: Storage, b: Storage, layout: BroadcastLayout): Storage {
    const size = layout.outShape.reduce((n, d) => n * d, 1);
    const { shape, strides } = mergeDimensions(layout.outShape, [layout.stridesA, layout.stridesB]);
    checkRank(op, shape);
    const y = this.allocate(size, 'f32');
    this.runCounted(
      KERNELS.binary, size,
      { a: this.buffer(a, op, 'f32'), b: this.buffer(b, op, 'f32'), y: y.buffer },
      { shape, stridesA: strides[0]!, stridesB: strides[1]!, rank: shape.length, size },
      // One pipeline per merged rank: fixed loop bounds, and no division at rank 1.
      { OP: opCode.binary(op), RANK: shape.length },
    );
    return y;
  }

  where(cond: Storage, a: Storage, b: Storage, layout: BroadcastLayout): Storage {
    const size = layout.outShape.reduce((n, d) => n * d, 1);
    const stridesCond = layout.stridesC ?? contiguousStrides(layout.outShape);
    const { shape, strides } = mergeDimensions(layout.outShape, [stridesCond, layout.stridesA, layout.stridesB]);
    checkRank('where', shape);
    const y = this.allocate(size, 'f32');
    this.runCounted(
      KERNELS.where, size,
      { cond: this.buffer(cond, 'where', 'f32'), a: this.buffer(a, 'where', 'f32'), b: this.buffer(b, 'where', 'f32'), y: y.buffer },
      { shape, stridesCond: strides[0]!, stridesA: strides[1]!, stridesB: strides[2]!, rank: shape.length, size },
      { RANK: shape.length },
    );
    return y;
  }

  copyStridedInPlace(src: Storage, dst: Storage, copy: StridedCopy): void {
    const size = copy.shape.reduce((n, d) => n * d, 1);
    const { shape, strides } = mergeDimensions(copy.shape, [copy.srcStrides, copy.dstStrides]);
    checkRank('copyStrided', shape);
    this.runCounted(
      KERNELS.copyStrided, size,
      { src: this.buffer(src, 'copyStrided'), dst: this.buffer(dst, 'copyStrided') },
      { shape, srcStrides: strides[0]!, dstStrides: strides[1]!, rank: shape.length, size, srcOffset: copy.srcOffset, dstOffset: copy.dstOffset },
      { RANK: shape.length },
    );
  }


  // ---------- reductions ----------

  reduce(op: ReduceOp, x: Storage, layout: AxisLayout): Storage {
    const outputs = layout.outer * layout.inner;
    const y = this.allocate(outputs, 'f32');
    // Few outputs over a long axis: a workgroup per output, so the axis is split across lanes.
    const wide = layout.axis >= 64 && outputs < 1024;
    const spec = wide ? KERNELS.reduceWide : KERNELS.reduceColumns;
    this.runCounted(spec, outputs, { x: this.buffer(x, op, 'f32'), y: y.buffer }, { ...layout }, { OP: opCode.reduce(op) });
    return y;
  }

  argmax(x: Storage, layout: AxisLayout): Storage {
    const outputs = layout.outer * layout.inner;
    const y = this.allocate(outputs, 'i32');
    this.runCounted(KERNELS.argmax, outputs, { x: this.buffer(x, 'argmax', 'f32'), y: y.buffer }, { ...layout });
    return y;
  }

  softmax(x: Storage, layout: AxisLayout, log: boolean): Storage {
    const y = this.allocate(x.size, 'f32');
    const buffers = { x: this.buffer(x, 'softmax', 'f32'), y: y.buffer };
    if (this.rowsPerWorkgroup && layout.inner === 1) {
      this.runCounted(KERNELS.softmaxRows, layout.outer, buffers, { ...layout }, { LOG: log, WORKGROUP_SIZE: this.variants.rowLanes });
    } else {
      this.runCounted(KERNELS.softmax, layout.outer * layout.inner, buffers, { ...layout }, { LOG: log });
    }
    return y;
  }

  // ---------- linear algebra ----------

  matmul(a: Storage, b: Storage, layout: MatmulLayout): Storage {
    const { k, m, n, transA, transB } = layout;
    // The vec4 kernel reads whole vec4s along k (and along m when A is transposed, n when B is not).
    const aligned =
      k % 4 === 0 && (!transA || m % 4 === 0) && (transB || n % 4 === 0) && layout.batchStrideA % 4 === 0 && layout.batchStrideB % 4 === 0;
    if (this.variants.profile === 'gpu') return this.matmulUsing('tiled', a, b, layout);
    return this.matmulUsing(aligned ? 'vec4' : 'general', a, b, layout);
  }

  /** matmul with a chosen kernel version (the benchmark compares them); 'vec4' requires the alignment matmul() checks. */
  matmulUsing(version: MatmulVersion, a: Storage, b: Storage, layout: MatmulLayout): Storage {
    const { batch, m, k, n, transA, transB } = layout;
    if (batch > MAX_GROUPS_PER_DIMENSION) throw new Error(`webgpu matmul: batch ${batch} exceeds ${MAX_GROUPS_PER_DIMENSION}`);
    const c = this.allocate(batch * m * n, 'f32');
    const buffers = { a: this.buffer(a, 'matmul', 'f32'), b: this.buffer(b, 'matmul', 'f32'), c: c.buffer };
    const uniforms = { batch, m, k, n, batchStrideA: layout.batchStrideA, batchStrideB: layout.batchStrideB };
    if (version === 'tiled') {
      const tiling = this.variants.matmulTiling;
      const tileGrid: [number, number, number] = [Math.ceil(n / (8 * tiling.WG_X)), Math.ceil(m / (8 * tiling.WG_Y)), batch];
      this.runtime.run(KERNELS.matmulTiled, buffers, uniforms, tileGrid, { ...tiling, TRANS_A: transA, TRANS_B: transB });
      return c;
    }
    // 8 x 8 invocations per workgroup, 4 x 4 outputs each: 32 x 32 outputs per workgroup.
    const grid: [number, number, number] = [Math.ceil(n / 32), Math.ceil(m / 32), batch];
    this.runtime.run(
      version === 'vec4' ? KERNELS.matmulVec4 : KERNELS.matmul,
      buffers,
      uniforms,
      grid,
      { TRANS_A: transA, TRANS_B: transB },
    );
    return c;
  }

  // ---------- indexing ----------

  indexSelect(x: Storage, index: Storage, layout: AxisLayout, count: number): Storage {
    const size = layout.outer * count * layout.inner;
    const y = this.allocate(size, x.dtype);
    this.runCounted(
      KERNELS.indexSelect, size,
      { x: this.buffer(x, 'indexSelect'), index: this.buffer(index, 'indexSelect', 'i32'), y: y.buffer },
      { outer: layout.outer, rows: layout.axis, inner: layout.inner, count },
    );
    return y;
  }

  indexAdd(grad: Storage, index: Storage, layout: AxisLayout, count: number): Storage {
    const y = this.zeros(layout.outer * layout.axis * layout.inner, 'f32') as WebGpuStorage;
    const uniforms = { outer: layout.outer, rows: layout.axis, inner: layout.inner, count };
    const indexBuffer = this.buffer(index, 'indexAdd', 'i32');
    this.withScratch([count, count], ([next, first]) => {
      this.runCounted(KERNELS.indexAddLink, count, { index: indexBuffer, next: next!, first: first! }, uniforms);
      this.runCounted(
        KERNELS.indexAddAccumulate, layout.outer * count * layout.inner,
        { grad: this.buffer(grad, 'indexAdd', 'f32'), index: indexBuffer, next: next!, first: first!, y: y.buffer },
        uniforms,
      );
    });
    return y;
  }

  // ---------- fused layers ----------

  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, dim: number, eps: number) {
    const y = this.allocate(rows * dim, 'f32');
    const mean = this.allocate(rows, 'f32');
    const rstd = this.allocate(rows, 'f32');
    const buffers = { x: this.buffer(x, 'layerNorm', 'f32'), gamma: this.buffer(gamma, 'layerNorm', 'f32'), beta: this.buffer(beta, 'layerNorm', 'f32'), y: y.buffer, mean: mean.buffer, rstd: rstd.buffer };
    if (this.rowsPerWorkgroup) this.runCounted(KERNELS.layerNormRows, rows, buffers, { rows, dim, eps }, { WORKGROUP_SIZE: this.variants.rowLanes });
    else this.runCounted(KERNELS.layerNorm, rows, buffers, { rows, dim, eps });
    return { y, mean, rstd };
  }

  layerNormBackward(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, dim: number) {
    const dx = this.allocate(rows * dim, 'f32');
    const dgamma = this.allocate(dim, 'f32');
    const dbeta = this.allocate(dim, 'f32');
    const inputs = {
      dy: this.buffer(dy, 'layerNormBackward', 'f32'), x: this.buffer(x, 'layerNormBackward', 'f32'), gamma: this.buffer(gamma, 'layerNormBackward', 'f32'),
      mean: this.buffer(mean, 'layerNormBackward', 'f32'), rstd: this.buffer(rstd, 'layerNormBackward', 'f32'),
    };
    this.runCounted(KERNELS.layerNormInputGrad, rows, { ...inputs, dx: dx.buffer }, { rows, dim });
    this.runCounted(KERNELS.layerNormParamGrads, dim, { ...inputs, dgamma: dgamma.buffer, dbeta: dbeta.buffer }, { rows, dim });
    return { dx, dgamma, dbeta };
  }

  /** Bind the class weights, or a 1-element placeholder when there are none (bindings cannot be empty). */
  private withClassWeights<T>(classWeights: Storage | null, body: (weights: GPUBuffer) => T): T {
    if (classWeights) return body(this.buffer(classWeights, 'crossEntropy', 'f32'));
    return this.withScratch([1], ([placeholder]) => body(placeholder!));
  }

  crossEntropy(logits: Storage, targets: Storage, classWeights: Storage | null, rows: number, classes: number, ignoreIndex: number) {
    const loss = this.allocate(rows, 'f32');
    const weight = this.allocate(rows, 'f32');
    this.withClassWeights(classWeights, (weights) =>
      this.runCounted(
        this.rowsPerWorkgroup ? KERNELS.crossEntropyRows : KERNELS.crossEntropy, rows,
        { logits: this.buffer(logits, 'crossEntropy', 'f32'), targets: this.buffer(targets, 'crossEntropy', 'i32'), classWeights: weights, loss: loss.buffer, weight: weight.buffer },
        { rows, classes, ignoreIndex, hasWeights: classWeights ? 1 : 0 },
        this.rowsPerWorkgroup ? { WORKGROUP_SIZE: this.variants.rowLanes } : {},
      ),
    );
    return { loss, weight };
  }

  crossEntropyBackward(logits: Storage, targets: Storage, classWeights: Storage | null, dloss: Storage, rows: number, classes: number, ignoreIndex: number): Storage {
    const dlogits = this.allocate(rows * classes, 'f32');
    this.withClassWeights(classWeights, (weights) =>
      this.runCounted(
        KERNELS.crossEntropyBackward, rows,
        {
          logits: this.buffer(logits, 'crossEntropyBackward', 'f32'), targets: this.buffer(targets, 'crossEntropyBackward', 'i32'),
          classWeights: weights, dloss: this.buffer(dloss, 'crossEntropyBackward', 'f32'), dlogits: dlogits.buffer,
        },
        { rows, classes, ignoreIndex, hasWeights: classWeights ? 1 : 0 },
      ),
    );
    return dlogits;
  }

  dropoutMask(size: number, p: number, seed: number): Storage {
    if (!(p >= 0 && p < 1)) throw new Error(`webgpu dropoutMask: p must be in [0, 1), got ${p}`);
    const mask = this.allocate(size, 'f32');
    // hashUniform(seed, i) >= p  <=>  top24(hash) >= ceil(p * 2^24): exact integers, so the mask matches the CPU bit for bit.
    this.runCounted(
      KERNELS.dropoutMask, size, { mask: mask.buffer },
      { size, seededKey: hash32(seed >>> 0), threshold: Math.ceil(p * 16777216), scale: Math.fround(1 / (1 - p)) },
    );
    return mask;
  }

  // ---------- transformer kernels ----------

  rotary(x: Storage, cos: Storage, sin: Storage, layout: RotaryLayout, inverse: boolean): Storage {
    const { outer, length, inner, dim } = layout;
    const size = outer * length * inner * dim;
    checkSize('rotary', 'x', x, size);
    checkSize('rotary', 'cos', cos, (length * dim) / 2);
    checkSize('rotary', 'sin', sin, (length * dim) / 2);
    const y = this.allocate(size, 'f32');
    this.runCounted(
      KERNELS.rotary, size / 2,
      { x: this.buffer(x, 'rotary', 'f32'), cosTable: this.buffer(cos, 'rotary', 'f32'), sinTable: this.buffer(sin, 'rotary', 'f32'), y: y.buffer },
      { pairs: size / 2, length, inner, half: dim / 2, sign: inverse ? -1 : 1 },
    );
    return y;
  }

  windowBias(mask: Storage, batch: number, length: number, halfWindow: number, masked: number): Storage {
    checkSize('windowBias', 'mask', mask, batch * length);
    const size = batch * length * length;
    const bias = this.allocate(size, 'f32');
    this.runCounted(KERNELS.windowBias, size, { mask: this.buffer(mask, 'windowBias', 'f32'), bias: bias.buffer }, { size, length, halfWindow: Math.min(halfWindow, 0xffffffff), masked });
    return bias;
  }

  geglu(x: Storage, rows: number, width: number): Storage {
    checkSize('geglu', 'x', x, rows * 2 * width);
    const y = this.allocate(rows * width, 'f32');
    this.runCounted(KERNELS.geglu, rows * width, { x: this.buffer(x, 'geglu', 'f32'), y: y.buffer }, { size: rows * width, width });
    return y;
  }

  gegluBackward(dy: Storage, x: Storage, rows: number, width: number): Storage {
    checkSize('gegluBackward', 'x', x, rows * 2 * width);
    checkSize('gegluBackward', 'dy', dy, rows * width);
    const dx = this.allocate(rows * 2 * width, 'f32');
    this.runCounted(KERNELS.gegluBackward, rows * width, { x: this.buffer(x, 'gegluBackward', 'f32'), dy: this.buffer(dy, 'gegluBackward', 'f32'), dx: dx.buffer }, { size: rows * width, width });
    return dx;
  }

  // ---------- sequence kernels ----------

  /**
   * lstmForward: per step t, the recurrent term h[rows of step t-1] W_hh^T (a copy of those
   * rows and a matmul), then one lstm_step dispatch; step 0 has no previous state, so it is
   * the step dispatch alone. 3 dispatches per step after the first.
   */
  lstmForward(xProj: Storage, weightHH: Storage, batchSizes: readonly number[], hidden: number) {
    const op = 'lstmForward';
    const G = 4 * hidden;
    const offsets = packedOffsets(op, batchSizes);
    const N = offsets[batchSizes.length]!;
    checkSize(op, 'xProj', xProj, N * G);
    checkSize(op, 'weightHH', weightHH, G * hidden);
    const xBuffer = this.buffer(xProj, op, 'f32');
    this.buffer(weightHH, op, 'f32');
    const h = this.allocate(N * hidden, 'f32');
    const c = this.allocate(N * hidden, 'f32');
    const act = this.allocate(N * G, 'f32');
    const outputs = { h: h.buffer, c: c.buffer, act: act.buffer };
    for (let t = 0; t < batchSizes.length; t++) {
      const n = batchSizes[t]!;
      const uniforms = { rows: n, hidden, rowOffset: offsets[t]!, prevOffset: t > 0 ? offsets[t - 1]! : 0, hasPrev: t > 0 ? 1 : 0 };
      if (t === 0) {
        // No recurrent term: xProj is bound again in its place (read-only aliasing) and not read.
        this.runCounted(KERNELS.lstmStep, n * hidden, { xProj: xBuffer, recurrent: xBuffer, ...outputs }, uniforms);
        continue;
      }
      const hPrev = this.allocate(n * hidden, 'f32');
      this.copyStridedInPlace(h, hPrev, { shape: [n * hidden], srcOffset: uniforms.prevOffset * hidden, srcStrides: [1], dstOffset: 0, dstStrides: [1] });
      const recurrent = this.matmul(hPrev, weightHH, { batch: 1, m: n, k: hidden, n: G, transA: false, transB: true, batchStrideA: 0, batchStrideB: 0 });
      this.runCounted(KERNELS.lstmStep, n * hidden, { xProj: xBuffer, recurrent: this.buffer(recurrent, op), ...outputs }, uniforms);
      // Releasing now is safe: a later user of these buffers is recorded after this step's call.
      this.free(hPrev);
      this.free(recurrent);
    }
    return { h, c, act };
  }

  /**
   * lstmBackward: per step t (last first), one lstm_step_backward dispatch (dcCarry updated in
   * place), then for t > 0 the carried dh for step t-1, dxProj[rows of step t] W_hh (a copy of
   * those rows and a matmul): 3 dispatches per step except step 0's 1. dW_hh is one matmul at
   * the end, over the gate gradients of steps >= 1 and the h rows that fed them (gathered).
   */
  lstmBackward(dh: Storage, weightHH: Storage, h: Storage, c: Storage, act: Storage, batchSizes: readonly number[], hidden: number) {
    const op = 'lstmBackward';
    const G = 4 * hidden;
    const T = batchSizes.length;
    const offsets = packedOffsets(op, batchSizes);
    const N = offsets[T]!;
    checkSize(op, 'dh', dh, N * hidden);
    checkSize(op, 'weightHH', weightHH, G * hidden);
    checkSize(op, 'h', h, N * hidden);
    checkSize(op, 'c', c, N * hidden);
    checkSize(op, 'act', act, N * G);
    const dhBuffer = this.buffer(dh, op, 'f32');
    const inputs = { dh: dhBuffer, act: this.buffer(act, op, 'f32'), c: this.buffer(c, op, 'f32') };
    this.buffer(weightHH, op, 'f32');
    this.buffer(h, op, 'f32');
    const dxProj = this.allocate(N * G, 'f32');
    const first = batchSizes[0] ?? 0;
    // Rows >= carriedRows are written before they are read, so dcCarry needs no clearing.
    const dcCarry = this.allocate(first * hidden, 'f32');
    let dhRec: Storage | null = null;
    let carried = 0;
    for (let t = T - 1; t >= 0; t--) {
      const n = batchSizes[t]!;
      const rowOffset = offsets[t]!;
      this.runCounted(
        KERNELS.lstmStepBackward, n * hidden,
        // Nothing carried into the last step: dh is bound again in dhRec's place and not read.
        { ...inputs, dhRec: dhRec ? this.buffer(dhRec, op) : dhBuffer, dxProj: dxProj.buffer, dcCarry: dcCarry.buffer },
        { rows: n, hidden, rowOffset, prevOffset: t > 0 ? offsets[t - 1]! : 0, hasPrev: t > 0 ? 1 : 0, carriedRows: carried },
      );
      if (dhRec) this.free(dhRec);
      dhRec = null;
      if (t > 0) {
        const dGates = this.allocate(n * G, 'f32');
        this.copyStridedInPlace(dxProj, dGates, { shape: [n * G], srcOffset: rowOffset * G, srcStrides: [1], dstOffset: 0, dstStrides: [1] });
        dhRec = this.matmul(dGates, weightHH, { batch: 1, m: n, k: G, n: hidden, transA: false, transB: false, batchStrideA: 0, batchStrideB: 0 });
        this.free(dGates);
      }
      carried = n;
    }
    this.free(dcCarry);

    // dW_hh [G, H] = dGates^T [G, K] x hPrev [K, H] over the K rows of steps 1..T-1.
    const K = N - first;
    if (K === 0) return { dxProj, dWeightHH: this.zeros(G * hidden, 'f32') };
    const previousRows = new Int32Array(K);
    for (let t = 1; t < T; t++) for (let i = 0; i < batchSizes[t]!; i++) previousRows[offsets[t]! - first + i] = offsets[t - 1]! + i;
    const index = this.fromArray(previousRows);
    const hPrev = this.indexSelect(h, index, { outer: 1, axis: N, inner: hidden }, K);
    const dGates = this.allocate(K * G, 'f32');
    this.copyStridedInPlace(dxProj, dGates, { shape: [K * G], srcOffset: first * G, srcStrides: [1], dstOffset: 0, dstStrides: [1] });
    const dWeightHH = this.matmul(dGates, hPrev, { batch: 1, m: G, k: K, n: hidden, transA: true, transB: false, batchStrideA: 0, batchStrideB: 0 });
    for (const s of [index, hPrev, dGates]) this.free(s);
    return { dxProj, dWeightHH };
  }

  private crfInputs(op: string, emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage) {
    return {
      emissions: this.buffer(emissions, op, 'f32'), mask: this.buffer(mask, op, 'f32'), transitions: this.buffer(transitions, op, 'f32'),
      start: this.buffer(start, op, 'f32'), end: this.buffer(end, op, 'f32'),
    };
  }

  crfForward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape) {
    this.checkCrfShape('crfForward', shape);
    const logZ = this.allocate(shape.batch, 'f32');
    const alpha = this.allocate(shape.batch * shape.steps * shape.tags, 'f32');
    const inputs = this.crfInputs('crfForward', emissions, mask, transitions, start, end);
    this.runPerSequence(KERNELS.crfForward, shape.batch, { ...inputs, logZ: logZ.buffer, alpha: alpha.buffer }, shape);
    return { logZ, alpha };
  }

  crfBackward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, alpha: Storage, dlogZ: Storage, shape: CrfShape) {
    this.checkCrfShape('crfBackward', shape);
    const { batch, steps, tags } = shape;
    const dEmissions = this.allocate(batch * steps * tags, 'f32');
    const dTransitions = this.allocate(tags * tags, 'f32');
    const dStart = this.allocate(tags, 'f32');
    const dEnd = this.allocate(tags, 'f32');
    const buffers = {
      ...this.crfInputs('crfBackward', emissions, mask, transitions, start, end),
      alpha: this.buffer(alpha, 'crfBackward', 'f32'), dlogZ: this.buffer(dlogZ, 'crfBackward', 'f32'),
      dEmissions: dEmissions.buffer, dTransitions: dTransitions.buffer, dStart: dStart.buffer, dEnd: dEnd.buffer,
    };
    if (batch === 0 || steps === 0) {
      // No sequence: every gradient is zero.
      for (const s of [dEmissions, dTransitions, dStart, dEnd]) this.runtime.clear(s.buffer, s.size * 4);
      return { dEmissions, dTransitions, dStart, dEnd };
    }
    this.withScratch([batch * steps * tags, batch], ([beta, logZ]) => {
      const all = { ...buffers, beta: beta!, logZ: logZ! };
      this.runPerSequence(KERNELS.crfBackwardSequence, batch, all, shape);
      this.runCounted(KERNELS.crfBackwardTransitions, tags * tags, all, { batch, steps, tags });
      this.runCounted(KERNELS.crfBackwardBoundaries, tags, all, { batch, steps, tags });
    });
    return { dEmissions, dTransitions, dStart, dEnd };
  }

  viterbi(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape) {
    this.checkCrfShape('viterbi', shape);
    const { batch, steps, tags } = shape;
    const bestTags = this.allocate(batch * steps, 'i32');
    const score = this.allocate(batch, 'f32');
    this.withScratch([batch * steps * tags], ([backpointers]) => {
      const inputs = this.crfInputs('viterbi', emissions, mask, transitions, start, end);
      this.runPerSequence(KERNELS.viterbi, batch, { ...inputs, backpointers: backpointers!, bestTags: bestTags.buffer, score: score.buffer }, shape);
    });
    return { tags: bestTags, score };
  }

  private semiCrfBuffers(op: string, i: SemiCrfInputs, shape: SemiCrfShape) {
    const { batch, steps, labels, maxLength } = shape;
    if (labels > MAX_SEMI_CRF_LABELS) throw new Error(`webgpu ${op}: ${labels} labels; the semi-Markov CRF kernels hold at most ${MAX_SEMI_CRF_LABELS}`);
    if (maxLength > MAX_SEMI_CRF_SEGMENT) throw new Error(`webgpu ${op}: segments of up to ${maxLength} tokens; the semi-Markov CRF kernels allow at most ${MAX_SEMI_CRF_SEGMENT}`);
    if (batch > MAX_GROUPS_PER_DIMENSION) throw new Error(`webgpu ${op}: batch ${batch} exceeds ${MAX_GROUPS_PER_DIMENSION} sequences per dispatch`);
    checkSize(op, 'emissions', i.emissions, batch * steps * labels);
    checkSize(op, 'mask', i.mask, batch * steps);
    checkSize(op, 'transitions', i.transitions, labels * labels);
    checkSize(op, 'lengthScores', i.lengthScores, labels * maxLength);
    return {
      emissions: this.buffer(i.emissions, op, 'f32'), mask: this.buffer(i.mask, op, 'f32'), transitions: this.buffer(i.transitions, op, 'f32'),
      start: this.buffer(i.start, op, 'f32'), end: this.buffer(i.end, op, 'f32'), lengthScores: this.buffer(i.lengthScores, op, 'f32'),
    };
  }

  semiCrfForward(inputs: SemiCrfInputs, shape: SemiCrfShape) {
    const buffers = this.semiCrfBuffers('semiCrfForward', inputs, shape);
    const logZ = this.allocate(shape.batch, 'f32');
    const alpha = this.allocate(shape.batch * shape.steps * shape.labels, 'f32');
    this.runtime.run(KERNELS.semiCrfForward, { ...buffers, logZ: logZ.buffer, alpha: alpha.buffer }, { ...shape }, [shape.batch, 1, 1]);
    return { logZ, alpha };
  }

  semiCrfBackward(inputs: SemiCrfInputs, alpha: Storage, dlogZ: Storage, shape: SemiCrfShape) {
    const op = 'semiCrfBackward';
    const buffers = this.semiCrfBuffers(op, inputs, shape);
    const { batch, steps, labels: K, maxLength: L } = shape;
    const width = K * K + 2 * K + K * L;
    const dEmissions = this.allocate(batch * steps * K, 'f32');
    const sums = this.allocate(width, 'f32');
    this.withScratch([batch * (3 * steps + 1) * K, batch * width], ([scratch, partials]) => {
      const all = { ...buffers, alpha: this.buffer(alpha, op, 'f32'), dlogZ: this.buffer(dlogZ, op, 'f32'), scratch: scratch!, dEmissions: dEmissions.buffer, partials: partials!, sums: sums.buffer };
      this.runtime.run(KERNELS.semiCrfBackwardSequence, all, { ...shape }, [batch, 1, 1]);
      this.runCounted(KERNELS.semiCrfBatchSums, width, all, { ...shape });
    });
    // One kernel summed the four parameter gradients side by side; split them.
    const part = (offset: number, size: number) => {
      const s = this.allocate(size, 'f32');
      this.copyStridedInPlace(sums, s, { shape: [size], srcOffset: offset, srcStrides: [1], dstOffset: 0, dstStrides: [1] });
      return s;
    };
    const result = { dEmissions, dTransitions: part(0, K * K), dStart: part(K * K, K), dEnd: part(K * K + K, K), dLengths: part(K * K + 2 * K, K * L) };
    this.free(sums);
    return result;
  }

  semiCrfViterbi(inputs: SemiCrfInputs, shape: SemiCrfShape) {
    const buffers = this.semiCrfBuffers('semiCrfViterbi', inputs, shape);
    const { batch, steps, labels } = shape;
    const codes = this.allocate(batch * steps, 'i32');
    const score = this.allocate(batch, 'f32');
    this.withScratch([batch * steps * labels], ([backpointers]) => {
      this.runtime.run(KERNELS.semiCrfViterbi, { ...buffers, backpointers: backpointers!, labels: codes.buffer, score: score.buffer }, { ...shape }, [batch, 1, 1]);
    });
    return { labels: codes, score };
  }

  // ---------- optimizer ----------

  adamwInPlace(param: Storage, grad: Storage, m: Storage, v: Storage, opts: AdamWParams): void {
    const op = 'adamwInPlace';
    this.runCounted(
      KERNELS.adamw, param.size,
      { param: this.buffer(param, op, 'f32'), grad: this.buffer(grad, op, 'f32'), m: this.buffer(m, op, 'f32'), v: this.buffer(v, op, 'f32') },
      {
        size: param.size, lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, weightDecay: opts.weightDecay,
        correction1: 1 - opts.beta1 ** opts.step, correction2: 1 - opts.beta2 ** opts.step,
      },
    );
  }
}

/**
 * Find a device (default adapter, else Dawn's OpenGL ES backend; navigator.gpu in
 * a browser), load the kernels and return the backend. Throws one line naming the
 * backends tried and what to install when there is no adapter.
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const loader = options.loadKernel ?? platformKernelLoader;
  const [acquired, sources] = await Promise.all([
    options.device
      ? Promise.resolve({ device: options.device, adapter: { vendor: '', architecture: '', description: 'caller-provided device', backend: 'browser', fallback: false } as AdapterReport })
      : acquireDevice({ storageBuffersNeeded: maxStorageBindings(), ...options }),
    loadKernelSources(loader),
  ]);
  const runtime = new Runtime(acquired.device, sources);
  await runtime.checkShaders();
  return new WebGpuBackend(runtime, acquired.adapter, options.kernels);
}
