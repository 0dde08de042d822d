// Indexing: index_select / embedding lookup (backward: scatter-add), and
// where / masked_fill (Backend.indexSelect, .indexAdd, .where;
// kernels/index_select.wgsl, kernels/index_add.wgsl, kernels/where.wgsl).

import { Tensor } from '../tensor/tensor.js';
import { axisLayout, broadcastShapes, broadcastStrides, fmt, normalizeAxis } from '../tensor/shape.js';
import { record } from '../autograd/backward.js';
import { asTensor, checkFloat, out, sumToShape } from './util.js';

/** Rows of x along `axis` picked by an i32 index of any shape: out shape = x[:axis] + index + x[axis+1:]. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  if (index.dtype !== 'i32') throw new Error(`indexSelect: index must be i32, got ${index.dtype} ${fmt(index.shape)}`);
  const a = normalizeAxis('indexSelect', axis, x.rank);
  const layout = axisLayout(x.shape, a);
  const count = index.size;
  const shape = [...x.shape.slice(0, a), ...index.shape, ...x.shape.slice(a + 1)];
  const y = out(x.backend.indexSelect(x.storage, index.storage, layout, count), shape, x);
  return record(y, 'indexSelect', [x], (g) => [out(g.backend.indexAdd(g.storage, index.storage, layout, count), x.shape, g)]);
}

/** Embedding lookup: weight [V, D], ids i32 [...] -> [..., D]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [vocab, dim], got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, ids);
}

/** cond ? a : b with broadcasting; cond is a 0/1 f32 mask and gets no gradient. */
export function where(cond: Tensor, aIn: Tensor | number, bIn: Tensor | number): Tensor {
  const like = aIn instanceof Tensor ? aIn : bIn instanceof Tensor ? bIn : cond;
  const a = asTensor(aIn, like);
  const b = asTensor(bIn, like);
  checkFloat('where', cond, a, b);
  const outShape = broadcastShapes('where', cond.shape, a.shape, b.shape);
  const layout = {
    outShape,
    stridesA: broadcastStrides(a.shape, outShape),
    stridesB: broadcastStrides(b.shape, outShape),
    stridesC: broadcastStrides(cond.shape, outShape),
  };
  const y = out(cond.backend.where(cond.storage, a.storage, b.storage, layout), outShape, cond);
  return record(y, 'where', [a, b], (g) => [
    a.requiresGrad ? sumToShape(where(cond, g, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(cond, 0, g), b.shape) : null,
  ]);
}

/** x with `value` wherever mask is nonzero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}
