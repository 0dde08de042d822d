// Reductions (sum, sum of squares, mean, max, argmax, logsumexp) and softmax / log_softmax.
// Kernels see one axis as [outer, axis, inner] (Backend.reduce, .softmax;
// kernels/reduce.wgsl, kernels/softmax.wgsl); several axes reduce one at a time.

import { Tensor } from '../tensor/tensor.js';
import { axisLayout, normalizeAxis } from '../tensor/shape.js';
import { REDUCE, type ReduceOp } from './tables/index.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out, reduceKernel, reshapeOwned } from './util.js';
import { div, mul, square, sub } from './elementwise.js';
import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../tensor/scope.js';

function normalizeAxes(op: string, x: Tensor, axis?: number | number[]): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => normalizeAxis(op, a, x.rank));
  if (new Set(axes).size !== axes.length) throw new Error(`${op}: repeated axis in [${axis}]`);
  return axes.sort((a, b) => b - a);
}

function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function finalShape(shape: readonly number[], axes: number[], keepDim: boolean): number[] {
  return keepDim ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

/** A row of src/ops/tables/reduce.ts over `axes`: the kernel once per axis forward, the row's gradient backward. */
function reduceOp(op: ReduceOp, x: Tensor, axes: number[], keepDim: boolean): Tensor {
  const y = reshapeOwned(reduceKernel(op, x, axes), finalShape(x.shape, axes, keepDim));
  const kept = keptShape(x.shape, axes);
  const gradient = REDUCE[op].grad;
  return record(y, op, [x], (g) => [gradient({ x, y: y.view(kept), g: g.view(kept), axes })]);
}

export function sum(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  return reduceOp('sum', x, normalizeAxes('sum', x, axis), keepDim);
}

/** sum(x^2) in one pass, without the squares in memory (gradient norms). */
export function sumSquares(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  const axes = normalizeAxes('sumSquares', x, axis);
  if (axes.length === 0) return square(x); // a 0-d tensor: nothing to sum
  return reduceOp('sumSquares', x, axes, keepDim);
}

export function mean(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  const axes = normalizeAxes('mean', x, axis);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(x, axis, keepDim), count);
}

export function max(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  return reduceOp('max', x, normalizeAxes('max', x, axis), keepDim);
}

export function min(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  return reduceOp('min', x, normalizeAxes('min', x, axis), keepDim);
}

/** Index of the largest value along one axis (i32, no gradient). */
export function argmax(x: Tensor, axis = -1, keepDim = false): Tensor {
  checkFloat('argmax', x);
  const a = normalizeAxis('argmax', axis, x.rank);
  const storage = x.backend.argmax(x.storage, axisLayout(x.shape, a));
  return out(storage, finalShape(x.shape, [a], keepDim), x);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  checkFloat('softmax', x);
  const a = normalizeAxis('softmax', axis, x.rank);
  const y = out(x.backend.softmax(x.storage, axisLayout(x.shape, a), false), x.shape, x);
  // dx = y * (g - sum(g * y))
  return record(y, 'softmax', [x], (g) => [mul(y, sub(g, sum(mul(g, y), a, true)))]);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkFloat('logSoftmax', x);
  const a = normalizeAxis('logSoftmax', axis, x.rank);
  const y = out(x.backend.softmax(x.storage, axisLayout(x.shape, a), true), x.shape, x);
  // dx = g - softmax(x) * sum(g)
  return record(y, 'logSoftmax', [x], (g) => [sub(g, mul(softmax(x, a), sum(g, a, true)))]);
}

/** log(sum(exp(x))) along one axis, stable: max + log(sum(exp(x - max))). Gradient: softmax. */
export function logsumexp(x: Tensor, axis: number, keepDim = false): Tensor {
  checkFloat('logsumexp', x);
  const a = normalizeAxis('logsumexp', axis, x.rank);
  const kept = noGrad(() =>
    tidy(() => {
      const m = reduceKernel('max', x, [a]);
      return sum(sub(x, m).exp(), a, true).log().add(m);
    }),
  );
  const y = reshapeOwned(kept, finalShape(x.shape, [a], keepDim));
  return record(y, 'logsumexp', [x], (g) => [mul(softmax(x, a), g.view(keptShape(x.shape, [a])))]);
}
