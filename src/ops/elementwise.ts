// The pointwise ops, derived from the op tables (src/ops/tables/unary.ts, binary.ts):
// each row becomes an op whose forward is one kernel call (Backend.unary / binary;
// kernels/unary.wgsl, kernels/binary.wgsl; src/backend/cpu/elementwise.ts) and whose
// backward is the row's gradient. NumPy broadcasting; a gradient is summed back over the
// axes its operand was stretched along.

import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, sameShape, type Shape } from '../tensor/shape.js';
import { BINARY, BINARY_OPS, UNARY, UNARY_OPS, type BinaryOp, type UnaryOp } from './tables/index.js';
import { record } from '../autograd/backward.js';
import { asTensor, checkFloat, out } from './util.js';
import { sum } from './reduce.js';

// ---------- kernels ----------

export function unaryKernel(op: UnaryOp, x: Tensor): Tensor {
  checkFloat(op, x);
  return out(x.backend.unary(op, x.storage), x.shape, x);
}

export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkFloat(op, a, b);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const layout = { outShape, stridesA: broadcastStrides(a.shape, outShape), stridesB: broadcastStrides(b.shape, outShape) };
  return out(a.backend.binary(op, a.storage, b.storage, layout), outShape, a);
}

/** The gradient of a broadcast: sum g over the axes that were stretched to reach `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const reduced = sum(g, axes, true);
  const result = reduced.reshape(shape);
  if (result !== reduced) reduced.dispose();
  return result;
}

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

export const { neg, exp, log, sqrt, abs, sign, tanh, sigmoid, relu, step, gelu, geluGrad, square } = unaryOps;
export const { add, sub, mul, div, pow, maximum, minimum, eq, ne, gt, ge, lt, le } = binaryOps;
