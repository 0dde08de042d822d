// The pointwise unary ops, one row each: the CPU function (the reference), the WGSL
// expression (spliced into kernels/unary.wgsl at load), the gradient and the inputs
// tests draw. Everything else is derived from this table: the op codes, Backend's
// UnaryOp type, the CPU loops, the ops in src/ops/elementwise.ts, the Tensor methods
// and the test lists. Adding a unary op means adding its name and its row here
// (src/ops/README.md). This file is data: it imports nothing at run time.

import type { Tensor } from '../../tensor/tensor.js';

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'tanh' | 'sigmoid'
  | 'relu' | 'step' | 'gelu' | 'geluGrad' | 'square' | 'softplus';

/** What a gradient sees: the input x, the output y and the upstream gradient g. */
export interface UnaryGradient {
  x: Tensor;
  y: Tensor;
  g: Tensor;
}

/**
 * Inputs the tests draw: 'real' anywhere, 'positive' above 0 (log, sqrt), 'awayFromZero'
 * with a kink at 0 that a finite difference must not cross (abs, relu).
 */
export type UnaryDomain = 'real' | 'positive' | 'awayFromZero';

export interface UnaryRow {
  /** f(x) in float64; the CPU backend runs it and every other implementation is tested against it. */
  cpu: (x: number) => number;
  /** f(v) in WGSL over `v: f32`; helpers it calls live in kernels/unary.wgsl. */
  wgsl: string;
  /** dL/dx from Tensor ops; null where the op has no gradient (masks, and the kernels of other ops' gradients). */
  grad: ((p: UnaryGradient) => Tensor) | null;
  domain: UnaryDomain;
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc by Chebyshev fit); kernels/unary.wgsl uses the same formula. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The row order is the op code (the OP override of kernels/unary.wgsl). */
export const UNARY: { readonly [op in UnaryOp]: UnaryRow } = {
  neg: { cpu: (x) => -x, wgsl: '-v', grad: ({ g }) => g.neg(), domain: 'real' },
  exp: { cpu: Math.exp, wgsl: 'exp(v)', grad: ({ y, g }) => g.mul(y), domain: 'real' },
  log: { cpu: Math.log, wgsl: 'log(v)', grad: ({ x, g }) => g.div(x), domain: 'positive' },
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(v)', grad: ({ y, g }) => g.mul(0.5).div(y), domain: 'positive' },
  abs: { cpu: Math.abs, wgsl: 'abs(v)', grad: ({ x, g }) => g.mul(x.sign()), domain: 'awayFromZero' },
  sign: { cpu: Math.sign, wgsl: 'sign(v)', grad: null, domain: 'real' },
  // 1 - y^2
  tanh: { cpu: Math.tanh, wgsl: 'accurateTanh(v)', grad: ({ y, g }) => g.mul(y.square().neg().add(1)), domain: 'real' },
  // y (1 - y); stable on both sides: never exp of a large positive number.
  sigmoid: {
    cpu: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    wgsl: 'stableSigmoid(v)',
    grad: ({ y, g }) => g.mul(y.mul(y.neg().add(1))),
    domain: 'real',
  },
  relu: { cpu: (x) => (x > 0 ? x : 0), wgsl: 'select(0.0, v, v > 0.0)', grad: ({ x, g }) => g.mul(x.step()), domain: 'awayFromZero' },
  // The Heaviside step: relu's gradient.
  step: { cpu: (x) => (x > 0 ? 1 : 0), wgsl: 'select(0.0, 1.0, v > 0.0)', grad: null, domain: 'real' },
  // GELU in the exact erf form BERT uses: x * Phi(x).
  gelu: { cpu: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)), wgsl: '0.5 * v * onePlusErf(v * SQRT1_2)', grad: ({ x, g }) => g.mul(x.geluGrad()), domain: 'real' },
  // d gelu / dx: gelu's gradient.
  geluGrad: {
    cpu: (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
    wgsl: '0.5 * onePlusErf(v * SQRT1_2) + v * INV_SQRT_2PI * exp(-0.5 * v * v)',
    grad: null,
    domain: 'real',
  },
  square: { cpu: (x) => x * x, wgsl: 'v * v', grad: ({ x, g }) => g.mul(x.mul(2)), domain: 'real' },
  // log(1 + e^x), a smooth relu (positive CRF potentials, smooth max-margin losses); never exp of a large number.
  softplus: {
    cpu: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    wgsl: 'max(v, 0.0) + log(1.0 + exp(-abs(v)))',
    grad: ({ x, g }) => g.mul(x.sigmoid()),
    domain: 'real',
  },
};

export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];
