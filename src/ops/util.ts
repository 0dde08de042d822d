// Helpers every op file uses: argument checks, scalar promotion, and the
// gradient of broadcasting (sum over the stretched axes).

import { Tensor } from '../tensor/tensor.js';
import { fmt, type Shape } from '../tensor/shape.js';
import type { Storage } from '../backend/backend.js';

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
