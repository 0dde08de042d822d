// Elementwise ops with NumPy broadcasting. Each op: its forward (one kernel
// call: Backend.unary / binary, kernels/unary.wgsl, kernels/binary.wgsl,
// src/backend/cpu/elementwise.ts) and, right below, its backward.

import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, sameShape, type Shape } from '../tensor/shape.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
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

// ---------- binary ----------

export function add(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  return record(binaryKernel('add', a, b), 'add', [a, b], (g) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
}

export function sub(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  return record(binaryKernel('sub', a, b), 'sub', [a, b], (g) => [
    sumToShape(g, a.shape),
    b.requiresGrad ? sumToShape(neg(g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  return record(binaryKernel('mul', a, b), 'mul', [a, b], (g) => [
    a.requiresGrad ? sumToShape(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  const y = binaryKernel('div', a, b);
  return record(y, 'div', [a, b], (g) => [
    a.requiresGrad ? sumToShape(div(g, b), a.shape) : null,
    // d(a/b)/db = -a/b^2 = -y/b
    b.requiresGrad ? sumToShape(neg(div(mul(g, y), b)), b.shape) : null,
  ]);
}

export function pow(a: Tensor, bIn: Tensor | number): Tensor {
  const exponent = typeof bIn === 'number' ? bIn : null;
  const b = asTensor(bIn, a);
  const y = binaryKernel('pow', a, b);
  return record(y, 'pow', [a, b], (g) => [
    a.requiresGrad ? sumToShape(mul(g, exponent !== null ? mul(pow(a, exponent - 1), exponent) : mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(g, mul(y, log(a))), b.shape) : null,
  ]);
}

export function maximum(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  return record(binaryKernel('maximum', a, b), 'maximum', [a, b], (g) => {
    const aWins = binaryKernel('ge', a, b);
    return [sumToShape(mul(g, aWins), a.shape), sumToShape(mul(g, sub(asTensor(1, aWins), aWins)), b.shape)];
  });
}

export function minimum(a: Tensor, bIn: Tensor | number): Tensor {
  const b = asTensor(bIn, a);
  return neg(maximum(neg(a), neg(b)));
}

// Comparisons return 0/1 masks and have no gradient.
export const eq = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('eq', a, asTensor(b, a));
export const ne = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('ne', a, asTensor(b, a));
export const gt = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('gt', a, asTensor(b, a));
export const ge = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('ge', a, asTensor(b, a));
export const lt = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('lt', a, asTensor(b, a));
export const le = (a: Tensor, b: Tensor | number): Tensor => binaryKernel('le', a, asTensor(b, a));

// ---------- unary ----------

export function neg(x: Tensor): Tensor {
  return record(unaryKernel('neg', x), 'neg', [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const y = unaryKernel('exp', x);
  return record(y, 'exp', [x], (g) => [mul(g, y)]);
}

export function log(x: Tensor): Tensor {
  return record(unaryKernel('log', x), 'log', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel('sqrt', x);
  return record(y, 'sqrt', [x], (g) => [div(mul(g, 0.5), y)]);
}

export function abs(x: Tensor): Tensor {
  return record(unaryKernel('abs', x), 'abs', [x], (g) => [mul(g, unaryKernel('sign', x))]);
}

export function tanh(x: Tensor): Tensor {
  const y = unaryKernel('tanh', x);
  // 1 - y^2
  return record(y, 'tanh', [x], (g) => [mul(g, sub(asTensor(1, y), unaryKernel('square', y)))]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unaryKernel('sigmoid', x);
  // y (1 - y)
  return record(y, 'sigmoid', [x], (g) => [mul(g, mul(y, sub(asTensor(1, y), y)))]);
}

export function relu(x: Tensor): Tensor {
  return record(unaryKernel('relu', x), 'relu', [x], (g) => [mul(g, unaryKernel('step', x))]);
}

/** GELU in the exact erf form BERT uses: x * Phi(x). */
export function gelu(x: Tensor): Tensor {
  return record(unaryKernel('gelu', x), 'gelu', [x], (g) => [mul(g, unaryKernel('geluGrad', x))]);
}

export function square(x: Tensor): Tensor {
  return record(unaryKernel('square', x), 'square', [x], (g) => [mul(g, mul(x, 2))]);
}
