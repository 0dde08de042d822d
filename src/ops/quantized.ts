// int8 dynamic quantization, as PyTorch's torch.ao.quantization.quantize_dynamic does it for
// Linear and LSTM: weights int8, symmetric, one scale per output channel (scale = max|w| / 127),
// quantized once; activations quantized per row at run time (symmetric int8, scale = max|x| / 127);
// int32 sums dequantized with row scale x channel scale, plus the bias. Inference only: there is
// no backward. The backend runs it where it has int8 kernels (Backend.linearInt8, the CPU's
// WebAssembly SIMD in src/backend/cpu/wasm/gemm-int8.ts); elsewhere (WebGPU) the ops fall back to
// the dequantized f32 weight, made once per weight and backend.
// m = rows, k = input features (cols), n = output channels (rows of the weight)

import type { Backend, QuantizedMatrix } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fmt } from '../tensor/shape.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { checkFloat, out } from './util.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { lstmRecurrence } from './sequence.js';

export type { QuantizedMatrix };

/** The largest magnitude an int8 code takes: symmetric, so -127..127 (-128 is never produced). */
export const INT8_MAX = 127;

/** Per-output-channel symmetric int8 of a [rows, cols] f32 matrix: row r ~ values[r, :] * scales[r]; an all-zero row gets scale 0. */
export function quantizePerChannel(weight: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (weight.length !== rows * cols) throw new Error(`quantizePerChannel: ${weight.length} values for a [${rows}, ${cols}] matrix`);
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let absmax = 0;
    for (let c = 0; c < cols; c++) absmax = Math.max(absmax, Math.abs(weight[r * cols + c]!));
    if (!Number.isFinite(absmax)) throw new Error(`quantizePerChannel: row ${r} holds a non-finite value; cannot quantize it`);
    const scale = Math.fround(absmax / INT8_MAX);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) values[r * cols + c] = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(weight[r * cols + c]! / scale)));
  }
  return { rows, cols, values, scales };
}

/** values * scale, row by row: the f32 matrix the int8 one stands for. */
export function dequantize(q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) for (let c = 0; c < q.cols; c++) out[r * q.cols + c] = q.values[r * q.cols + c]! * q.scales[r]!;
  return out;
}

/** Check a QuantizedMatrix read from a file or built by hand; `who` names it in the error. */
export function checkQuantized(q: QuantizedMatrix, who: string): void {
  if (!Number.isInteger(q.rows) || !Number.isInteger(q.cols) || q.rows < 0 || q.cols < 0) throw new Error(`${who}: shape [${q.rows}, ${q.cols}] is not a matrix`);
  if (q.values.length !== q.rows * q.cols) throw new Error(`${who}: ${q.values.length} int8 values for [${q.rows}, ${q.cols}]`);
  if (q.scales.length !== q.rows) throw new Error(`${who}: ${q.scales.length} scales for ${q.rows} output channels`);
  for (let r = 0; r < q.rows; r++) {
    const s = q.scales[r]!;
    if (!(s >= 0) || !Number.isFinite(s)) throw new Error(`${who}: scale ${s} of output channel ${r} is not a finite non-negative number`);
  }
}

/** The dequantized weights made for backends without int8 kernels, by backend. */
const fallbacks = new WeakMap<QuantizedMatrix, Map<Backend, Tensor>>();
/** The backends that ran a weight with their int8 kernels (and may keep a packed copy of it). */
const users = new WeakMap<QuantizedMatrix, Set<Backend>>();

function usedOn(weight: QuantizedMatrix, backend: Backend): void {
  let set = users.get(weight);
  if (!set) users.set(weight, (set = new Set()));
  set.add(backend);
}

function dequantizedOn(weight: QuantizedMatrix, backend: Backend): Tensor {
  let byBackend = fallbacks.get(weight);
  if (!byBackend) fallbacks.set(weight, (byBackend = new Map()));
  let t = byBackend.get(backend);
  if (!t) byBackend.set(backend, (t = keep(Tensor.fromArray(dequantize(weight), [weight.rows, weight.cols], 'f32', backend))));
  return t;
}

/** Forget what the backends keep for this weight (a packed copy, a dequantized tensor). */
export function releaseQuantized(weight: QuantizedMatrix): void {
  for (const backend of users.get(weight) ?? []) backend.releaseInt8?.(weight);
  users.delete(weight);
  const byBackend = fallbacks.get(weight);
  for (const t of byBackend?.values() ?? []) t.dispose();
  fallbacks.delete(weight);
}

function inferenceOnly(op: string, x: Tensor): void {
  if (isGradEnabled() && x.requiresGrad) throw new Error(`${op}: int8 layers are inference-only (no gradient); run them under noGrad, or train the float model`);
}

/** y = x W^T + b with an int8 W [n, k]: x [..., k] -> [..., n], activations quantized per row. */
export function linearInt8(x: Tensor, weight: QuantizedMatrix, bias: Tensor | null): Tensor {
  checkFloat('linearInt8', x, ...(bias ? [bias] : []));
  inferenceOnly('linearInt8', x);
  const k = weight.cols;
  const n = weight.rows;
  if (x.shape[x.rank - 1] !== k) throw new Error(`linearInt8: input ${fmt(x.shape)} must end in ${k} (int8 weight [${n}, ${k}])`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== n)) throw new Error(`linearInt8: bias ${fmt(bias.shape)} must be [${n}]`);
  const backend = x.backend;
  const shape = [...x.shape.slice(0, -1), n];
  if (!backend.linearInt8) {
    const y = matmul(x, dequantizedOn(weight, backend), { transB: true });
    return bias ? add(y, bias) : y;
  }
  usedOn(weight, backend);
  return out(backend.linearInt8(x.storage, weight, bias?.storage ?? null, k === 0 ? 0 : x.size / k), shape, x);
}

/** lstmRecurrence with an int8 recurrent weight [4H, H]: h [N, H], inference only. */
export function lstmRecurrenceInt8(xProj: Tensor, weightHH: QuantizedMatrix, batchSizes: readonly number[]): Tensor {
  checkFloat('lstmRecurrenceInt8', xProj);
  inferenceOnly('lstmRecurrenceInt8', xProj);
  const H = weightHH.cols;
  if (xProj.rank !== 2 || xProj.shape[1] !== weightHH.rows || weightHH.rows !== 4 * H) {
    throw new Error(`lstmRecurrenceInt8: expected xProj [N, 4H] and an int8 weightHH [4H, H], got ${fmt(xProj.shape)} and [${weightHH.rows}, ${H}]`);
  }
  const rows = batchSizes.reduce((total, n) => total + n, 0);
  if (rows !== xProj.shape[0] || batchSizes.some((n, t) => !Number.isInteger(n) || n < 1 || (t > 0 && n > batchSizes[t - 1]!))) {
    throw new Error(`lstmRecurrenceInt8: batchSizes must be positive, non-increasing and sum to the ${xProj.shape[0]} rows of xProj, got [${batchSizes.join(', ')}]`);
  }
  const backend = xProj.backend;
  if (!backend.lstmForwardInt8) return lstmRecurrence(xProj, dequantizedOn(weightHH, backend), batchSizes);
  usedOn(weightHH, backend);
  return out(backend.lstmForwardInt8(xProj.storage, weightHH, batchSizes, H), [rows, H], xProj);
}
