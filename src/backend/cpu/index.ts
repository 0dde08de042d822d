// The CPU backend: plain TypeScript over Float32Array / Int32Array. It is the
// readable reference every WebGPU kernel is tested against.

import type { AdamWParams, AxisLayout, Backend, BinaryOp, BroadcastLayout, CrfShape, DType, MatmulLayout, QuantizedMatrix, ReduceOp, RotaryLayout, SemiCrfInputs, SemiCrfShape, Storage, StridedCopy, TypedArray, UnaryOp } from '../backend.js';
import * as elementwise from './elementwise.js';
import * as reductions from './reduce.js';
import { matmul } from './matmul.js';
import * as fused from './fused.js';
import * as crf from './crf.js';
import * as semiCrf from './semi-crf.js';
import * as lstm from './lstm.js';
import * as transformer from './transformer.js';
import * as quantized from './quantized.js';
import { allocF32, releaseF32 } from './pool.js';

export class CpuStorage implements Storage {
  freed = false;
  constructor(readonly data: TypedArray) {}
  get size(): number {
    return this.data.length;
  }
  get dtype(): DType {
    return this.data instanceof Int32Array ? 'i32' : 'f32';
  }
}

function f32(s: Storage): Float32Array {
  const { data, freed } = s as CpuStorage;
  if (freed) throw new Error('cpu backend: buffer used after it was freed');
  if (!(data instanceof Float32Array)) throw new Error('cpu backend: expected an f32 buffer, got i32');
  return data;
}

function i32(s: Storage): Int32Array {
  const { data, freed } = s as CpuStorage;
  if (freed) throw new Error('cpu backend: buffer used after it was freed');
  if (!(data instanceof Int32Array)) throw new Error('cpu backend: expected an i32 buffer, got f32');
  return data;
}

function any(s: Storage): TypedArray {
  const { data, freed } = s as CpuStorage;
  if (freed) throw new Error('cpu backend: buffer used after it was freed');
  return data;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  private live = 0;

  private wrap(data: TypedArray): CpuStorage {
    this.live++;
    return new CpuStorage(data);
  }

  // ---- memory ----
  fromArray(data: TypedArray): Storage {
    return this.wrap(data.slice());
  }
  zeros(size: number, dtype: DType): Storage {
    return this.wrap(dtype === 'i32' ? new Int32Array(size) : allocF32(size));
  }
  fill(size: number, value: number): Storage {
    return this.wrap(allocF32(size).fill(value));
  }
  async read(s: Storage): Promise<TypedArray> {
    return any(s).slice();
  }
  /** Synchronous read; the CPU backend only. */
  readSync(s: Storage): TypedArray {
    return any(s).slice();
  }
  free(s: Storage): void {
    const storage = s as CpuStorage;
    if (storage.freed) throw new Error('cpu backend: buffer freed twice');
    storage.freed = true;
    releaseF32(storage.data);
    this.live--;
  }
  liveBuffers(): number {
    return this.live;
  }

  // ---- elementwise ----
  unary(op: UnaryOp, x: Storage): Storage {
    return this.wrap(elementwise.unary(op, f32(x)));
  }
  binary(op: BinaryOp, a: Storage, b: Storage, layout: BroadcastLayout): Storage {
    return this.wrap(elementwise.binary(op, f32(a), f32(b), layout));
  }
  where(cond: Storage, a: Storage, b: Storage, layout: BroadcastLayout): Storage {
    return this.wrap(elementwise.where(f32(cond), f32(a), f32(b), layout));
  }
  copyStridedInPlace(src: Storage, dst: Storage, copy: StridedCopy): void {
    elementwise.copyStrided(any(src), any(dst), copy);
  }

  // ---- reductions ----
  reduce(op: ReduceOp, x: Storage, layout: AxisLayout): Storage {
    return this.wrap(reductions.reduce(op, f32(x), layout));
  }
  argmax(x: Storage, layout: AxisLayout): Storage {
    return this.wrap(reductions.argmax(f32(x), layout));
  }
  softmax(x: Storage, layout: AxisLayout, log: boolean): Storage {
    return this.wrap(reductions.softmax(f32(x), layout, log));
  }

  // ---- linear algebra ----
  matmul(a: Storage, b: Storage, layout: MatmulLayout): Storage {
    return this.wrap(matmul(f32(a), f32(b), layout));
  }

  // ---- indexing ----
  indexSelect(x: Storage, index: Storage, layout: AxisLayout, count: number): Storage {
    return this.wrap(fused.indexSelect(any(x), i32(index), layout, count));
  }
  indexAdd(grad: Storage, index: Storage, layout: AxisLayout, count: number): Storage {
    return this.wrap(fused.indexAdd(f32(grad), i32(index), layout, count));
  }

  // ---- fused layers ----
  layerNorm(x: Storage, gamma: Storage, beta: Storage, rows: number, dim: number, eps: number) {
    const r = fused.layerNorm(f32(x), f32(gamma), f32(beta), rows, dim, eps);
    return { y: this.wrap(r.y), mean: this.wrap(r.mean), rstd: this.wrap(r.rstd) };
  }
  layerNormBackward(dy: Storage, x: Storage, gamma: Storage, mean: Storage, rstd: Storage, rows: number, dim: number) {
    const r = fused.layerNormBackward(f32(dy), f32(x), f32(gamma), f32(mean), f32(rstd), rows, dim);
    return { dx: this.wrap(r.dx), dgamma: this.wrap(r.dgamma), dbeta: this.wrap(r.dbeta) };
  }
  crossEntropy(logits: Storage, targets: Storage, classWeights: Storage | null, rows: number, classes: number, ignoreIndex: number) {
    const r = fused.crossEntropy(f32(logits), i32(targets), classWeights && f32(classWeights), rows, classes, ignoreIndex);
    return { loss: this.wrap(r.loss), weight: this.wrap(r.weight) };
  }
  crossEntropyBackward(logits: Storage, targets: Storage, classWeights: Storage | null, dloss: Storage, rows: number, classes: number, ignoreIndex: number): Storage {
    return this.wrap(fused.crossEntropyBackward(f32(logits), i32(targets), classWeights && f32(classWeights), f32(dloss), rows, classes, ignoreIndex));
  }
  dropoutMask(size: number, p: number, seed: number): Storage {
    return this.wrap(fused.dropoutMask(size, p, seed));
  }

  // ---- transformer kernels ----
  rotary(x: Storage, cos: Storage, sin: Storage, layout: RotaryLayout, inverse: boolean): Storage {
    return this.wrap(transformer.rotary(f32(x), f32(cos), f32(sin), layout, inverse));
  }
  windowBias(mask: Storage, batch: number, length: number, halfWindow: number, masked: number): Storage {
    return this.wrap(transformer.windowBias(f32(mask), batch, length, halfWindow, masked));
  }
  geglu(x: Storage, rows: number, width: number): Storage {
    return this.wrap(transformer.geglu(f32(x), rows, width));
  }
  gegluBackward(dy: Storage, x: Storage, rows: number, width: number): Storage {
    return this.wrap(transformer.gegluBackward(f32(dy), f32(x), rows, width));
  }

  // ---- sequence kernels ----
  lstmForward(xProj: Storage, weightHH: Storage, batchSizes: readonly number[], hidden: number) {
    const r = lstm.lstmForward(f32(xProj), f32(weightHH), batchSizes, hidden);
    return { h: this.wrap(r.h), c: this.wrap(r.c), act: this.wrap(r.act) };
  }
  lstmBackward(dh: Storage, weightHH: Storage, h: Storage, c: Storage, act: Storage, batchSizes: readonly number[], hidden: number) {
    const r = lstm.lstmBackward(f32(dh), f32(weightHH), f32(h), f32(c), f32(act), batchSizes, hidden);
    return { dxProj: this.wrap(r.dxProj), dWeightHH: this.wrap(r.dWeightHH) };
  }
  crfForward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape) {
    const r = crf.crfForward(f32(emissions), f32(mask), f32(transitions), f32(start), f32(end), shape);
    return { logZ: this.wrap(r.logZ), alpha: this.wrap(r.alpha) };
  }
  crfBackward(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, alpha: Storage, dlogZ: Storage, shape: CrfShape) {
    const r = crf.crfBackward(f32(emissions), f32(mask), f32(transitions), f32(start), f32(end), f32(alpha), f32(dlogZ), shape);
    return { dEmissions: this.wrap(r.dEmissions), dTransitions: this.wrap(r.dTransitions), dStart: this.wrap(r.dStart), dEnd: this.wrap(r.dEnd) };
  }
  viterbi(emissions: Storage, mask: Storage, transitions: Storage, start: Storage, end: Storage, shape: CrfShape) {
    const r = crf.viterbi(f32(emissions), f32(mask), f32(transitions), f32(start), f32(end), shape);
    return { tags: this.wrap(r.tags), score: this.wrap(r.score) };
  }
  private semiCrfArrays(i: SemiCrfInputs): semiCrf.SemiCrfArrays {
    return { emissions: f32(i.emissions), mask: f32(i.mask), transitions: f32(i.transitions), start: f32(i.start), end: f32(i.end), lengthScores: f32(i.lengthScores) };
  }
  semiCrfForward(inputs: SemiCrfInputs, shape: SemiCrfShape) {
    const r = semiCrf.semiCrfForward(this.semiCrfArrays(inputs), shape);
    return { logZ: this.wrap(r.logZ), alpha: this.wrap(r.alpha) };
  }
  semiCrfBackward(inputs: SemiCrfInputs, alpha: Storage, dlogZ: Storage, shape: SemiCrfShape) {
    const r = semiCrf.semiCrfBackward(this.semiCrfArrays(inputs), f32(alpha), f32(dlogZ), shape);
    return { dEmissions: this.wrap(r.dEmissions), dTransitions: this.wrap(r.dTransitions), dStart: this.wrap(r.dStart), dEnd: this.wrap(r.dEnd), dLengths: this.wrap(r.dLengths) };
  }
  semiCrfViterbi(inputs: SemiCrfInputs, shape: SemiCrfShape) {
    const r = semiCrf.semiCrfViterbi(this.semiCrfArrays(inputs), shape);
    return { labels: this.wrap(r.labels), score: this.wrap(r.score) };
  }

  // ---- optimizer ----
  adamwInPlace(param: Storage, grad: Storage, m: Storage, v: Storage, opts: AdamWParams): void {
    fused.adamw(f32(param), f32(grad), f32(m), f32(v), opts);
  }

  // ---- int8 inference ----
  linearInt8(x: Storage, weight: QuantizedMatrix, bias: Storage | null, rows: number): Storage {
    const y = allocF32(rows * weight.rows, true);
    quantized.linearInt8(f32(x), 0, rows, weight, bias && f32(bias), y, 0);
    return this.wrap(y);
  }
  lstmForwardInt8(xProj: Storage, weightHH: QuantizedMatrix, batchSizes: readonly number[], hidden: number): Storage {
    const r = lstm.lstmForward(f32(xProj), weightHH, batchSizes, hidden);
    releaseF32(r.c);
    releaseF32(r.act);
    return this.wrap(r.h);
  }
  releaseInt8(weight: QuantizedMatrix): void {
    quantized.releaseInt8(weight);
  }
}
