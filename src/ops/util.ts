// Helpers every op file uses: argument checks, scalar promotion, the kernel calls
// of the table ops (no autograd: the ops add it), and the gradient of broadcasting
// (sum over the stretched axes). Private to src/ops: a layer calls ops, not these.

import { Tensor } from '../tensor/tensor.js';
import { axisLayout, broadcastShapes, broadcastStrides, fmt, sameShape, type Shape } from '../tensor/shape.js';
import type { BinaryOp, ReduceOp, Storage, UnaryOp } from '../backend/backend.js';

export function checkFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) if (t.dtype !== 'f32') throw new Error(`${op}: expected an f32 tensor, got ${t.dtype} ${fmt(t.shape)}`);
  const backend = tensors[0]?.backend;
  for (const t of tensors) if (t.backend !== backend) throw new Error(`${op}: tensors live on different backends (${backend?.name} and ${t.backend.name})`);
}

/** A number becomes a 0-d tensor on the same backend as `like`. */
export function asTensor(value: Tensor | number, like: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  return Tensor.fromStorage(like.backend.fill(1, value), [], like.backend);
}

export function out(storage: Storage, shape: Shape, like: Tensor): Tensor {
  return Tensor.fromStorage(storage, shape, like.backend);
}

/** Give `t` another shape, passing ownership of its buffer to the returned view. */
export function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const v = t.view(shape);
  t.dispose();
  return v;
}

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

/** Reduce `axes` one kernel call each; returns the result with the reduced axes kept as 1. */
export function reduceKernel(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  checkFloat(op, x);
  let current = x;
  let shape = [...x.shape];
  for (const axis of axes) {
    // Squares are taken once: the axes after the first sum what the first left.
    const kernelOp = op === 'sumSquares' && current !== x ? 'sum' : op;
    const storage = x.backend.reduce(kernelOp, current.storage, axisLayout(shape, axis));
    shape = shape.map((d, i) => (i === axis ? 1 : d));
    const next = out(storage, shape, x);
    if (current !== x) current.dispose();
    current = next;
  }
  return current === x ? x.view(x.shape) : current;
}

/**
 * The gradient of a broadcast: sum g over the axes that were stretched to reach `shape`.
 * Backward closures run without recording (autograd/backward.ts), so the kernel suffices.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshapeOwned(reduceKernel('sum', g, axes), shape);
}
