// CPU kernels for reductions and softmax over one axis of an [outer, axis, inner]
// layout. The folds are the rows of src/ops/tables/reduce.ts; ./reference.ts has the
// plain loop these are tested against. Softmax is the reference for kernels/softmax.wgsl.

import type { AxisLayout, ReduceOp } from '../backend.js';
import { REDUCE } from '../../ops/tables/index.js';
import { allocF32 } from './pool.js';

/** x[from]^2 + ... + x[to-1]^2 with four running sums, so the adds do not wait on each other. */
function sumOfSquares(x: Float32Array, from: number, to: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = from;
  for (; k + 3 < to; k += 4) {
    s0 += x[k]! * x[k]!;
    s1 += x[k + 1]! * x[k + 1]!;
    s2 += x[k + 2]! * x[k + 2]!;
    s3 += x[k + 3]! * x[k + 3]!;
  }
  for (; k < to; k++) s0 += x[k]! * x[k]!;
  return s0 + s1 + (s2 + s3);
}

type ReduceLoop = (x: Float32Array, y: Float32Array, outer: number, axis: number, inner: number, init: number, fold: (acc: number, v: number) => number) => void;
const reduceLoops = new Map<ReduceOp, ReduceLoop>();

/** One compiled loop per table row, so `fold` is inlined at a call site that sees one op (see elementwise.ts). */
function reduceLoop(op: ReduceOp): ReduceLoop {
  let loop = reduceLoops.get(op);
  if (!loop) {
    const source = `
      for (let o = 0; o < outer; o++) {
        const base = o * axis * inner;
        for (let i = 0; i < inner; i++) {
          const end = base + axis * inner + i;
          let acc = init;
          for (let k = base + i; k < end; k += inner) acc = fold(acc, x[k]);
          y[o * inner + i] = acc;
        }
      } // ${op}`;
    reduceLoops.set(op, (loop = new Function('x', 'y', 'outer', 'axis', 'inner', 'init', 'fold', source) as ReduceLoop));
  }
  return loop;
}

export function reduce(op: ReduceOp, x: Float32Array, { outer, axis, inner }: AxisLayout): Float32Array {
  if (inner > 1 && axis > 0) return reduceRows(op, x, outer, axis, inner);
  const y = allocF32(outer * inner, true);
  if (op === 'sumSquares' && inner === 1) {
    // Gradient norms: long contiguous runs, four running sums.
    for (let o = 0; o < outer; o++) y[o] = sumOfSquares(x, o * axis, (o + 1) * axis);
    return y;
  }
  const { identity, fold } = REDUCE[op];
  reduceLoop(op)(x, y, outer, axis, inner, identity, fold);
  return y;
}

/**
 * The same for inner > 1, row by row: y[o] starts as row 0 of block o and each further row is
 * combined into it element by element. Both arrays are walked in order (a column walk with
 * stride `inner` thrashes the cache for a bias gradient's [N, F] -> [F]), and each inner loop is
 * one long run rather than `axis` short ones (the char-CNN's sum over 3 taps).
 */
function reduceRows(op: ReduceOp, x: Float32Array, outer: number, axis: number, inner: number): Float32Array {
  const y = allocF32(outer * inner, true);
  for (let o = 0; o < outer; o++) {
    const out = o * inner;
    const end = out + inner;
    let row = o * axis * inner;
    if (op === 'sumSquares') for (let i = out; i < end; i++, row++) y[i] = x[row]! * x[row]!;
    else y.set(x.subarray(row, row + inner), out);
    for (let r = 1; r < axis; r++) {
      row = (o * axis + r) * inner;
      if (op === 'sum') for (let i = out; i < end; i++, row++) y[i]! += x[row]!;
      else if (op === 'sumSquares') for (let i = out; i < end; i++, row++) y[i]! += x[row]! * x[row]!;
      else if (op === 'max') for (let i = out; i < end; i++, row++) y[i] = x[row]! > y[i]! || Number.isNaN(x[row]!) ? x[row]! : y[i]!;
      else for (let i = out; i < end; i++, row++) y[i] = x[row]! < y[i]! || Number.isNaN(x[row]!) ? x[row]! : y[i]!;
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
  const y = allocF32(x.length, true);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * axis * inner + i;
      const end = base + axis * inner;
      let max = -Infinity;
      for (let k = base; k < end; k += inner) if (x[k]! > max) max = x[k]!;
      // One exp per element: stored, then scaled (softmax) or replaced by the log form.
      let total = 0;
      for (let k = base; k < end; k += inner) total += y[k] = Math.exp(x[k]! - max);
      if (log) {
        const shift = max + Math.log(total);
        for (let k = base; k < end; k += inner) y[k] = x[k]! - shift;
      } else {
        const scale = 1 / total;
        for (let k = base; k < end; k += inner) y[k]! *= scale;
      }
    }
  }
  return y;
}
