// The readable reference: what the CPU backend's elementwise and reduction kernels
// compute, as plain loops over plain index arithmetic, one element at a time. The fast
// paths in ./elementwise.ts and ./reduce.ts (compiled per-op loops, row and bias
// special cases, merged axes) are tested against these (test/core/cpu-reference.test.ts);
// the WGSL kernels are tested against the fast paths.

import type { AxisLayout, BinaryOp, BroadcastLayout, ReduceOp, StridedCopy, UnaryOp } from '../backend.js';
import { BINARY, REDUCE, UNARY } from '../../ops/tables/index.js';

/** The flat offset of element `index` (row-major in `shape`) in a buffer read through `strides`. */
function offsetOf(index: number, shape: readonly number[], strides: readonly number[]): number {
  let offset = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const coordinate = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
    offset += coordinate * strides[d]!;
  }
  return offset;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** y[i] = f(x[i]). */
export function unary(op: UnaryOp, x: Float32Array): Float32Array {
  const f = UNARY[op].cpu;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

/** y[i] = f(a[offset of i in a], b[offset of i in b]): NumPy broadcasting through strides that are 0 on stretched axes. */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, layout: BroadcastLayout): Float32Array {
  const f = BINARY[op].cpu;
  const { outShape, stridesA, stridesB } = layout;
  const y = new Float32Array(sizeOf(outShape));
  for (let i = 0; i < y.length; i++) y[i] = f(a[offsetOf(i, outShape, stridesA)]!, b[offsetOf(i, outShape, stridesB)]!);
  return y;
}

/** y[o, i] = fold over r of x[o, r, i], starting from the row's identity. */
export function reduce(op: ReduceOp, x: Float32Array, { outer, axis, inner }: AxisLayout): Float32Array {
  const { identity, fold } = REDUCE[op];
  const y = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = identity;
      for (let r = 0; r < axis; r++) acc = fold(acc, x[(o * axis + r) * inner + i]!);
      y[o * inner + i] = acc;
    }
  }
  return y;
}

/** dst[dstOffset + offset of i in dst] = src[srcOffset + offset of i in src] for every index i of `shape`. */
export function copyStrided(src: Float32Array | Int32Array, dst: Float32Array | Int32Array, copy: StridedCopy): void {
  const count = sizeOf(copy.shape);
  for (let i = 0; i < count; i++) {
    dst[copy.dstOffset + offsetOf(i, copy.shape, copy.dstStrides)] = src[copy.srcOffset + offsetOf(i, copy.shape, copy.srcStrides)]!;
  }
}
