// Matrix multiply, 2-D and batched, with optionally transposed operands
// (Backend.matmul; src/backend/cpu/matmul.ts, kernels/matmul.wgsl).
// a: [..., m, k] (or [..., k, m] with transA), b: [..., k, n] (or [..., n, k] with transB).

import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, fmt, sameShape, shapeSize } from '../tensor/shape.js';
import { record } from '../autograd/backward.js';
import { checkFloat, out, sumToShape } from './util.js';
import { expand } from './shape.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkFloat('matmul', a, b);
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands need rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [m, ka] = transA ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [kb, n] = transB ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!] : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (ka !== kb) {
    throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} x ${fmt(b.shape)}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`);
  }
  // [..., m, k] x [k, n]: fold the batch into m, one big product (the Linear layer case).
  if (b.rank === 2 && a.rank > 2 && !transA) {
    const batchShape = a.shape.slice(0, -2);
    const flat = a.reshape([-1, ka]);
    return matmul(flat, b, { transB }).reshape([...batchShape, m, n]);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul', batchA, batchB);
  // Batch dims broadcast by a zero stride when one side has none; otherwise materialise.
  const aFull = batchA.length === 0 || sameShape(batchA, batchShape) ? a : expand(a, [...batchShape, ...a.shape.slice(-2)]);
  const bFull = batchB.length === 0 || sameShape(batchB, batchShape) ? b : expand(b, [...batchShape, ...b.shape.slice(-2)]);
  const batch = shapeSize(batchShape);
  const storage = a.backend.matmul(aFull.storage, bFull.storage, {
    batch, m, k: ka, n, transA, transB,
    batchStrideA: aFull.rank === 2 ? 0 : m * ka,
    batchStrideB: bFull.rank === 2 ? 0 : ka * n,
  });
  const y = out(storage, [...batchShape, m, n], a);
  const ins = [aFull, bFull];
  return record(y, 'matmul', ins, (g) => {
    // C = op(A) op(B)  =>  dA and dB in the stored layout of A and B.
    let dA: Tensor | null = null;
    let dB: Tensor | null = null;
    if (aFull.requiresGrad) {
      dA = transA ? matmul(bFull, g, { transA: transB, transB: true }) : matmul(g, bFull, { transB: !transB });
      dA = sumToShape(dA, aFull.shape);
    }
    if (bFull.requiresGrad) {
      dB = transB ? matmul(g, aFull, { transA: true, transB: transA }) : matmul(aFull, g, { transA: !transA });
      dB = sumToShape(dB, bFull.shape);
    }
    return [dA, dB];
  });
}
