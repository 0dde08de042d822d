// CPU matmul: pack 4-row panels of A and 4-column panels of B so the inner
// loop reads both contiguously, then a 4x4 register-blocked micro-kernel
// (16 accumulators in locals). Transposed operands cost only the packing.
// bench/matmul.bench.ts compares it with the naive i-k-j loop below.

import { availableParallelism } from 'node:os';
import type { MatmulLayout } from '../backend.js';
import { MatmulPool } from './parallel.js';

/** Panel p holds rows 4p..4p+3 of op(A), k-major: packed[(p*k + kk)*4 + r]. Rows past m are zero. */
function packRows(src: Float32Array, offset: number, rows: number, k: number, transposed: boolean, packed: Float32Array<ArrayBufferLike>): void {
  const panels = Math.ceil(rows / 4);
  packed.fill(0, 0, panels * k * 4);
  for (let i = 0; i < rows; i++) {
    const p = i >> 2;
    const r = i & 3;
    let dst = p * k * 4 + r;
    if (transposed) for (let kk = 0; kk < k; kk++, dst += 4) packed[dst] = src[offset + kk * rows + i]!;
    else for (let kk = 0, s = offset + i * k; kk < k; kk++, dst += 4) packed[dst] = src[s + kk]!;
  }
}

/** Panel p holds columns 4p..4p+3 of op(B), k-major. */
function packColumns(src: Float32Array, offset: number, k: number, cols: number, transposed: boolean, packed: Float32Array<ArrayBufferLike>): void {
  const panels = Math.ceil(cols / 4);
  packed.fill(0, 0, panels * k * 4);
  for (let kk = 0; kk < k; kk++) {
    for (let j = 0; j < cols; j++) {
      const v = transposed ? src[offset + j * k + kk]! : src[offset + kk * cols + j]!;
      packed[((j >> 2) * k + kk) * 4 + (j & 3)] = v;
    }
  }
}

/**
 * C[m, n] (at cOffset) = packed A panels x packed B panels, for A's row panels
 * [panelStart, panelEnd). Self-contained: src/backend/cpu/parallel.ts ships its source to a worker.
 */
export function microKernels(ap: Float32Array<ArrayBufferLike>, bp: Float32Array<ArrayBufferLike>, c: Float32Array<ArrayBufferLike>, cOffset: number, m: number, n: number, k: number, panelStart = 0, panelEnd = Math.ceil(m / 4)): void {
  const nPanels = Math.ceil(n / 4);
  for (let jp = 0; jp < nPanels; jp++) {
    for (let ip = panelStart; ip < panelEnd; ip++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = ip * k * 4;
      let pb = jp * k * 4;
      for (let kk = 0; kk < k; kk++, pa += 4, pb += 4) {
        const a0 = ap[pa]!, a1 = ap[pa + 1]!, a2 = ap[pa + 2]!, a3 = ap[pa + 3]!;
        const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      const i0 = ip * 4;
      const j0 = jp * 4;
      const rows = Math.min(4, m - i0);
      const cols = Math.min(4, n - j0);
      for (let r = 0; r < rows; r++) {
        const row = cOffset + (i0 + r) * n + j0;
        for (let q = 0; q < cols; q++) c[row + q] = block[r * 4 + q]!;
      }
    }
  }
}

/** Below this many multiply-adds per product, waking the second core costs more than it saves. */
export const PARALLEL_THRESHOLD = 1 << 21;
let pool: MatmulPool | null | undefined;

/** The worker pool, unless MEDNER_THREADS=1 or there is one core. */
function sharedPool(): MatmulPool | null {
  if (pool === undefined) {
    const threads = Number(process.env.MEDNER_THREADS ?? availableParallelism());
    pool = threads > 1 ? new MatmulPool() : null;
  }
  return pool;
}

export function matmul(a: Float32Array, b: Float32Array, layout: MatmulLayout, parallel = true): Float32Array {
  const { batch, m, k, n, transA, transB, batchStrideA, batchStrideB } = layout;
  const aSize = Math.ceil(m / 4) * 4 * k;
  const bSize = Math.ceil(n / 4) * 4 * k;
  const workers = parallel && m >= 8 && m * n * k >= PARALLEL_THRESHOLD ? sharedPool() : null;
  workers?.reserve(aSize, bSize, batch * m * n);
  const ap = workers ? workers.ap : new Float32Array(aSize);
  const bp = workers ? workers.bp : new Float32Array(bSize);
  const c = workers ? workers.c : new Float32Array(batch * m * n);
  let packedA = -1;
  let packedB = -1;
  for (let bi = 0; bi < batch; bi++) {
    // A broadcast over the batch (stride 0) is packed once.
    if (bi * batchStrideA !== packedA) packRows(a, (packedA = bi * batchStrideA), m, k, transA, ap);
    if (bi * batchStrideB !== packedB) packColumns(b, (packedB = bi * batchStrideB), k, n, transB, bp);
    if (workers) workers.run(bi * m * n, m, k, n);
    else microKernels(ap, bp, c, bi * m * n, m, n, k);
  }
  return workers ? new Float32Array(c.subarray(0, batch * m * n)) : (c as Float32Array);
}

/** The textbook i-k-j loop, kept as the baseline the benchmark compares against. */
export function matmulNaive(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let kk = 0; kk < k; kk++) {
      const aik = a[i * k + kk]!;
      const bRow = kk * n;
      const cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += aik * b[bRow + j]!;
    }
  }
  return c;
}
