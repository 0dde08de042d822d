// CPU matmul: pack op(A) into row panels and op(B) into column panels, k-major,
// so the inner loop reads both contiguously, then a register-blocked
// micro-kernel: the WebAssembly SIMD kernel of wasm/gemm.ts (4x8 blocks, f32x4)
// where the engine has WebAssembly SIMD, else the scalar 4x4 JS kernel of micro-kernel.ts,
// which stays as the readable reference. Transposed operands cost only the
// packing. MEDNER_CPU_KERNEL=js|wasm forces one; MEDNER_THREADS=1 keeps one core.
// bench/matmul.bench.ts compares them with the naive i-k-j loop and the peers.

import { platform } from '../../platform/index.js';
import type { MatmulLayout } from '../backend.js';
import { MatmulPool } from './parallel.js';
import { WasmGemm, gemmBlocked, wasmSimdSupported, type GemmOperands } from './wasm/gemm.js';
import { allocF32 } from './pool.js';
import { microKernels } from './micro-kernel.js';

export type CpuKernel = 'js' | 'wasm';

/**
 * Pack `count` vectors of length k into panels of `width`, k-major: vector i,
 * step kk lands at packed[at + (floor(i/width)*kPadded + kk)*width + i%width].
 * Vectors past `count` and steps past k are zero. In the source, vector i step kk
 * is src[offset + i*k + kk] when `kContiguous`, else src[offset + kk*count + i];
 * each case loops so that it reads the source in order.
 */
function packPanels(src: Float32Array, offset: number, count: number, k: number, kContiguous: boolean, packed: Float32Array<ArrayBufferLike>, at: number, width: number, kPadded: number): void {
  const panels = Math.ceil(count / width);
  const stride = kPadded * width;
  // Only padding needs zeros: everything else is overwritten below.
  if (kPadded > k) packed.fill(0, at, at + panels * stride);
  else if (count % width !== 0) packed.fill(0, at + (panels - 1) * stride, at + panels * stride);
  if (kContiguous) {
    for (let i = 0; i < count; i++) {
      let dst = at + Math.floor(i / width) * stride + (i % width);
      for (let kk = 0, s = offset + i * k; kk < k; kk++, dst += width) packed[dst] = src[s + kk]!;
    }
  } else {
    for (let kk = 0; kk < k; kk++) {
      const row = offset + kk * count;
      for (let p = 0; p < panels; p++) {
        const dst = at + p * stride + kk * width;
        const first = p * width;
        const last = Math.min(width, count - first);
        for (let q = 0; q < last; q++) packed[dst + q] = src[row + first + q]!;
      }
    }
  }
}

/** Row panels of op(A) [rows, k], stored [k, rows] when transposed. */
function packRows(src: Float32Array, offset: number, rows: number, k: number, transposed: boolean, packed: Float32Array<ArrayBufferLike>, at = 0, width = 4, kPadded = k): void {
  packPanels(src, offset, rows, k, !transposed, packed, at, width, kPadded);
}

/** Column panels of op(B) [k, cols], stored [cols, k] when transposed. */
function packColumns(src: Float32Array, offset: number, k: number, cols: number, transposed: boolean, packed: Float32Array<ArrayBufferLike>, at = 0, width = 4, kPadded = k): void {
  packPanels(src, offset, cols, k, transposed, packed, at, width, kPadded);
}


/**
 * Below this many multiply-adds per product, waking the second core costs more
 * than it saves (bench/matmul.bench.ts, "2 cores / 1 core"): the JS kernel pays
 * from 128^3 up; the wasm kernel is ~10x faster, so it needs ~4x more work per wake.
 */
export const PARALLEL_THRESHOLD: Record<CpuKernel, number> = { js: 1 << 21, wasm: 1 << 23 };
/** Cache blocking of the wasm kernel: a k slice of 256 x 32 column panels (256 columns) of B is 256 KiB, a quarter of L2. */
const K_SLICE = 256;
const COLUMN_GROUP = 32;

let pool: MatmulPool | null | undefined;
let wasm: WasmGemm | null | undefined;

/** The compiled wasm kernel and its memory, or null where WebAssembly SIMD is missing. */
function wasmGemm(): WasmGemm | null {
  if (wasm === undefined) wasm = wasmSimdSupported() ? new WasmGemm() : null;
  return wasm;
}

/** The worker pool, unless MEDNER_THREADS=1 or there is one core. */
function sharedPool(): MatmulPool | null {
  if (pool === undefined) {
    const threads = Number(platform.env('MEDNER_THREADS') ?? platform.cores());
    pool = threads > 1 ? MatmulPool.start(wasmGemm()) : null;
  }
  return pool;
}

/** The kernel matmul uses by default: MEDNER_CPU_KERNEL if set, else wasm where it runs. */
export function defaultKernel(): CpuKernel {
  const forced = platform.env('MEDNER_CPU_KERNEL');
  if (forced === 'js') return 'js';
  if (forced === 'wasm') {
    if (!wasmGemm()) throw new Error('MEDNER_CPU_KERNEL=wasm, but this JavaScript engine has no WebAssembly SIMD');
    return 'wasm';
  }
  if (forced !== undefined && forced !== '') throw new Error(`MEDNER_CPU_KERNEL must be js or wasm, got "${forced}"`);
  return wasmGemm() ? 'wasm' : 'js';
}

/**
 * C[batch, m, n] = op(A) x op(B). `parallel` lets big products use the second
 * core; `kernel` picks the micro-kernel (tests and benchmarks compare them).
 */
export function matmul(a: Float32Array, b: Float32Array, layout: MatmulLayout, parallel = true, kernel: CpuKernel = defaultKernel()): Float32Array {
  if (kernel === 'wasm') {
    const gemm = wasmGemm();
    if (!gemm) throw new Error('matmul: the wasm kernel was asked for, but this JavaScript engine has no WebAssembly SIMD');
    const c = matmulWasm(gemm, a, b, layout, parallel);
    if (c) return c;
    // Operands past the 4 GiB a 32-bit wasm memory addresses: the JS kernel has no such limit.
  }
  return matmulJs(a, b, layout, parallel);
}

function matmulJs(a: Float32Array, b: Float32Array, layout: MatmulLayout, parallel: boolean): Float32Array {
  const { batch, m, k, n, transA, transB, batchStrideA, batchStrideB } = layout;
  const aSize = Math.ceil(m / 4) * 4 * k;
  const bSize = Math.ceil(n / 4) * 4 * k;
  const candidate = parallel && m >= 8 && m * n * k >= PARALLEL_THRESHOLD.js ? sharedPool() : null;
  const workers = candidate?.sharesJsBuffers ? candidate : null;
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

/** Round up to a multiple of 16 floats, so every region starts on a 64-byte cache line. */
const lineAligned = (floats: number) => Math.ceil(floats / 16) * 16;
/** Edge panels of an operand used in place read up to one block past its end: values that land only in C's padding. */
const EDGE_SLACK = 16;
/**
 * When the wasm path reads an operand in place instead of packing it. A plain B
 * is read in place for C with at most `bMaxRows` rows: packing costs ~1.5 ns per
 * element of B, which is then used only m times; in place, the kernel reads B
 * with a stride of n floats, which at power-of-two n aliases in L1 and runs at
 * half speed (bench/wasm-gemm-versions.bench.ts, "B read in place"). Measured at
 * k = n = 512: in place 3x faster at m = 16, equal at m = 128, slower at 256. A transposed
 * A has the same trade with the roles swapped (`aMaxColumns`). Mutable so the
 * tests cover both paths.
 */
export const IN_PLACE = { bMaxRows: 64, aMaxColumns: 64 };

/**
 * C's m x n part out of its padded rows (ldc floats apart): one copy when unpadded, a copy per row when
 * rows are long, element by element when they are short (a tagger's few-tag classifier: a subarray per
 * row there cost more than its product).
 */
function copyRows(memory: Float32Array, at: number, ldc: number, out: Float32Array, outAt: number, m: number, n: number): void {
  if (ldc === n) out.set(memory.subarray(at, at + m * n), outAt);
  else if (n >= 32) for (let i = 0; i < m; i++) out.set(memory.subarray(at + i * ldc, at + i * ldc + n), outAt + i * n);
  else for (let i = 0; i < m; i++) for (let j = 0, src = at + i * ldc, dst = outAt + i * n; j < n; j++) out[dst + j] = memory[src + j]!;
}

/**
 * The wasm path, in the kernel's linear memory [A | B | C]. An operand already
 * k-major (a transposed A, a plain B) is copied as it is; the others are packed
 * into panels. C is padded to whole 4x8 blocks, so the kernel has no edge
 * cases, and its m x n part copied out. Null when the operands do not fit a 32-bit memory.
 */
function matmulWasm(gemm: WasmGemm, a: Float32Array, b: Float32Array, layout: MatmulLayout, parallel: boolean): Float32Array | null {
  const { batch, m, k, n, transA, transB, batchStrideA, batchStrideB } = layout;
  const out = allocF32(batch * m * n, m > 0 && n > 0 && k > 0);
  if (m === 0 || n === 0 || k === 0) return out;
  const { rows, cols } = gemm.shape;
  const rowPanels = Math.ceil(m / rows);
  const colPanels = Math.ceil(n / cols);
  const ldc = colPanels * cols; // floats per padded C row
  const aInPlace = transA && n <= IN_PLACE.aMaxColumns;
  const bInPlace = !transB && m <= IN_PLACE.bMaxRows;
  const aFloats = aInPlace ? k * m : rowPanels * rows * k;
  const bFloats = bInPlace ? k * n : colPanels * cols * k;
  const aAt = 0;
  const bAt = lineAligned(aFloats + EDGE_SLACK);
  const cAt = bAt + lineAligned(bFloats + EDGE_SLACK);
  if (!gemm.reserve(cAt + rowPanels * rows * ldc)) return null;
  const memory = gemm.f32;
  const operands: GemmOperands = {
    aBase: aAt * 4,
    aPanelStride: (aInPlace ? rows : rows * k) * 4,
    aStep: (aInPlace ? m : rows) * 4,
    bBase: bAt * 4,
    bPanelStride: (bInPlace ? cols : cols * k) * 4,
    bStep: (bInPlace ? n : cols) * 4,
    cBase: cAt * 4,
    ldc: ldc * 4,
    k,
    colPanels,
  };
  const workers = parallel && rowPanels >= 2 && m * n * k >= PARALLEL_THRESHOLD.wasm ? sharedPool() : null;
  let placedA = -1;
  let placedB = -1;
  for (let bi = 0; bi < batch; bi++) {
    // An operand broadcast over the batch (stride 0) is placed once.
    if (bi * batchStrideA !== placedA) {
      placedA = bi * batchStrideA;
      if (aInPlace) memory.set(a.subarray(placedA, placedA + k * m), aAt);
      else packRows(a, placedA, m, k, transA, memory, aAt, rows);
    }
    if (bi * batchStrideB !== placedB) {
      placedB = bi * batchStrideB;
      if (bInPlace) memory.set(b.subarray(placedB, placedB + k * n), bAt);
      else packColumns(b, placedB, k, n, transB, memory, bAt, cols);
    }
    if (workers) workers.runWasm(operands, rowPanels, K_SLICE, COLUMN_GROUP);
    else gemmBlocked(gemm.gemm, rows, cols, operands, 0, rowPanels, K_SLICE, COLUMN_GROUP);
    copyRows(memory, cAt, ldc, out, bi * m * n, m, n);
  }
  return out;
}

/**
 * C[m, n] = A[m, k] x the fixed B (+ D[m, n] when given), A row-major from aOffset, C row-major
 * (n per row) from cOffset, D likewise from dOffset: the kernel adds D as it goes, with no pass of its own.
 */
export type FixedRightProduct = (a: Float32Array, aOffset: number, m: number, c: Float32Array, cOffset: number, d?: Float32Array, dOffset?: number) => void;

/**
 * Many products with one right operand, as an LSTM's recurrent weight is used at every time
 * step: B is packed once, then each call packs only its (small) A. `body` must not run any
 * other matmul: the packed B lives in the kernel's shared memory. Rows of A per call <= maxRows.
 */
export function withFixedRightOperand(b: Float32Array, k: number, n: number, transB: boolean, maxRows: number, body: (multiply: FixedRightProduct) => void): void {
  const gemm = defaultKernel() === 'wasm' ? wasmGemm() : null;
  const colPanelsJs = Math.ceil(n / 4);
  if (!gemm) {
    const bp = new Float32Array(colPanelsJs * 4 * k);
    const ap = new Float32Array(Math.ceil(maxRows / 4) * 4 * k);
    packColumns(b, 0, k, n, transB, bp);
    body((a, aOffset, m, c, cOffset, d, dOffset = 0) => {
      if (m > maxRows) throw new Error(`withFixedRightOperand: ${m} rows, more than the ${maxRows} reserved`);
      packRows(a, aOffset, m, k, false, ap);
      microKernels(ap, bp, c, cOffset, m, n, k);
      if (d) for (let i = 0; i < m * n; i++) c[cOffset + i]! += d[dOffset + i]!;
    });
    return;
  }
  const { rows, cols } = gemm.shape;
  const colPanels = Math.ceil(n / cols);
  const ldc = colPanels * cols;
  const maxRowPanels = Math.ceil(maxRows / rows);
  const bAt = 0;
  const aAt = lineAligned(colPanels * cols * k);
  const cAt = aAt + lineAligned(maxRowPanels * rows * k);
  if (!gemm.reserve(cAt + maxRowPanels * rows * ldc)) throw new Error(`withFixedRightOperand: a [${k}, ${n}] operand does not fit the kernel's 4 GiB memory`);
  packColumns(b, 0, k, n, transB, gemm.f32, bAt, cols);
  body((a, aOffset, m, c, cOffset, d, dOffset = 0) => {
    if (m > maxRows) throw new Error(`withFixedRightOperand: ${m} rows, more than the ${maxRows} reserved`);
    const memory = gemm.f32;
    const rowPanels = Math.ceil(m / rows);
    packRows(a, aOffset, m, k, false, memory, aAt, rows);
    const operands: GemmOperands = {
      aBase: aAt * 4, aPanelStride: rows * k * 4, aStep: rows * 4,
      bBase: bAt * 4, bPanelStride: cols * k * 4, bStep: cols * 4,
      cBase: cAt * 4, ldc: ldc * 4, k, colPanels,
    };
    if (d) {
      if (ldc === n) memory.set(d.subarray(dOffset, dOffset + m * n), cAt);
      else for (let i = 0; i < m; i++) memory.set(d.subarray(dOffset + i * n, dOffset + (i + 1) * n), cAt + i * ldc);
    }
    gemmBlocked(gemm.gemm, rows, cols, operands, 0, rowPanels, K_SLICE, COLUMN_GROUP, d !== undefined);
    copyRows(memory, cAt, ldc, c, cOffset, m, n);
  });
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
