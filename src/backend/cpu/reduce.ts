// CPU kernels for reductions and softmax over one axis of an [outer, axis, inner]
// layout: the reference for kernels/reduce.wgsl and kernels/softmax.wgsl.

import type { AxisLayout, ReduceOp } from '../backend.js';

export function reduce(op: ReduceOp, x: Float32Array, { outer, axis, inner }: AxisLayout): Float32Array {
  const y = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * axis * inner;
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
      for (let r = 0; r < axis; r++) {
        const v = x[base + r * inner + i]!;
        if (op === 'sum') acc += v;
        else if (op === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
        else acc = v < acc || Number.isNaN(v) ? v : acc;
      }
      y[o * inner + i] = acc;
    }
  }
  return y;
}

export function argmax(x: Float32Array, { outer, axis, inner }: AxisLayout): Int32Array {
  const y = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestValue = -Infinity;
      for (let r = 0; r < axis; r++) {
        const v = x[o * axis * inner + r * inner + i]!;
        if (v > bestValue) [best, bestValue] = [r, v];
      }
      y[o * inner + i] = best;
    }
  }
  return y;
}

/** softmax (or log_softmax) with the max subtracted first, so large logits do not overflow. */
export function softmax(x: Float32Array, { outer, axis, inner }: AxisLayout, log: boolean): Float32Array {
  const y = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * axis * inner + i;
      let max = -Infinity;
      for (let r = 0; r < axis; r++) max = Math.max(max, x[base + r * inner]!);
      let total = 0;
      for (let r = 0; r < axis; r++) total += Math.exp(x[base + r * inner]! - max);
      const logTotal = Math.log(total);
      for (let r = 0; r < axis; r++) {
        const shifted = x[base + r * inner]! - max;
        y[base + r * inner] = log ? shifted - logTotal : Math.exp(shifted) / total;
      }
    }
  }
  return y;
}
