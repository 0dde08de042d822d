// int8 inference on the CPU (dynamic quantization): activations quantized per row at run time,
// symmetric int8; weights int8 per output channel (QuantizedMatrix); int32 sums, dequantized
// with row scale x channel scale, plus the bias. The WebAssembly SIMD kernel of wasm/gemm-int8.ts
// where it runs (MEDNER_CPU_KERNEL=js forces the scalar code here, which is its readable
// reference: the same quantization bit for bit, the same integer sums).
// m = rows, k = input features, n = output channels.

import type { QuantizedMatrix } from '../backend.js';
import { defaultKernel } from './matmul.js';
import { Int8Gemm, int8GemmSupported, MAX_INT8_DEPTH } from './wasm/gemm-int8.js';

let kernel: Int8Gemm | null | undefined;

/** The wasm int8 kernel, or null under MEDNER_CPU_KERNEL=js or without WebAssembly SIMD. */
function int8Kernel(): Int8Gemm | null {
  if (kernel === undefined) kernel = defaultKernel() === 'wasm' && int8GemmSupported() ? new Int8Gemm() : null;
  return kernel;
}

/** f32 round to nearest, ties to even: WebAssembly's f32x4.nearest. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One row's symmetric int8 quantization, as the wasm kernel computes it in f32: scale = max|x| / 127,
 * q = round(x * (127 / max|x|)), all zero for a zero row. Writes q into `into` and returns the scale.
 */
export function quantizeRow(x: Float32Array, offset: number, k: number, into: Int8Array | Int32Array, at: number): number {
  let absmax = 0;
  for (let i = 0; i < k; i++) absmax = Math.max(absmax, Math.abs(x[offset + i]!));
  const inverse = absmax > 0 ? Math.fround(127 / absmax) : 0;
  for (let i = 0; i < k; i++) into[at + i] = roundHalfEven(Math.fround(x[offset + i]! * inverse));
  return Math.fround(absmax / 127);
}

/** The scalar reference: out = dequantize(quantizeRows(x) . W^T) + bias (+ addend). */
function linearInt8Js(x: Float32Array, xOffset: number, m: number, weight: QuantizedMatrix, bias: Float32Array | null, out: Float32Array, outOffset: number, addend?: Float32Array, addendOffset = 0): void {
  const { rows: n, cols: k, values, scales } = weight;
  const q = new Int32Array(k);
  for (let i = 0; i < m; i++) {
    const rowScale = quantizeRow(x, xOffset + i * k, k, q, 0);
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let kk = 0, w = o * k; kk < k; kk++, w++) sum += q[kk]! * values[w]!;
      let y = Math.fround(Math.fround(Math.fround(sum) * rowScale) * scales[o]!);
      y = Math.fround(y + (bias ? bias[o]! : 0)); // always, as the kernel does: -0 + 0 = +0
      if (addend) y = Math.fround(y + addend[addendOffset + i * n + o]!);
      out[outOffset + i * n + o] = y;
    }
  }
}

/**
 * out[outOffset + i*n + o] = dequantize(quantize(x row i) . weight row o) + bias[o] (+ addend[...]),
 * x rows of weight.cols values from xOffset.
 */
export function linearInt8(x: Float32Array, xOffset: number, m: number, weight: QuantizedMatrix, bias: Float32Array | null, out: Float32Array, outOffset: number, addend?: Float32Array, addendOffset = 0): void {
  if (weight.cols > MAX_INT8_DEPTH) throw new Error(`linearInt8: ${weight.cols} input features, more than the ${MAX_INT8_DEPTH} an int32 sum of int8 products holds`);
  const wasm = int8Kernel();
  if (wasm) wasm.linear(x, xOffset, m, weight, bias, out, outOffset, addend, addendOffset);
  else linearInt8Js(x, xOffset, m, weight, bias, out, outOffset, addend, addendOffset);
}

/** Let the kernel forget the weight's packed copy. */
export function releaseInt8(weight: QuantizedMatrix): void {
  kernel?.release(weight);
}

/** The activations' quantization as the kernel in use does it (the tests hold the two to each other). */
export function quantizeActivations(x: Float32Array, m: number, k: number): { values: Int8Array; scales: Float32Array } {
  const wasm = int8Kernel();
  if (wasm) return wasm.quantizeActivations(x, m, k);
  const values = new Int8Array(m * k);
  const scales = new Float32Array(m);
  for (let i = 0; i < m; i++) scales[i] = quantizeRow(x, i * k, k, values, i * k);
  return { values, scales };
}
