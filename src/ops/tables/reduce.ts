// The reductions over one axis, one row each: the fold on the CPU (the reference), its
// WGSL form (spliced into kernels/reduce.wgsl at load) and the gradient. The op codes,
// Backend's ReduceOp type, the CPU loops and the kernel tests derive from it; the ops
// themselves (sum, max, ...) are in src/ops/reduce.ts. This file is data: no run-time imports.

import type { Tensor } from '../../tensor/tensor.js';

/** sumSquares: the sum of x^2 in one pass (gradient norms). */
export type ReduceOp = 'sum' | 'max' | 'min' | 'sumSquares';

/** What a gradient sees: the input x, the output y and the upstream gradient g (both with the reduced axes kept as 1), and the axes. */
export interface ReduceGradient {
  x: Tensor;
  y: Tensor;
  g: Tensor;
  axes: number[];
}

export interface ReduceRow {
  /** The result over an empty axis, and where every fold starts. */
  identity: number;
  /** Fold one element v into the running result (CPU reference). */
  fold: (acc: number, v: number) => number;
  wgsl: {
    /** WGSL expression of the identity (helpers in kernels/reduce.wgsl). */
    identity: string;
    /** Fold element `v` into `acc`. */
    fold: string;
    /** Merge two partial results `acc` and `v` (the workgroup tree of reduce_wide). */
    combine: string;
  };
  grad: (p: ReduceGradient) => Tensor;
}

const isNaN = Number.isNaN;

/** The row order is the op code (the OP override of kernels/reduce.wgsl). */
export const REDUCE: { readonly [op in ReduceOp]: ReduceRow } = {
  sum: {
    identity: 0,
    fold: (acc, v) => acc + v,
    wgsl: { identity: '0.0', fold: 'acc + v', combine: 'acc + v' },
    grad: ({ x, g }) => g.expand(x.shape),
  },
  // NaN wins, as torch.amax. Ties share the gradient equally, as torch.amax does.
  max: {
    identity: -Infinity,
    fold: (acc, v) => (v > acc || isNaN(v) ? v : acc),
    wgsl: { identity: 'negativeInfinity()', fold: 'max(acc, v)', combine: 'max(acc, v)' },
    grad: ({ x, y, g, axes }) => {
      const winners = x.eq(y);
      return winners.div(winners.sum(axes, true)).mul(g);
    },
  },
  min: {
    identity: Infinity,
    fold: (acc, v) => (v < acc || isNaN(v) ? v : acc),
    wgsl: { identity: '-negativeInfinity()', fold: 'min(acc, v)', combine: 'min(acc, v)' },
    grad: ({ x, y, g, axes }) => {
      const winners = x.eq(y);
      return winners.div(winners.sum(axes, true)).mul(g);
    },
  },
  sumSquares: {
    identity: 0,
    fold: (acc, v) => acc + v * v,
    wgsl: { identity: '0.0', fold: 'acc + v * v', combine: 'acc + v' },
    grad: ({ x, g }) => x.mul(2).mul(g),
  },
};

export const REDUCE_OPS = Object.keys(REDUCE) as ReduceOp[];
