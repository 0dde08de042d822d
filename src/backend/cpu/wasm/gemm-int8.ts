// The int8 GEMM of dynamic quantization (as PyTorch's quantize_dynamic for Linear and LSTM):
// weights int8, symmetric, one f32 scale per output channel, packed once and kept resident in
// this module's own memory; activations quantized per row at run time (symmetric int8, scale =
// max|row| / 127); int32 accumulation; the epilogue dequantizes with row scale x channel scale
// and adds the bias (and, for an LSTM step, the input projection). Emitted by emit.ts at startup.
// The inner step is gemm.ts's 4x8 register block with pairs of k: one v128.load32_splat puts a
// row's two i16 activations in every lane, two v128.load8x8_s widen 8 channels x 2 k of weights
// to i16, and i32x4.dot_i16x8_s (x64: pmaddwd) multiplies and adds the pairs: 8 dot + 8 add per
// two k steps against the f32 kernel's 8 mul + 8 add per one, on a quarter of the weight bytes.
// MR = 4 rows, NR = 8 channels, KP = k pairs. Layouts, all panel-major:
//   A (activations): row panel ip at aPanelStride * ip; per k pair 16 bytes: i16 (r0k0 r0k1 r1k0 r1k1 r2k0 r2k1 r3k0 r3k1)
//   B (weights):     channel panel jp at bPanelStride * jp; per k pair 16 bytes: i8 (o0k0 o0k1 o1k0 ... o7k1)
//   C: f32 rows of ldc bytes, padded to whole 4 x 8 blocks.

import { Body, ValType, emitModule, type FunctionSpec } from './emit.js';
import type { WasmMemory, WasmModule } from './gemm.js';
import type { QuantizedMatrix } from '../../backend.js';

const ROWS = 4; // MR
const COLS = 8; // NR
/** int8 x int8 products summed in int32: |sum| <= 128 * 128 * k, so k up to 2^31 / 2^14. */
export const MAX_INT8_DEPTH = 131072;

// ---- quantizeRows -----------------------------------------------------------

/**
 * quantizeRows(src, rowPanels, k4, dst, rowScales): src holds rowPanels*4 f32 rows of k4 values
 * (k4 a multiple of 4, padding zero); each row's scale max|x| / 127 goes to rowScales, and
 * round(x * 127 / max|x|) (0 for an all-zero row) as i16 into A's panel layout at dst.
 */
function quantizeRowsFunction(): FunctionSpec {
  const P = { src: 0, rowPanels: 1, k4: 2, dst: 3, rowScales: 4 } as const;
  const rowBytes = 5, left = 6, p0 = 7; // p0..p3: one pointer per row of the panel
  const absmax = 11, inverse = 12; // f32
  const mx0 = 13, inv0 = 17, q0 = 21, narrowA = 25, narrowB = 26; // v128: 4 maxima, 4 inverse scales, 4 quantized rows, 2 narrowed
  const body = new Body();
  body.localGet(P.k4).i32Const(4).i32Mul().localSet(rowBytes);
  body.loop(); // over row panels
  // ---- pass 1: the largest |x| of each of the 4 rows
  for (let r = 0; r < ROWS; r++) {
    body.localGet(P.src).localGet(rowBytes).i32Const(r).i32Mul().i32Add().localSet(p0 + r);
    body.v128Zero().localSet(mx0 + r);
  }
  body.i32Const(0).localSet(left);
  body.loop();
  for (let r = 0; r < ROWS; r++) body.localGet(mx0 + r).localGet(p0 + r).localGet(left).i32Add().v128Load().f32x4Abs().f32x4Max().localSet(mx0 + r);
  body.localGet(left).i32Const(16).i32Add().localTee(left).localGet(rowBytes).i32LtU().brIf(0);
  body.end();
  // ---- the scales: a horizontal max, then scale = max / 127 and inverse = 127 / max (0 for a zero row)
  for (let r = 0; r < ROWS; r++) {
    const m = mx0 + r;
    body.localGet(m).localGet(m).localGet(m).i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).f32x4Max().localSet(m);
    body.localGet(m).localGet(m).localGet(m).i8x16Shuffle([4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]).f32x4Max().f32x4ExtractLane(0).localSet(absmax);
    body.localGet(P.rowScales).localGet(absmax).f32Const(127).f32Div().f32Store(4 * r);
    body.f32Const(0).localSet(inverse);
    body.localGet(absmax).f32Const(0).f32Gt().if().f32Const(127).localGet(absmax).f32Div().localSet(inverse).end();
    body.localGet(inverse).f32x4Splat().localSet(inv0 + r);
  }
  // ---- pass 2: four k at a time, quantize the 4 rows and interleave them into two k-pair blocks
  body.i32Const(0).localSet(left);
  body.loop();
  for (let r = 0; r < ROWS; r++) {
    body.localGet(p0 + r).localGet(left).i32Add().v128Load().localGet(inv0 + r).f32x4Mul().f32x4Nearest().i32x4TruncSatF32x4S().localSet(q0 + r);
  }
  body.localGet(q0).localGet(q0 + 1).i16x8NarrowI32x4S().localSet(narrowA); // r0 k0..3, r1 k0..3
  body.localGet(q0 + 2).localGet(q0 + 3).i16x8NarrowI32x4S().localSet(narrowB); // r2 k0..3, r3 k0..3
  body.localGet(P.dst).localGet(narrowA).localGet(narrowB).i8x16Shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]).v128Store(0);
  body.localGet(P.dst).localGet(narrowA).localGet(narrowB).i8x16Shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]).v128Store(16);
  body.localGet(P.dst).i32Const(32).i32Add().localSet(P.dst);
  body.localGet(left).i32Const(16).i32Add().localTee(left).localGet(rowBytes).i32LtU().brIf(0);
  body.end();
  // ---- next panel
  body.localGet(P.src).localGet(rowBytes).i32Const(ROWS).i32Mul().i32Add().localSet(P.src);
  body.localGet(P.rowScales).i32Const(4 * ROWS).i32Add().localSet(P.rowScales);
  body.localGet(P.rowPanels).i32Const(1).i32Sub().localTee(P.rowPanels).brIf(0);
  body.end();
  return {
    name: 'quantizeRows',
    params: new Array<ValType>(5).fill(ValType.i32),
    results: [],
    locals: [...new Array<ValType>(6).fill(ValType.i32), ValType.f32, ValType.f32, ...new Array<ValType>(14).fill(ValType.v128)],
    body,
  };
}

// ---- gemm -------------------------------------------------------------------

const Param = { a: 0, b: 1, c: 2, kPairs: 3, rowPanels: 4, colPanels: 5, aPanelStride: 6, bPanelStride: 7, ldc: 8, accumulate: 9, rowScales: 10, colScales: 11, bias: 12 } as const;
const PARAM_COUNT = 13;

/**
 * gemm(a, b, c, kPairs, rowPanels, colPanels, aPanelStride, bPanelStride, ldc, accumulate, rowScales, colScales, bias),
 * all i32, distances in bytes: C[r, o] = (sum_k A[r, k] B[o, k]) * rowScales[r] * colScales[o] + bias[o]
 * (+ C[r, o] with accumulate = 1) for row panels from a/rowScales and channel panels from b/colScales/bias/c.
 */
function gemmFunction(): FunctionSpec {
  const vectors = COLS / 4;
  const bPanel = PARAM_COUNT, cBlock = bPanel + 1, colsLeft = cBlock + 1, pa = colsLeft + 1, pb = pa + 1, pbEnd = pb + 1, cRow = pbEnd + 1, colScale = cRow + 1, biasAt = colScale + 1;
  const i32Locals = 9;
  const acc = (r: number, v: number) => biasAt + 1 + r * vectors + v;
  const bVec = (v: number) => biasAt + 1 + ROWS * vectors + v;
  const aSplat = bVec(vectors);
  const rowScale = aSplat + 1;
  const channelScale = (v: number) => rowScale + 1 + v;
  const biasVec = (v: number) => rowScale + 1 + vectors + v;
  const v128Locals = ROWS * vectors + vectors + 2 + 2 * vectors;

  const body = new Body();
  body.loop(); // over row panels
  body.localGet(Param.b).localSet(bPanel);
  body.localGet(Param.c).localSet(cBlock);
  body.localGet(Param.colScales).localSet(colScale);
  body.localGet(Param.bias).localSet(biasAt);
  body.localGet(Param.colPanels).localSet(colsLeft);

  body.loop(); // over channel panels
  for (let r = 0; r < ROWS; r++) for (let v = 0; v < vectors; v++) body.v128Zero().localSet(acc(r, v));
  body.localGet(Param.a).localSet(pa);
  body.localGet(bPanel).localTee(pb);
  body.localGet(Param.kPairs).i32Const(16).i32Mul().i32Add().localSet(pbEnd);

  body.loop(); // over k pairs
  for (let v = 0; v < vectors; v++) body.localGet(pb).v128Load8x8S(8 * v).localSet(bVec(v));
  for (let r = 0; r < ROWS; r++) {
    body.localGet(pa).v128Load32Splat(4 * r).localSet(aSplat);
    for (let v = 0; v < vectors; v++) body.localGet(acc(r, v)).localGet(aSplat).localGet(bVec(v)).i32x4DotI16x8S().i32x4Add().localSet(acc(r, v));
  }
  body.localGet(pa).i32Const(16).i32Add().localSet(pa);
  body.localGet(pb).i32Const(16).i32Add().localTee(pb);
  body.localGet(pbEnd).i32Ne().brIf(0);
  body.end();

  // Epilogue: dequantize, add the bias (and C), store.
  for (let v = 0; v < vectors; v++) {
    body.localGet(colScale).v128Load(16 * v).localSet(channelScale(v));
    body.localGet(biasAt).v128Load(16 * v).localSet(biasVec(v));
  }
  body.localGet(cBlock).localSet(cRow);
  for (let r = 0; r < ROWS; r++) {
    body.localGet(Param.rowScales).v128Load32Splat(4 * r).localSet(rowScale);
    for (let v = 0; v < vectors; v++) {
      body.localGet(cRow);
      body.localGet(acc(r, v)).f32x4ConvertI32x4S().localGet(rowScale).f32x4Mul().localGet(channelScale(v)).f32x4Mul().localGet(biasVec(v)).f32x4Add().localSet(acc(r, v));
      body.localGet(Param.accumulate).if().localGet(acc(r, v)).localGet(cRow).v128Load(16 * v).f32x4Add().localSet(acc(r, v)).end();
      body.localGet(acc(r, v)).v128Store(16 * v);
    }
    if (r < ROWS - 1) body.localGet(cRow).localGet(Param.ldc).i32Add().localSet(cRow);
  }

  body.localGet(bPanel).localGet(Param.bPanelStride).i32Add().localSet(bPanel);
  body.localGet(cBlock).i32Const(COLS * 4).i32Add().localSet(cBlock);
  body.localGet(colScale).i32Const(COLS * 4).i32Add().localSet(colScale);
  body.localGet(biasAt).i32Const(COLS * 4).i32Add().localSet(biasAt);
  body.localGet(colsLeft).i32Const(1).i32Sub().localTee(colsLeft).brIf(0);
  body.end();

  body.localGet(Param.a).localGet(Param.aPanelStride).i32Add().localSet(Param.a);
  body.localGet(Param.rowScales).i32Const(ROWS * 4).i32Add().localSet(Param.rowScales);
  body.localGet(Param.c).localGet(Param.ldc).i32Const(ROWS).i32Mul().i32Add().localSet(Param.c);
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
const MAX_PAGES = 65536;

/** The binary module: `quantizeRows` and `gemm` over an imported (unshared) memory `env.memory`. */
export function emitInt8GemmModule(): Uint8Array {
  return emitModule({ module: 'env', name: 'memory', initial: 1, maximum: MAX_PAGES, shared: false }, [quantizeRowsFunction(), gemmFunction()]);
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether this engine validates the module (WebAssembly SIMD with i32x4.dot_i16x8_s: Node >= 16.4). */
export function int8GemmSupported(): boolean {
  try {
    return wasmApi !== undefined && wasmApi.validate(emitInt8GemmModule());
  } catch {
    return false;
  }
}

/** Where a weight sits in the memory: its packed panels, then its channel scales (padded to whole panels). */
interface PlacedWeight {
  at: number;
  bytes: number;
  kPairs: number;
  colPanels: number;
  scalesAt: number;
}

type QuantizeRows = (src: number, rowPanels: number, k4: number, dst: number, rowScales: number) => void;
type Gemm = (a: number, b: number, c: number, kPairs: number, rowPanels: number, colPanels: number, aPanelStride: number, bPanelStride: number, ldc: number, accumulate: number, rowScales: number, colScales: number, bias: number) => void;

/** A weight panel group streamed per call: about 128 KiB of B, so it stays in L2 while the row panels pass. */
const GROUP_BYTES = 128 * 1024;
const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;
const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * The compiled module, its memory, and the weights resident in it. Memory: [weights ... | scratch],
 * the scratch (the call's activations, their scales, the bias, C) placed after the highest weight
 * at each call, so placing a weight never moves one already there. A released weight's bytes are
 * reused by a later weight of at most that size.
 */
export class Int8Gemm {
  private readonly memory: WasmMemory;
  private readonly quantizeRows: QuantizeRows;
  private readonly gemm: Gemm;
  private readonly placed = new WeakMap<QuantizedMatrix, PlacedWeight>();
  private readonly holes: { at: number; bytes: number }[] = [];
  private top = 64; // byte 0..63 left unused: an offset of 0 is never a weight
  private views: { buffer: ArrayBufferLike; u8: Uint8Array; i8: Int8Array; f32: Float32Array } | null = null;

  constructor() {
    if (!wasmApi) throw new Error('Int8Gemm: this JavaScript engine has no WebAssembly');
    const module = new wasmApi.Module(emitInt8GemmModule());
    this.memory = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: false });
    const { exports } = new wasmApi.Instance(module, { env: { memory: this.memory } });
    this.quantizeRows = exports.quantizeRows as QuantizeRows;
    this.gemm = exports.gemm as Gemm;
  }

  /** Byte, int8 and f32 views of the whole memory; a grow replaces the buffer, so they are rebuilt then. */
  private get view() {
    const buffer = this.memory.buffer;
    if (this.views?.buffer !== buffer) this.views = { buffer, u8: new Uint8Array(buffer), i8: new Int8Array(buffer), f32: new Float32Array(buffer) };
    return this.views;
  }

  private reserve(bytes: number, what: string): void {
    const pages = Math.ceil(bytes / PAGE_BYTES);
    const have = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > MAX_PAGES) throw new Error(`int8 gemm: ${what} needs ${bytes} bytes, past the 4 GiB a WebAssembly memory addresses`);
    if (pages > have) this.memory.grow(pages - have);
  }

  /** The weight's place in memory, packing it there on first use. */
  private place(weight: QuantizedMatrix): PlacedWeight {
    const known = this.placed.get(weight);
    if (known) return known;
    const { rows, cols, values, scales } = weight;
    if (values.length !== rows * cols || scales.length !== rows) throw new Error(`int8 gemm: a [${rows}, ${cols}] weight needs ${rows * cols} values and ${rows} scales, got ${values.length} and ${scales.length}`);
    if (cols > MAX_INT8_DEPTH) throw new Error(`int8 gemm: ${cols} input features, more than the ${MAX_INT8_DEPTH} an int32 sum of int8 products holds`);
    const kPairs = roundUp(Math.max(cols, 1), 4) / 2;
    const colPanels = Math.ceil(rows / COLS);
    const panelBytes = kPairs * 16;
    const bytes = align64(colPanels * panelBytes + colPanels * COLS * 4);
    const hole = this.holes.findIndex((h) => h.bytes >= bytes);
    let at: number;
    if (hole >= 0) {
      at = this.holes[hole]!.at;
      this.holes.splice(hole, 1);
    } else {
      at = this.top;
      this.reserve(at + bytes, `a [${rows}, ${cols}] weight`);
      this.top += bytes;
    }
    const { i8, f32 } = this.view;
    const scalesAt = at + colPanels * panelBytes;
    i8.fill(0, at, at + bytes);
    // Channel o, input k -> panel o / 8, k pair k / 2, byte (o % 8 < 4 ? 0 : 8) + (o % 4) * 2 + k % 2.
    for (let o = 0; o < rows; o++) {
      const lane = at + Math.floor(o / COLS) * panelBytes + ((o % COLS) >> 2) * 8 + (o % 4) * 2;
      const row = o * cols;
      for (let k = 0; k < cols; k++) i8[lane + (k >> 1) * 16 + (k & 1)] = values[row + k]!;
    }
    f32.set(scales, scalesAt / 4);
    const result = { at, bytes, kPairs, colPanels, scalesAt };
    this.placed.set(weight, result);
    return result;
  }

  /** Give the weight's bytes back (its next use packs it again). */
  release(weight: QuantizedMatrix): void {
    const placed = this.placed.get(weight);
    if (!placed) return;
    this.placed.delete(weight);
    if (placed.at + placed.bytes === this.top) this.top = placed.at;
    else this.holes.push({ at: placed.at, bytes: placed.bytes });
  }

  /**
   * out[outOffset + i*O + o] = quantize(x row i) . weight row o, dequantized, + bias[o]
   * (+ addend[addendOffset + i*O + o] when given), for the m rows of x from xOffset (k = weight.cols each).
   */
  linear(x: Float32Array, xOffset: number, m: number, weight: QuantizedMatrix, bias: Float32Array | null, out: Float32Array, outOffset: number, addend?: Float32Array, addendOffset = 0): void {
    const { rows: n, cols: k } = weight;
    if (m === 0 || n === 0) return;
    if (bias && bias.length !== n) throw new Error(`int8 gemm: a bias of ${bias.length} for ${n} output channels`);
    const w = this.place(weight);
    const k4 = w.kPairs * 2;
    const rowPanels = Math.ceil(m / ROWS);
    const paddedRows = rowPanels * ROWS;
    const ldc = w.colPanels * COLS; // floats per padded C row
    // Scratch after the highest weight: f32 rows, their int16 panels, row scales, bias, C.
    const srcAt = align64(this.top);
    const aAt = align64(srcAt + paddedRows * k4 * 4);
    const rowScalesAt = align64(aAt + rowPanels * w.kPairs * 16);
    const biasAt = align64(rowScalesAt + paddedRows * 4);
    const cAt = align64(biasAt + ldc * 4);
    this.reserve(cAt + paddedRows * ldc * 4, `a [${m}, ${k}] x [${k}, ${n}] product`);
    const { f32 } = this.view;
    const src = srcAt / 4;
    if (k4 === k) f32.set(x.subarray(xOffset, xOffset + m * k), src);
    else {
      for (let i = 0; i < m; i++) {
        f32.set(x.subarray(xOffset + i * k, xOffset + (i + 1) * k), src + i * k4);
        f32.fill(0, src + i * k4 + k, src + (i + 1) * k4);
      }
    }
    f32.fill(0, src + m * k4, src + paddedRows * k4);
    if (bias) f32.set(bias, biasAt / 4);
    else f32.fill(0, biasAt / 4, biasAt / 4 + n);
    const c = cAt / 4;
    if (addend) {
      if (ldc === n) f32.set(addend.subarray(addendOffset, addendOffset + m * n), c);
      else for (let i = 0; i < m; i++) f32.set(addend.subarray(addendOffset + i * n, addendOffset + (i + 1) * n), c + i * ldc);
    }
    this.quantizeRows(srcAt, rowPanels, k4, aAt, rowScalesAt);
    const panelBytes = w.kPairs * 16;
    const group = Math.max(1, Math.floor(GROUP_BYTES / panelBytes));
    for (let jp = 0; jp < w.colPanels; jp += group) {
      const panels = Math.min(group, w.colPanels - jp);
      const offset = jp * COLS * 4;
      this.gemm(aAt, w.at + jp * panelBytes, cAt + offset, w.kPairs, rowPanels, panels, panelBytes, panelBytes, ldc * 4, addend ? 1 : 0, rowScalesAt, w.scalesAt + offset, biasAt + offset);
    }
    const view = this.view.f32;
    if (ldc === n) out.set(view.subarray(c, c + m * n), outOffset);
    else for (let i = 0; i < m; i++) out.set(view.subarray(c + i * ldc, c + i * ldc + n), outOffset + i * n);
  }

  /** The activations' quantization alone, as linear does it: int8 rows [m, k] and their scales (tests compare it with a reference). */
  quantizeActivations(x: Float32Array, m: number, k: number): { values: Int8Array; scales: Float32Array } {
    const k4 = roundUp(Math.max(k, 1), 4);
    const rowPanels = Math.ceil(m / ROWS);
    const srcAt = align64(this.top);
    const aAt = align64(srcAt + rowPanels * ROWS * k4 * 4);
    const rowScalesAt = align64(aAt + rowPanels * k4 * 8);
    this.reserve(rowScalesAt + rowPanels * ROWS * 4, 'quantizing activations');
    const { f32 } = this.view;
    f32.fill(0, srcAt / 4, aAt / 4);
    for (let i = 0; i < m; i++) f32.set(x.subarray(i * k, (i + 1) * k), srcAt / 4 + i * k4);
    if (m > 0) this.quantizeRows(srcAt, rowPanels, k4, aAt, rowScalesAt);
    const i16 = new Int16Array(this.memory.buffer);
    const values = new Int8Array(m * k);
    for (let i = 0; i < m; i++) {
      const panel = aAt / 2 + Math.floor(i / ROWS) * k4 * 4 + (i % ROWS) * 2;
      for (let kk = 0; kk < k; kk++) values[i * k + kk] = i16[panel + (kk >> 1) * 8 + (kk & 1)]!;
    }
    return { values, scales: this.view.f32.slice(rowScalesAt / 4, rowScalesAt / 4 + m) };
  }
}
