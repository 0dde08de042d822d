// The pointwise binary ops (NumPy broadcasting), one row each: the CPU function (the
// reference), the WGSL expression (spliced into kernels/binary.wgsl at load), the
// gradient with respect to each operand and the inputs tests draw. The op codes,
// Backend's BinaryOp type, the CPU loops, the ops, the Tensor methods and the test
// lists derive from it (src/ops/README.md). This file is data: no run-time imports.

import type { Tensor } from '../../tensor/tensor.js';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** What a gradient sees: both operands, the output y and the upstream gradient g (all broadcast to y's shape but a, b). */
export interface BinaryGradient {
  a: Tensor;
  b: Tensor;
  y: Tensor;
  g: Tensor;
}

/**
 * Inputs the tests draw: 'real' anywhere; 'positiveBase' a > 0 (pow); 'divisor' b away from 0
 * (div); 'ties' small integers, so equal operands occur (comparisons, maximum, minimum).
 */
export type BinaryDomain = 'real' | 'positiveBase' | 'divisor' | 'ties';

export interface BinaryRow {
  /** f(a, b) in float64; the CPU backend runs it and every other implementation is tested against it. */
  cpu: (a: number, b: number) => number;
  /** f(l, r) in WGSL over `l, r: f32`; helpers it calls live in kernels/binary.wgsl. */
  wgsl: string;
  /**
   * dL/da and dL/db (before summing over broadcast axes) from Tensor ops; each is computed only
   * when that operand needs it. null: comparisons, whose 0/1 masks have no gradient.
   */
  grad: { a: (p: BinaryGradient) => Tensor; b: (p: BinaryGradient) => Tensor } | null;
  domain: BinaryDomain;
}

/** The row order is the op code (the OP override of kernels/binary.wgsl). */
export const BINARY: { readonly [op in BinaryOp]: BinaryRow } = {
  add: { cpu: (a, b) => a + b, wgsl: 'l + r', grad: { a: ({ g }) => g, b: ({ g }) => g }, domain: 'real' },
  sub: { cpu: (a, b) => a - b, wgsl: 'l - r', grad: { a: ({ g }) => g, b: ({ g }) => g.neg() }, domain: 'real' },
  mul: { cpu: (a, b) => a * b, wgsl: 'l * r', grad: { a: ({ b, g }) => g.mul(b), b: ({ a, g }) => g.mul(a) }, domain: 'real' },
  // d(a/b)/db = -a/b^2 = -y/b
  div: { cpu: (a, b) => a / b, wgsl: 'l / r', grad: { a: ({ b, g }) => g.div(b), b: ({ b, y, g }) => g.mul(y).div(b).neg() }, domain: 'divisor' },
  // d(a^b)/da = b a^(b-1), d(a^b)/db = y ln a
  pow: {
    cpu: Math.pow,
    wgsl: 'power(l, r)',
    grad: { a: ({ a, b, g }) => g.mul(b.mul(a.pow(b.sub(1)))), b: ({ a, y, g }) => g.mul(y.mul(a.log())) },
    domain: 'positiveBase',
  },
  // A tie sends the whole gradient to a.
  maximum: { cpu: Math.max, wgsl: 'max(l, r)', grad: { a: ({ a, b, g }) => g.mul(a.ge(b)), b: ({ a, b, g }) => g.mul(a.lt(b)) }, domain: 'ties' },
  minimum: { cpu: Math.min, wgsl: 'min(l, r)', grad: { a: ({ a, b, g }) => g.mul(a.le(b)), b: ({ a, b, g }) => g.mul(a.gt(b)) }, domain: 'ties' },
  eq: { cpu: (a, b) => (a === b ? 1 : 0), wgsl: 'select(0.0, 1.0, l == r)', grad: null, domain: 'ties' },
  ne: { cpu: (a, b) => (a !== b ? 1 : 0), wgsl: 'select(0.0, 1.0, l != r)', grad: null, domain: 'ties' },
  gt: { cpu: (a, b) => (a > b ? 1 : 0), wgsl: 'select(0.0, 1.0, l > r)', grad: null, domain: 'ties' },
  ge: { cpu: (a, b) => (a >= b ? 1 : 0), wgsl: 'select(0.0, 1.0, l >= r)', grad: null, domain: 'ties' },
  lt: { cpu: (a, b) => (a < b ? 1 : 0), wgsl: 'select(0.0, 1.0, l < r)', grad: null, domain: 'ties' },
  le: { cpu: (a, b) => (a <= b ? 1 : 0), wgsl: 'select(0.0, 1.0, l <= r)', grad: null, domain: 'ties' },
};

export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];
