// Shape ops. reshape/squeeze/unsqueeze are free views of the same buffer;
// permute, slice, expand, concat and stack are one strided copy each
// (Backend.copyStridedInPlace; kernels/copy_strided.wgsl).

import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, fmt, normalizeAxis, sameShape, shapeSize, type Shape } from '../tensor/shape.js';
import { record } from '../autograd/backward.js';
import { out, sumToShape } from './util.js';

export function reshape(x: Tensor, shapeIn: Shape): Tensor {
  const shape = [...shapeIn];
  const unknown = shape.indexOf(-1);
  if (unknown >= 0) {
    const known = shape.reduce((n, d, i) => (i === unknown ? n : n * d), 1);
    shape[unknown] = known === 0 ? 0 : x.size / known;
  }
  if (shapeSize(shape) !== x.size || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shapeIn)}`);
  }
  return record(x.view(shape), 'reshape', [x], (g) => [g.view(x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Copy `src` read through (offset, strides) into a new contiguous tensor of `shape`. */
function stridedGather(src: Tensor, shape: number[], srcOffset: number, srcStrides: number[]): Tensor {
  const dst = src.backend.zeros(shapeSize(shape), src.dtype);
  src.backend.copyStridedInPlace(src.storage, dst, { shape, srcOffset, srcStrides, dstOffset: 0, dstStrides: contiguousStrides(shape) });
  return out(dst, shape, src);
}

export function permute(x: Tensor, axes: number[]): Tensor {
  const normalized = axes.map((a) => normalizeAxis('permute', a, x.rank));
  if (normalized.length !== x.rank || new Set(normalized).size !== x.rank) {
    throw new Error(`permute: [${axes}] is not a permutation of the axes of ${fmt(x.shape)}`);
  }
  const strides = contiguousStrides(x.shape);
  const y = stridedGather(x, normalized.map((a) => x.shape[a]!), 0, normalized.map((a) => strides[a]!));
  const inverse = new Array<number>(x.rank);
  normalized.forEach((a, i) => (inverse[a] = i));
  return record(y, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const axes = x.shape.map((_, i) => i);
  const i = normalizeAxis('transpose', a, x.rank);
  const j = normalizeAxis('transpose', b, x.rank);
  [axes[i], axes[j]] = [axes[j]!, axes[i]!];
  return permute(x, axes);
}

/** x[..., start:end, ...] along one axis (negative indices count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normalizeAxis('slice', axis, x.rank);
  const size = x.shape[a]!;
  const from = start < 0 ? start + size : start;
  const to = end === undefined ? size : end < 0 ? end + size : end;
  if (from < 0 || to > size || from > to) {
    throw new Error(`slice: range [${start}, ${end ?? size}) is outside axis ${axis} of size ${size} in ${fmt(x.shape)}`);
  }
  const strides = contiguousStrides(x.shape);
  const shape = x.shape.map((d, i) => (i === a ? to - from : d));
  const y = stridedGather(x, shape, from * strides[a]!, strides);
  return record(y, 'slice', [x], (g) => {
    const dx = g.backend.zeros(x.size, 'f32');
    g.backend.copyStridedInPlace(g.storage, dx, { shape, srcOffset: 0, srcStrides: contiguousStrides(shape), dstOffset: from * strides[a]!, dstStrides: strides });
    return [out(dx, x.shape, g)];
  });
}

/** Broadcast to `shape` by copying (NumPy rules). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  if (sameShape(x.shape, shape)) return record(x.view(shape), 'expand', [x], (g) => [g]);
  const y = stridedGather(x, [...shape], 0, broadcastStrides(x.shape, shape));
  return record(y, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: no tensors given');
  const first = tensors[0]!;
  const a = normalizeAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${tensors.map((u) => fmt(u.shape)).join(', ')} differ outside axis ${axis}`);
    }
    if (t.dtype !== first.dtype) throw new Error('concat: tensors have different dtypes');
  }
  const shape = first.shape.map((d, i) => (i === a ? tensors.reduce((n, t) => n + t.shape[a]!, 0) : d));
  const strides = contiguousStrides(shape);
  const dst = first.backend.zeros(shapeSize(shape), first.dtype);
  const starts: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    starts.push(offset);
    first.backend.copyStridedInPlace(t.storage, dst, { shape: [...t.shape], srcOffset: 0, srcStrides: contiguousStrides(t.shape), dstOffset: offset * strides[a]!, dstStrides: strides });
    offset += t.shape[a]!;
  }
  return record(out(dst, shape, first), 'concat', tensors, (g) =>
    tensors.map((t, i) => (t.requiresGrad ? slice(g, a, starts[i]!, starts[i]! + t.shape[a]!) : null)),
  );
}

export function stack(tensors: Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: no tensors given');
  const a = normalizeAxis('stack', axis, tensors[0]!.rank + 1);
  return concat(tensors.map((t) => unsqueeze(t, a)), a);
}

/** A contiguous copy in a fresh buffer (state that must never alias the tensor it came from); gradient passes through. */
export function clone(x: Tensor): Tensor {
  const y = stridedGather(x, [...x.shape], 0, contiguousStrides(x.shape));
  return record(y, 'clone', [x], (g) => [g]);
}
