// CPU kernels for elementwise ops and strided copies: the fast paths. The functions
// they apply are the rows of the op tables (src/ops/tables/); ./reference.ts holds the
// plain loops these are tested against (test/core/cpu-reference.test.ts).

import type { BinaryOp, BroadcastLayout, StridedCopy, UnaryOp } from '../backend.js';
import { BINARY, UNARY } from '../../ops/tables/index.js';
import { contiguousStrides } from '../../tensor/shape.js';
import { mergeDimensions } from '../layout.js';
import { vectorMath, type VectorBinaryOp, type VectorFunction } from './wasm/vector-math.js';
import { allocF32 } from './pool.js';

/**
 * Loops specialised per table row. A loop that calls `UNARY[op].cpu(x)` sees every
 * op at one call site, which V8 cannot inline (megamorphic); compiling one loop
 * per op (once, here: the CPU backend's one template step) makes each call site
 * monomorphic, and measured 3x faster on the BiLSTM-CRF training step.
 */
type UnaryLoop = (x: Float32Array, y: Float32Array, f: (v: number) => number) => void;
type RowLoop = (y: Float32Array, yo: number, a: Float32Array, ao: number, sa: number, b: Float32Array, bo: number, sb: number, n: number, f: (p: number, q: number) => number) => void;
const unaryLoops = new Map<UnaryOp, UnaryLoop>();
const rowLoops = new Map<BinaryOp, RowLoop>();

/** y[r, i] = f(full[r, i], row[i]) (or f(row[i], full[r, i]) when `rowFirst`) over rows x inner. */
type RowsLoop = (y: Float32Array, full: Float32Array, row: Float32Array, rows: number, inner: number, f: (p: number, q: number) => number, rowFirst: boolean) => void;
const rowsLoops = new Map<BinaryOp, RowsLoop>();

function rowsLoop(op: BinaryOp): RowsLoop {
  let loop = rowsLoops.get(op);
  if (!loop) {
    const source = `
      if (rowFirst) { for (let r = 0, o = 0; r < rows; r++) for (let i = 0; i < inner; i++, o++) y[o] = f(row[i], full[o]); return; }
      for (let r = 0, o = 0; r < rows; r++) for (let i = 0; i < inner; i++, o++) y[o] = f(full[o], row[i]); // ${op}`;
    rowsLoops.set(op, (loop = new Function('y', 'full', 'row', 'rows', 'inner', 'f', 'rowFirst', source) as RowsLoop));
  }
  return loop;
}

function unaryLoop(op: UnaryOp): UnaryLoop {
  let loop = unaryLoops.get(op);
  if (!loop) unaryLoops.set(op, (loop = new Function('x', 'y', 'f', `for (let i = 0; i < x.length; i++) y[i] = f(x[i]); // ${op}`) as UnaryLoop));
  return loop;
}

/**
 * y[yo + i] = f(a[ao + i*sa], b[bo + i*sb]) over one row of n elements. The common stride
 * pairs get their own branch with literal strides (a scalar operand is read once), which V8
 * compiles to a tight loop: 2-3x faster than the general one on a bias add or a gradient scale.
 */
function rowLoop(op: BinaryOp): RowLoop {
  let loop = rowLoops.get(op);
  if (!loop) {
    const source = `
      if (sa === 1 && sb === 1) { for (let i = 0; i < n; i++) y[yo + i] = f(a[ao + i], b[bo + i]); return; }
      if (sa === 1 && sb === 0) { const q = b[bo]; for (let i = 0; i < n; i++) y[yo + i] = f(a[ao + i], q); return; }
      if (sa === 0 && sb === 1) { const p = a[ao]; for (let i = 0; i < n; i++) y[yo + i] = f(p, b[bo + i]); return; }
      for (let i = 0; i < n; i++) y[yo + i] = f(a[ao + i * sa], b[bo + i * sb]); // ${op}`;
    rowLoops.set(op, (loop = new Function('y', 'yo', 'a', 'ao', 'sa', 'b', 'bo', 'sb', 'n', 'f', source) as RowLoop));
  }
  return loop;
}

/** The ops wasm/vector-math.ts computes ~7x faster than Math (to ~1e-7); the others run the loops above. */
const VECTOR_OPS = new Set<UnaryOp>(['sigmoid', 'tanh', 'gelu', 'geluGrad']);
/** The binary ops vector-math.ts runs (binarySame, binaryRows). */
const VECTOR_BINARY = new Set<BinaryOp>(['add', 'sub', 'mul', 'div']);

export function unary(op: UnaryOp, x: Float32Array): Float32Array {
  const y = allocF32(x.length, true);
  const wasm = VECTOR_OPS.has(op) ? vectorMath() : null;
  if (wasm) wasm.apply(op as VectorFunction, x, y);
  else unaryLoop(op)(x, y, UNARY[op].cpu);
  return y;
}

/** y[yOffset + i] = f(x[xOffset + i]) for i < count: the wasm SIMD version where it runs, else Math. */
export function applyVectorFunction(name: VectorFunction, x: Float32Array, y: Float32Array, count: number, xOffset: number, yOffset: number): void {
  const wasm = vectorMath();
  if (wasm) return wasm.apply(name, x, y, count, xOffset, yOffset);
  const f = UNARY[name].cpu;
  for (let i = 0; i < count; i++) y[yOffset + i] = f(x[xOffset + i]!);
}

/**
 * Walk every index of `shape` in row-major order, calling visit(outIndex, offsets)
 * with each operand's flat offset kept up to date incrementally (no divisions).
 */
function forEachStrided(shape: number[], strides: number[][], visit: (i: number, offsets: Int32Array) => void): void {
  const rank = shape.length;
  const total = shape.reduce((n, d) => n * d, 1);
  const offsets = new Int32Array(strides.length);
  const counter = new Int32Array(rank);
  for (let i = 0; i < total; i++) {
    visit(i, offsets);
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      for (let s = 0; s < strides.length; s++) offsets[s]! += strides[s]![d]!;
      if (counter[d]! < shape[d]!) break;
      for (let s = 0; s < strides.length; s++) offsets[s]! -= strides[s]![d]! * shape[d]!;
      counter[d] = 0;
    }
  }
}

function isContiguous(strides: number[], shape: number[]): boolean {
  const c = contiguousStrides(shape);
  return strides.every((s, i) => s === c[i] || shape[i] === 1);
}

export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, layout: BroadcastLayout): Float32Array {
  const { outShape, stridesA, stridesB } = layout;
  const f = BINARY[op].cpu;
  const loop = rowLoop(op);
  const n = outShape.reduce((x, d) => x * d, 1);
  const y = allocF32(n, true);
  const aFull = isContiguous(stridesA, outShape) && a.length === n;
  const bFull = isContiguous(stridesB, outShape) && b.length === n;
  // add, sub, mul and div over whole arrays or with a bias row run in WebAssembly SIMD (~5x a JS loop: a
  // Float32Array loop costs ~2.5 ns an element here); f32x4 gives the same IEEE single result as the rounded JS op.
  const simd = n >= 64 && VECTOR_BINARY.has(op) ? vectorMath() : null;
  if (simd && aFull && bFull) {
    simd.binarySame(op as VectorBinaryOp, a, b, y, n);
    return y;
  }
  // Fast paths: same shapes, or one operand a scalar: one row of n.
  if ((aFull || a.length === 1) && (bFull || b.length === 1)) {
    loop(y, 0, a, 0, aFull ? 1 : 0, b, 0, bFull ? 1 : 0, n, f);
    return y;
  }
  // A bias: one operand whole, the other one row repeated over every outer index.
  const rank = outShape.length;
  const inner = outShape[rank - 1]!;
  const isRow = (strides: number[], length: number) => length === inner && strides[rank - 1] === 1 && strides.slice(0, -1).every((s) => s === 0);
  const simdRows = simd && inner % 4 === 0 && inner <= simd.capacity / 2;
  if (aFull && isRow(stridesB, b.length)) {
    if (simdRows) simd.binaryRows(op as VectorBinaryOp, a, b, y, n / inner, inner, false);
    else rowsLoop(op)(y, a, b, n / inner, inner, f, false);
    return y;
  }
  if (bFull && isRow(stridesA, a.length)) {
    if (simdRows) simd.binaryRows(op as VectorBinaryOp, b, a, y, n / inner, inner, true);
    else rowsLoop(op)(y, b, a, n / inner, inner, f, true);
    return y;
  }
  // Otherwise the innermost axis is the row (stride 0 where broadcast) and the outer axes are walked.
  const sa = stridesA[rank - 1]!;
  const sb = stridesB[rank - 1]!;
  forEachStrided(outShape.slice(0, -1), [stridesA.slice(0, -1), stridesB.slice(0, -1)], (row, o) => loop(y, row * inner, a, o[0]!, sa, b, o[1]!, sb, inner, f));
  return y;
}

export function where(cond: Float32Array, a: Float32Array, b: Float32Array, layout: BroadcastLayout): Float32Array {
  const n = layout.outShape.reduce((x, d) => x * d, 1);
  const y = allocF32(n, true);
  forEachStrided(layout.outShape, [layout.stridesC!, layout.stridesA, layout.stridesB], (i, o) => {
    y[i] = cond[o[0]!] !== 0 ? a[o[1]!]! : b[o[2]!]!;
  });
  return y;
}

type RowCopy = (src: Float32Array | Int32Array, dst: Float32Array | Int32Array, s: number, d: number, rows: number, row: number, srcStride: number, dstStride: number) => void;
/** Rows of `row` contiguous elements, `rows` times at fixed strides; one compiled copy per element type (see fused.ts, gatherLoop). */
function rowCopy(): RowCopy {
  return new Function('src', 'dst', 's', 'd', 'rows', 'row', 'srcStride', 'dstStride', `
    for (let r = 0; r < rows; r++, s += srcStride, d += dstStride) {
      if (row >= 64) dst.set(src.subarray(s, s + row), d);
      else for (let i = 0; i < row; i++) dst[d + i] = src[s + i];
    }`) as RowCopy;
}
const rowCopies = { f32: rowCopy(), i32: rowCopy() };

export function copyStrided(src: Float32Array | Int32Array, dst: Float32Array | Int32Array, copy: StridedCopy): void {
  const { shape, strides: [srcStrides, dstStrides] } = mergeDimensions(copy.shape, [copy.srcStrides, copy.dstStrides]) as { shape: number[]; strides: [number[], number[]] };
  const rank = shape.length;
  if (rank === 0) {
    dst[copy.dstOffset] = src[copy.srcOffset]!;
    return;
  }
  // Fast path: the innermost axis is contiguous on both sides, copy it as rows.
  if (srcStrides[rank - 1] === 1 && dstStrides[rank - 1] === 1) {
    const rows = rank === 1 ? 1 : shape[rank - 2]!;
    const copyRows = src instanceof Int32Array ? rowCopies.i32 : rowCopies.f32;
    const outer = shape.slice(0, Math.max(0, rank - 2));
    forEachStrided(outer, [srcStrides.slice(0, outer.length), dstStrides.slice(0, outer.length)], (_, o) => {
      copyRows(src, dst, copy.srcOffset + o[0]!, copy.dstOffset + o[1]!, rows, shape[rank - 1]!, rank === 1 ? 0 : srcStrides[rank - 2]!, rank === 1 ? 0 : dstStrides[rank - 2]!);
    });
    return;
  }
  forEachStrided(shape, [srcStrides, dstStrides], (_, o) => {
    dst[copy.dstOffset + o[1]!] = src[copy.srcOffset + o[0]!]!;
  });
}
