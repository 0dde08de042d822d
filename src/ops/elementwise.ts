// The pointwise ops, derived from the op tables (src/ops/tables/unary.ts, binary.ts):
// each row becomes an op whose forward is one kernel call (Backend.unary / binary;
// kernels/unary.wgsl, kernels/binary.wgsl; src/backend/cpu/elementwise.ts) and whose
// backward is the row's gradient. NumPy broadcasting; a gradient is summed back over the
// axes its operand was stretched along.

import type { Tensor } from '../tensor/tensor.js';
import { BINARY, BINARY_OPS, UNARY, UNARY_OPS, type BinaryOp, type UnaryOp } from './tables/index.js';
import { record } from '../autograd/backward.js';
import { asTensor, binaryKernel, sumToShape, unaryKernel } from './util.js';

// ---------- the ops of the tables ----------

/** The op of a unary table row: one kernel call forward, the row's gradient backward. */
function unaryOp(op: UnaryOp): (x: Tensor) => Tensor {
  const gradient = UNARY[op].grad;
  return (x) => {
    const y = unaryKernel(op, x);
    return gradient ? record(y, op, [x], (g) => [gradient({ x, y, g })]) : y;
  };
}

/** The op of a binary table row: broadcasting forward; backward, each operand's gradient summed back to its shape. */
function binaryOp(op: BinaryOp): (a: Tensor, b: Tensor | number) => Tensor {
  const gradient = BINARY[op].grad;
  return (a, bIn) => {
    const b = asTensor(bIn, a);
    const y = binaryKernel(op, a, b);
    if (!gradient) return y;
    return record(y, op, [a, b], (g) => [
      a.requiresGrad ? sumToShape(gradient.a({ a, b, y, g }), a.shape) : null,
      b.requiresGrad ? sumToShape(gradient.b({ a, b, y, g }), b.shape) : null,
    ]);
  };
}

/** Every row of src/ops/tables/unary.ts as an op (Tensor methods of the same names: src/ops/methods.ts). */
export const unaryOps = Object.fromEntries(UNARY_OPS.map((op) => [op, unaryOp(op)])) as { readonly [op in UnaryOp]: (x: Tensor) => Tensor };
/** Every row of src/ops/tables/binary.ts as an op; the second operand may be a number. Comparisons return 0/1 masks with no gradient. */
export const binaryOps = Object.fromEntries(BINARY_OPS.map((op) => [op, binaryOp(op)])) as { readonly [op in BinaryOp]: (a: Tensor, b: Tensor | number) => Tensor };

export const { neg, exp, log, sqrt, abs, sign, tanh, sigmoid, relu, step, gelu, geluGrad, square, softplus } = unaryOps;
export const { add, sub, mul, div, pow, maximum, minimum, eq, ne, gt, ge, lt, le } = binaryOps;
