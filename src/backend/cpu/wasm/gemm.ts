// The WebAssembly SIMD GEMM micro-kernel, emitted by emit.ts at startup, and
// the linear memory it works in. It keeps a ROWS x COLS block of C in v128
// locals; per k step it loads COLS/4 vectors of B, broadcasts ROWS values of A
// and does ROWS*COLS/4 f32x4 mul+add pairs. No FMA: that needs relaxed-simd,
// which Node 20 keeps behind a flag.
// Operands are read through strides, so the kernel takes the k-major panels
// that ../matmul.ts packs (A in ROWS-row panels, B in COLS-column panels, as
// the JS kernel's) and equally an operand already in that order in memory: a
// transposed A ([k, m]: the ROWS values of one k step are adjacent) or a plain
// B ([k, n]: the COLS values of one k step are adjacent), which are then only
// copied, not packed.
// MR = rows of a block, NR = columns of a block, KC = the k slice one call sums.

import { Body, ValType, emitModule, type FunctionSpec } from './emit.js';

/** A kernel version: the register block. */
export interface GemmShape {
  rows: number; // MR
  cols: number; // NR, a multiple of 4
}

/**
 * The version in use, the winner of bench/wasm-gemm-versions.bench.ts on x64
 * V8 (AMD EPYC Zen 4, Node 20; 1024^3, kernel only, one core, GFLOP/s): 4x8 39,
 * 3x8 38, 2x16 37, 6x4 35, 5x8 33, 3x12 29, 8x8 28, 6x8 26. V8 gives wasm 15
 * allocatable xmm registers: 4x8 needs 8 accumulators + 2 B vectors + 1
 * broadcast + 1 product; bigger blocks spill. (Unrolling k by hand also lost,
 * 26: TurboFan then hoists the loads of both steps and spills; it unrolls the
 * small loop itself. A pre-broadcast A panel, plain loads instead of
 * v128.load32_splat, was no faster.) Rows = 4 makes the A panels the very
 * layout the JS kernel packs.
 */
export const GEMM_SHAPE: GemmShape = { rows: 4, cols: 8 };

/** Parameter order of the exported `gemm` function. */
const Param = { a: 0, b: 1, c: 2, kc: 3, rowPanels: 4, colPanels: 5, aPanelStride: 6, bPanelStride: 7, ldc: 8, accumulate: 9, aStep: 10, bStep: 11 } as const;
const PARAM_COUNT = 12;

/**
 * gemm(a, b, c, kc, rowPanels, colPanels, aPanelStride, bPanelStride, ldc, accumulate, aStep, bStep),
 * all i32, every distance in bytes. A panel ip starts at a + ip*aPanelStride and holds its ROWS values
 * of one k step adjacent, the next k step aStep further on; B panel jp likewise from b + jp*bPanelStride
 * with its COLS values adjacent and bStep between k steps. The ROWS x COLS block of C at
 * c + ip*ROWS*ldc + jp*COLS*4 is set (accumulate = 0) or incremented (accumulate = 1) by the sum over
 * kc > 0 k steps. Row panels outermost: one A panel (ROWS x kc) stays in L1 while the B slice streams from L2.
 */
function gemmFunction(shape: GemmShape): FunctionSpec {
  const { rows, cols } = shape;
  if (cols % 4 !== 0) throw new Error(`wasm gemm: block columns must be a multiple of 4, got ${cols}`);
  const vectors = cols / 4;
  // Locals after the parameters: i32 bookkeeping, then the v128 registers.
  const bPanel = PARAM_COUNT, cBlock = bPanel + 1, colsLeft = cBlock + 1, pa = colsLeft + 1, pb = pa + 1, pbEnd = pb + 1, cRow = pbEnd + 1;
  const i32Locals = 7;
  const acc = (r: number, v: number) => cRow + 1 + r * vectors + v;
  const bVec = (v: number) => cRow + 1 + rows * vectors + v;
  const aSplat = cRow + 1 + rows * vectors + vectors;
  const v128Locals = rows * vectors + vectors + 1;

  const body = new Body();
  body.loop(); // over row panels
  body.localGet(Param.b).localSet(bPanel);
  body.localGet(Param.c).localSet(cBlock);
  body.localGet(Param.colPanels).localSet(colsLeft);

  body.loop(); // over column panels
  // Accumulators start from C (a later k slice) or from zero (the first).
  body.localGet(Param.accumulate).if();
  body.localGet(cBlock).localSet(cRow);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) body.localGet(cRow).v128Load(16 * v).localSet(acc(r, v));
    if (r < rows - 1) body.localGet(cRow).localGet(Param.ldc).i32Add().localSet(cRow);
  }
  body.else();
  for (let r = 0; r < rows; r++) for (let v = 0; v < vectors; v++) body.v128Zero().localSet(acc(r, v));
  body.end();

  body.localGet(Param.a).localSet(pa);
  body.localGet(bPanel).localTee(pb);
  body.localGet(Param.kc).localGet(Param.bStep).i32Mul().i32Add().localSet(pbEnd);

  body.loop(); // over k; the offsets of the memory immediates pick the lanes
  for (let v = 0; v < vectors; v++) body.localGet(pb).v128Load(16 * v).localSet(bVec(v));
  for (let r = 0; r < rows; r++) {
    body.localGet(pa).v128Load32Splat(4 * r).localSet(aSplat);
    for (let v = 0; v < vectors; v++) {
      body.localGet(acc(r, v)).localGet(aSplat).localGet(bVec(v)).f32x4Mul().f32x4Add().localSet(acc(r, v));
    }
  }
  body.localGet(pa).localGet(Param.aStep).i32Add().localSet(pa);
  body.localGet(pb).localGet(Param.bStep).i32Add().localTee(pb);
  body.localGet(pbEnd).i32Ne().brIf(0);
  body.end();

  body.localGet(cBlock).localSet(cRow);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) body.localGet(cRow).localGet(acc(r, v)).v128Store(16 * v);
    if (r < rows - 1) body.localGet(cRow).localGet(Param.ldc).i32Add().localSet(cRow);
  }

  body.localGet(bPanel).localGet(Param.bPanelStride).i32Add().localSet(bPanel);
  body.localGet(cBlock).i32Const(cols * 4).i32Add().localSet(cBlock);
  body.localGet(colsLeft).i32Const(1).i32Sub().localTee(colsLeft).brIf(0);
  body.end();

  body.localGet(Param.a).localGet(Param.aPanelStride).i32Add().localSet(Param.a);
  body.localGet(Param.c).localGet(Param.ldc).i32Const(rows).i32Mul().i32Add().localSet(Param.c);
  body.localGet(Param.rowPanels).i32Const(1).i32Sub().localTee(Param.rowPanels).brIf(0);
  body.end();

  return {
    name: 'gemm',
    params: new Array<ValType>(PARAM_COUNT).fill(ValType.i32),
    results: [],
    locals: [...new Array<ValType>(i32Locals).fill(ValType.i32), ...new Array<ValType>(v128Locals).fill(ValType.v128)],
    body,
  };
}

const PAGE_BYTES = 65536;
/** 4 GiB, the most a 32-bit memory can address; a shared memory reserves address space for it up front, not RAM. */
const MAX_PAGES = 65536;

/** The binary module: `gemm` over an imported memory `env.memory`. */
export function emitGemmModule(shape: GemmShape, shared: boolean): Uint8Array {
  return emitModule({ module: 'env', name: 'memory', initial: 1, maximum: MAX_PAGES, shared }, [gemmFunction(shape)]);
}

/**
 * The slice of the WebAssembly JS API used here. tsconfig's lib (ES2023, no DOM)
 * and @types/node 20 do not declare it, so it is typed locally rather than globally.
 */
export interface WasmModule { readonly __brand?: 'WebAssembly.Module' }
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export type GemmFunction = (a: number, b: number, c: number, kc: number, rowPanels: number, colPanels: number, aPanelStride: number, bPanelStride: number, ldc: number, accumulate: number, aStep: number, bStep: number) => void;

/** Whether this engine runs WebAssembly SIMD (any Node >= 16.4; some browsers in lockdown modes do not). */
export function wasmSimdSupported(): boolean {
  try {
    return wasmApi !== undefined && wasmApi.validate(emitGemmModule(GEMM_SHAPE, false));
  } catch {
    return false;
  }
}

/**
 * The compiled kernel and its linear memory (shared, so a worker thread can
 * instantiate the same module over it and fill its own rows of C).
 */
export class WasmGemm {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly gemm: GemmFunction;
  private view: Float32Array | null = null;

  constructor(readonly shape: GemmShape = GEMM_SHAPE) {
    if (!wasmApi) throw new Error('WasmGemm: this JavaScript engine has no WebAssembly');
    const shared = typeof SharedArrayBuffer === 'function';
    this.module = new wasmApi.Module(emitGemmModule(shape, shared));
    this.memory = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared });
    const instance = new wasmApi.Instance(this.module, { env: { memory: this.memory } });
    this.gemm = instance.exports.gemm as GemmFunction;
  }

  /**
   * Grow the memory to hold `floats` f32 values; false when that is past the
   * 4 GiB a 32-bit memory can address or the system refuses the pages. It never
   * shrinks: the largest product so far stays reserved.
   */
  reserve(floats: number): boolean {
    const pages = Math.ceil((floats * 4) / PAGE_BYTES);
    if (pages > MAX_PAGES) return false;
    const have = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > have) {
      try {
        this.memory.grow(pages - have);
      } catch {
        return false; // RangeError: out of memory
      }
      this.view = null;
    }
    return true;
  }

  /** All of memory as f32. Growing replaces the buffer, so the view is rebuilt after a grow. */
  get f32(): Float32Array {
    if (this.view === null || this.view.buffer.byteLength !== this.memory.buffer.byteLength) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }
}

/**
 * Where the kernel finds its operands, all in bytes within the memory: A's row
 * panels from aBase (aPanelStride apart, aStep per k step), B's column panels
 * from bBase (bPanelStride apart, bStep per k step), C from cBase with ldc
 * bytes per row, padded to whole blocks.
 */
export interface GemmOperands {
  aBase: number;
  aPanelStride: number;
  aStep: number;
  bBase: number;
  bPanelStride: number;
  bStep: number;
  cBase: number;
  ldc: number;
  k: number;
  colPanels: number;
}

/**
 * C = A x B (or C += A x B with `accumulate`) for A's row panels [panelStart, panelEnd). Cache blocking: k in
 * slices of `kSlice` and columns in groups of `colGroup` panels, so the B slice
 * one call streams (kSlice x colGroup*COLS floats) stays in L2.
 * Self-contained (no imports, no closures): parallel.ts ships its source to the worker thread.
 */
export function gemmBlocked(gemm: GemmFunction, rows: number, cols: number, o: GemmOperands, panelStart: number, panelEnd: number, kSlice: number, colGroup: number, accumulate = false): void {
  if (panelEnd <= panelStart) return;
  for (let jc = 0; jc < o.colPanels; jc += colGroup) {
    const group = Math.min(colGroup, o.colPanels - jc);
    for (let pc = 0; pc < o.k; pc += kSlice) {
      const kc = Math.min(kSlice, o.k - pc);
      const a = o.aBase + panelStart * o.aPanelStride + pc * o.aStep;
      const b = o.bBase + jc * o.bPanelStride + pc * o.bStep;
      const c = o.cBase + panelStart * rows * o.ldc + jc * cols * 4;
      gemm(a, b, c, kc, panelEnd - panelStart, group, o.aPanelStride, o.bPanelStride, o.ldc, pc > 0 || accumulate ? 1 : 0, o.aStep, o.bStep);
    }
  }
}
