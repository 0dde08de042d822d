// The transcendental functions of the training step (sigmoid, tanh, GELU and its
// derivative, all built on one exp) as WebAssembly SIMD loops, four f32 lanes at a time, emitted by emit.ts.
// V8's Math.exp and Math.tanh cost 10-20 ns each here, and an LSTM cell needs five per element;
// these run 6-8x faster (bench/kernels.bench.ts, with and without MEDNER_CPU_KERNEL=js). Formulas (Cephes single precision):
//   exp(x)  = 2^k * p(r), k = round(x / ln 2), r = x - k ln 2 (split in two constants),
//             p a degree-7 polynomial; x clamped to [-87.3, 88] (exp is 0 below -87.3)
//   tanh(x) = x + x^3 q(x^2) for |x| < 0.625 (no cancellation near 0), else
//             sign(x) (1 - 2 / (exp(2|x|) + 1))
//   sigmoid(x) = 1 / (1 + exp(-x))
//   erf(x)  = Numerical Recipes' erfc fit (|error| < 1.2e-7), as src/ops/tables/unary.ts
//             and kernels/unary.wgsl, with 1 + erf(x) = erfc(-x) for x < 0 (no cancellation);
//             gelu(x) = x/2 (1 + erf(x/sqrt 2)),
//             geluGrad(x) = (1 + erf(x/sqrt 2))/2 + x exp(-x^2/2) / sqrt(2 pi)
// Each function is f(ptr, count): in place over `count` f32 at byte offset ptr of the module's
// own memory; count a multiple of 4. VectorMath.apply streams any array through that memory.

import { Body, ValType, emitModule, type FunctionSpec } from './emit.js';
import { hash32 } from '../../../tensor/random.js';
import { platform } from '../../../platform/index.js';
import { wasmSimdSupported, type WasmMemory, type WasmModule } from './gemm.js';

export type VectorFunction = 'sigmoid' | 'tanh' | 'gelu' | 'geluGrad';
const FUNCTIONS: VectorFunction[] = ['sigmoid', 'tanh', 'gelu', 'geluGrad'];

const EXP_LOW = -87.33654; // exp below this is under f32's smallest normal: the result is 0
const EXP_HIGH = 88; // round(88 / ln 2) = 127, the largest finite power of two
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
const TANH_SMALL = 0.625;
const ERFC_POLY = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];
const SIGN_BIT = -0x80000000;

/** Locals: 0 ptr, 1 count (params), 2 end (i32), then v128 temporaries from 3 on. */
const PTR = 0, COUNT = 1, END = 2, V = 3;
const V128_LOCALS = 12; // the deepest nesting, geluGrad's erf's exp, reaches local 13

/** Horner: push c[0] x^(n-1) + ... + c[n-1] for x in local `x`. */
function polynomial(b: Body, x: number, coefficients: number[]): Body {
  b.f32x4Const(coefficients[0]!);
  for (const c of coefficients.slice(1)) b.localGet(x).f32x4Mul().f32x4Const(c).f32x4Add();
  return b;
}

/** out = exp(local x); uses locals t..t+2. */
function exp(b: Body, x: number, out: number, t: number): void {
  const [clamped, k, r] = [t, t + 1, t + 2];
  b.localGet(x).f32x4Const(EXP_LOW).f32x4Max().f32x4Const(EXP_HIGH).f32x4Min().localSet(clamped);
  b.localGet(clamped).f32x4Const(Math.LOG2E).f32x4Mul().f32x4Nearest().localSet(k);
  b.localGet(clamped).localGet(k).f32x4Const(LN2_HI).f32x4Mul().f32x4Sub().localGet(k).f32x4Const(LN2_LO).f32x4Mul().f32x4Sub().localSet(r);
  // p = poly(r) r^2 + r + 1
  polynomial(b, r, EXP_POLY).localGet(r).f32x4Mul().localGet(r).f32x4Mul().localGet(r).f32x4Add().f32x4Const(1).f32x4Add();
  // times 2^k, built in the exponent bits: (k + 127) << 23
  b.localGet(k).i32x4TruncSatF32x4S().i32x4Const(127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
  // 0 below the clamp (a NaN compares false and stays NaN)
  b.localGet(x).f32x4Const(EXP_LOW).f32x4Lt().v128AndNot().localSet(out);
}

/** out = tanh(local x); uses locals t..t+6. */
function tanh(b: Body, x: number, out: number, t: number): void {
  const [abs, twice, e, square] = [t, t + 1, t + 2, t + 3];
  b.localGet(x).f32x4Abs().localSet(abs);
  b.localGet(abs).localGet(abs).f32x4Add().localSet(twice);
  exp(b, twice, e, t + 4);
  // large |x|: 1 - 2/(e+1), with x's sign
  b.f32x4Const(1).f32x4Const(2).localGet(e).f32x4Const(1).f32x4Add().f32x4Div().f32x4Sub();
  b.localGet(x).i32x4Const(SIGN_BIT).v128And().v128Or().localSet(e);
  // small |x|: x + x z q(z), z = x^2
  b.localGet(x).localGet(x).f32x4Mul().localSet(square);
  b.localGet(x).localGet(x).localGet(square).f32x4Mul();
  polynomial(b, square, TANH_POLY).f32x4Mul().f32x4Add();
  b.localGet(e).localGet(abs).f32x4Const(TANH_SMALL).f32x4Lt().v128Bitselect().localSet(out);
}

/**
 * out = 1 + erf(local x) by the erfc fit, as erfc(|x|) for x < 0 and 2 - erfc(|x|) otherwise:
 * no cancellation where erf is near -1 (GELU's negative tail). Uses locals t..t+6.
 */
function onePlusErf(b: Body, x: number, out: number, t: number): void {
  const [z, tt, arg, e] = [t, t + 1, t + 2, t + 3];
  b.localGet(x).f32x4Abs().localSet(z);
  b.f32x4Const(1).f32x4Const(1).localGet(z).f32x4Const(0.5).f32x4Mul().f32x4Add().f32x4Div().localSet(tt);
  // erfc(|x|) = t exp(-z^2 + poly(t))
  b.localGet(z).localGet(z).f32x4Mul().f32x4Neg();
  polynomial(b, tt, ERFC_POLY).f32x4Add().localSet(arg);
  exp(b, arg, e, t + 4);
  b.localGet(tt).localGet(e).f32x4Mul().localSet(e);
  b.localGet(e).f32x4Const(2).localGet(e).f32x4Sub().localGet(x).f32x4Const(0).f32x4Lt().v128Bitselect().localSet(out);
}

/** Emit the value of `name` at local x into local out. */
const BODIES: Record<VectorFunction, (b: Body, x: number, out: number) => void> = {
  sigmoid: (b, x, out) => {
    b.localGet(x).f32x4Neg().localSet(V + 2);
    exp(b, V + 2, V + 3, V + 4);
    b.f32x4Const(1).f32x4Const(1).localGet(V + 3).f32x4Add().f32x4Div().localSet(out);
  },
  tanh: (b, x, out) => tanh(b, x, out, V + 2),
  gelu: (b, x, out) => {
    b.localGet(x).f32x4Const(Math.SQRT1_2).f32x4Mul().localSet(V + 2);
    onePlusErf(b, V + 2, V + 3, V + 4);
    b.localGet(x).f32x4Const(0.5).f32x4Mul().localGet(V + 3).f32x4Mul().localSet(out);
  },
  geluGrad: (b, x, out) => {
    b.localGet(x).f32x4Const(Math.SQRT1_2).f32x4Mul().localSet(V + 2);
    onePlusErf(b, V + 2, V + 3, V + 4);
    b.localGet(x).localGet(x).f32x4Mul().f32x4Const(-0.5).f32x4Mul().localSet(V + 2);
    exp(b, V + 2, V + 4, V + 5);
    b.localGet(V + 3).f32x4Const(0.5).f32x4Mul();
    b.localGet(x).f32x4Const(1 / Math.sqrt(2 * Math.PI)).f32x4Mul().localGet(V + 4).f32x4Mul().f32x4Add().localSet(out);
  },
};

/** f(ptr, count): for each vector in [ptr, ptr + 4 count): x = load, store f(x). */
function vectorFunction(name: VectorFunction): FunctionSpec {
  const b = new Body();
  const x = V, y = V + 1;
  b.block();
  b.localGet(COUNT).i32Eqz().brIf(0);
  b.localGet(PTR).localGet(COUNT).i32Const(2).i32Shl().i32Add().localSet(END);
  b.loop();
  b.localGet(PTR).v128Load(0).localSet(x);
  BODIES[name](b, x, y);
  b.localGet(PTR).localGet(y).v128Store(0);
  b.localGet(PTR).i32Const(16).i32Add().localTee(PTR);
  b.localGet(END).i32LtU().brIf(0);
  b.end();
  b.end();
  return { name, params: [ValType.i32, ValType.i32], results: [], locals: [ValType.i32, ...new Array<ValType>(V128_LOCALS).fill(ValType.v128)], body: b };
}

/**
 * dropoutMask(ptr, count, start, key, threshold, scale): f32 at ptr + 4i = scale where
 * lowbias32((start + i) ^ key) >>> 8 >= threshold, else 0; src/tensor/random.ts's hashUniform
 * and kernels/dropout.wgsl, bit for bit, four lanes at a time. key = hash32(seed).
 */
function dropoutMaskFunction(): FunctionSpec {
  const [ptr, count, start, key, threshold, scale] = [0, 1, 2, 3, 4, 5];
  const [end, index, x, keys, limit, scales] = [6, 7, 8, 9, 10, 11];
  const b = new Body();
  b.block();
  b.localGet(count).i32Eqz().brIf(0);
  b.localGet(ptr).localGet(count).i32Const(2).i32Shl().i32Add().localSet(end);
  b.localGet(key).i32x4Splat().localSet(keys);
  b.localGet(threshold).i32x4Splat().localSet(limit);
  b.localGet(scale).f32x4Splat().localSet(scales);
  // index = start + (0, 1, 2, 3)
  b.localGet(start).i32x4Splat();
  b.simdConst([0, 1, 2, 3]).i32x4Add().localSet(index);
  b.loop();
  b.localGet(index).localGet(keys).v128Xor().localSet(x);
  b.localGet(x).localGet(x).i32Const(16).i32x4ShrU().v128Xor().i32x4Const(0x7feb352d).i32x4Mul().localSet(x);
  b.localGet(x).localGet(x).i32Const(15).i32x4ShrU().v128Xor().i32x4Const(0x846ca68b | 0).i32x4Mul().localSet(x);
  b.localGet(x).localGet(x).i32Const(16).i32x4ShrU().v128Xor().i32Const(8).i32x4ShrU();
  b.localGet(limit).i32x4GeS().localGet(scales).v128And().localSet(x);
  b.localGet(ptr).localGet(x).v128Store(0);
  b.localGet(index).i32x4Const(4).i32x4Add().localSet(index);
  b.localGet(ptr).i32Const(16).i32Add().localTee(ptr);
  b.localGet(end).i32LtU().brIf(0);
  b.end();
  b.end();
  return {
    name: 'dropoutMask',
    params: [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.f32],
    results: [],
    locals: [ValType.i32, ...new Array<ValType>(5).fill(ValType.v128)],
    body: b,
  };
}

/** The binary ops whose f32x4 instruction is the IEEE single-precision result, as a Float32Array store of the JS op rounds it. */
export type VectorBinaryOp = 'add' | 'sub' | 'mul' | 'div';
const BINARY_OPS: VectorBinaryOp[] = ['add', 'sub', 'mul', 'div'];
const emitBinary = (b: Body, op: VectorBinaryOp) => (op === 'add' ? b.f32x4Add() : op === 'sub' ? b.f32x4Sub() : op === 'mul' ? b.f32x4Mul() : b.f32x4Div());

/** `${op}Same`(a, b, count): a[i] = a[i] op b[i] for count f32 (a multiple of 4) at byte offsets a and b. */
function binarySameFunction(op: VectorBinaryOp): FunctionSpec {
  const [a, bPtr, count, end] = [0, 1, 2, 3];
  const b = new Body();
  b.block();
  b.localGet(count).i32Eqz().brIf(0);
  b.localGet(a).localGet(count).i32Const(2).i32Shl().i32Add().localSet(end);
  b.loop();
  b.localGet(a).localGet(a).v128Load(0).localGet(bPtr).v128Load(0);
  emitBinary(b, op).v128Store(0);
  b.localGet(bPtr).i32Const(16).i32Add().localSet(bPtr);
  b.localGet(a).i32Const(16).i32Add().localTee(a);
  b.localGet(end).i32LtU().brIf(0);
  b.end();
  b.end();
  return { name: `${op}Same`, params: [ValType.i32, ValType.i32, ValType.i32], results: [], locals: [ValType.i32], body: b };
}

/**
 * `${op}Rows`(x, row, rows, rowBytes, rowFirst): over `rows` rows of rowBytes (a multiple of 16) at x,
 * x[r, i] = x[r, i] op row[i], or row[i] op x[r, i] when rowFirst: a bias added to every row.
 */
function binaryRowsFunction(op: VectorBinaryOp): FunctionSpec {
  const [x, row, rows, rowBytes, rowFirst, off] = [0, 1, 2, 3, 4, 5];
  const b = new Body();
  b.block();
  b.localGet(rows).i32Eqz().brIf(0);
  b.loop(); // rows
  b.i32Const(0).localSet(off);
  b.loop(); // vectors of the row
  b.localGet(x).localGet(off).i32Add();
  b.localGet(rowFirst).if();
  b.localGet(row).localGet(off).i32Add().v128Load(0).localGet(x).localGet(off).i32Add().v128Load(0);
  emitBinary(b, op).localSet(6);
  b.else();
  b.localGet(x).localGet(off).i32Add().v128Load(0).localGet(row).localGet(off).i32Add().v128Load(0);
  emitBinary(b, op).localSet(6);
  b.end();
  b.localGet(6).v128Store(0);
  b.localGet(off).i32Const(16).i32Add().localTee(off);
  b.localGet(rowBytes).i32LtU().brIf(0);
  b.end();
  b.localGet(x).localGet(rowBytes).i32Add().localSet(x);
  b.localGet(rows).i32Const(1).i32Sub().localTee(rows);
  b.i32Eqz().i32Eqz().brIf(0);
  b.end();
  b.end();
  return { name: `${op}Rows`, params: new Array<ValType>(5).fill(ValType.i32), results: [], locals: [ValType.i32, ValType.v128], body: b };
}

/** out = sigmoid(local x) = 1 / (1 + exp(-x)); uses locals t..t+4. */
function sigmoid(b: Body, x: number, out: number, t: number): void {
  b.localGet(x).f32x4Neg().localSet(t);
  exp(b, t, t + 1, t + 2);
  b.f32x4Const(1).f32x4Const(1).localGet(t + 1).f32x4Add().f32x4Div().localSet(out);
}

/**
 * lstmCell(gates, cPrev, c, h, rows, hBytes): one LSTM step for `rows` rows, all pointers in bytes,
 * hBytes = 4H with H a multiple of 4. Row r's pre-activations (i, f, g, o; H each) at
 * gates + r*4*hBytes become the activations in place (sigmoid, sigmoid, tanh, sigmoid), then
 * c = f*cPrev + i*g and h = o*tanh(c), rows of H floats at c and h: the sigmoids, tanhs and the
 * two pointwise lines of the cell in one pass, as lstm.ts's JS fallback computes them.
 */
function lstmCellFunction(): FunctionSpec {
  const [gates, cPrev, cOut, hOut, rows, hBytes] = [0, 1, 2, 3, 4, 5];
  const [off, addr] = [6, 7];
  const [x, i, f, g, o, c, t] = [8, 9, 10, 11, 12, 13, 14];
  const b = new Body();
  const gate = (k: number, out: number, fn: 'sigmoid' | 'tanh') => {
    // addr = gates + off + k*hBytes
    b.localGet(gates).localGet(off).i32Add();
    for (let q = 0; q < k; q++) b.localGet(hBytes).i32Add();
    b.localTee(addr).v128Load(0).localSet(x);
    if (fn === 'sigmoid') sigmoid(b, x, out, t);
    else tanh(b, x, out, t);
    b.localGet(addr).localGet(out).v128Store(0);
  };
  b.block();
  b.localGet(rows).i32Eqz().brIf(0);
  b.loop(); // rows
  b.i32Const(0).localSet(off);
  b.loop(); // vectors of the row
  gate(0, i, 'sigmoid');
  gate(1, f, 'sigmoid');
  gate(2, g, 'tanh');
  gate(3, o, 'sigmoid');
  b.localGet(f).localGet(cPrev).localGet(off).i32Add().v128Load(0).f32x4Mul().localGet(i).localGet(g).f32x4Mul().f32x4Add().localSet(c);
  b.localGet(cOut).localGet(off).i32Add().localGet(c).v128Store(0);
  tanh(b, c, x, t);
  b.localGet(hOut).localGet(off).i32Add().localGet(o).localGet(x).f32x4Mul().v128Store(0);
  b.localGet(off).i32Const(16).i32Add().localTee(off);
  b.localGet(hBytes).i32LtU().brIf(0);
  b.end();
  b.localGet(gates).localGet(hBytes).i32Const(2).i32Shl().i32Add().localSet(gates);
  for (const ptr of [cPrev, cOut, hOut]) b.localGet(ptr).localGet(hBytes).i32Add().localSet(ptr);
  b.localGet(rows).i32Const(1).i32Sub().localTee(rows);
  b.i32Eqz().i32Eqz().brIf(0);
  b.end();
  b.end();
  return { name: 'lstmCell', params: new Array<ValType>(6).fill(ValType.i32), results: [], locals: [ValType.i32, ValType.i32, ...new Array<ValType>(14).fill(ValType.v128)], body: b };
}

/**
 * lstmCellBackward(act, c, cPrev, dh, dhCarry, dcCarry, rows, hBytes): one step of backpropagation
 * through time for `rows` rows (pointers in bytes, hBytes = 4H, H a multiple of 4), as lstm.ts's
 * JS loop: dhT = dh + dhCarry, tc = tanh(c), dcT = dcCarry + dhT o (1 - tc^2); the gate gradients
 * (i: dcT g i(1-i), f: dcT cPrev f(1-f), g: dcT i (1-g^2), o: dhT tc o(1-o)) replace the
 * activations in place, and dcCarry becomes dcT f.
 */
function lstmCellBackwardFunction(): FunctionSpec {
  const [act, cNow, cPrev, dh, dhCarry, dcCarry, rows, hBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [off, a0] = [8, 9];
  const [i, f, g, o, tc, dhT, dcT, x, t] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const b = new Body();
  const at = (ptr: number) => b.localGet(ptr).localGet(off).i32Add();
  const gateAddress = (k: number) => {
    b.localGet(a0);
    for (let q = 0; q < k; q++) b.localGet(hBytes).i32Add();
  };
  const one = () => b.f32x4Const(1);
  b.block();
  b.localGet(rows).i32Eqz().brIf(0);
  b.loop(); // rows
  b.i32Const(0).localSet(off);
  b.loop(); // vectors of the row
  b.localGet(act).localGet(off).i32Add().localSet(a0);
  [i, f, g, o].forEach((local, k) => {
    gateAddress(k);
    b.v128Load(0).localSet(local);
  });
  at(cNow).v128Load(0).localSet(x);
  tanh(b, x, tc, t);
  at(dh).v128Load(0);
  at(dhCarry).v128Load(0);
  b.f32x4Add().localSet(dhT);
  // dcT = dcCarry + dhT * o * (1 - tc^2)
  at(dcCarry).v128Load(0);
  b.localGet(dhT).localGet(o).f32x4Mul();
  one();
  b.localGet(tc).localGet(tc).f32x4Mul().f32x4Sub().f32x4Mul().f32x4Add().localSet(dcT);
  // i: dcT * g * i * (1 - i)
  gateAddress(0);
  b.localGet(dcT).localGet(g).f32x4Mul().localGet(i).f32x4Mul();
  one();
  b.localGet(i).f32x4Sub().f32x4Mul().v128Store(0);
  // f: dcT * cPrev * f * (1 - f)
  gateAddress(1);
  b.localGet(dcT);
  at(cPrev).v128Load(0);
  b.f32x4Mul().localGet(f).f32x4Mul();
  one();
  b.localGet(f).f32x4Sub().f32x4Mul().v128Store(0);
  // g: dcT * i * (1 - g^2)
  gateAddress(2);
  b.localGet(dcT).localGet(i).f32x4Mul();
  one();
  b.localGet(g).localGet(g).f32x4Mul().f32x4Sub().f32x4Mul().v128Store(0);
  // o: dhT * tc * o * (1 - o)
  gateAddress(3);
  b.localGet(dhT).localGet(tc).f32x4Mul().localGet(o).f32x4Mul();
  one();
  b.localGet(o).f32x4Sub().f32x4Mul().v128Store(0);
  // dcCarry = dcT * f
  at(dcCarry);
  b.localGet(dcT).localGet(f).f32x4Mul().v128Store(0);
  b.localGet(off).i32Const(16).i32Add().localTee(off);
  b.localGet(hBytes).i32LtU().brIf(0);
  b.end();
  b.localGet(act).localGet(hBytes).i32Const(2).i32Shl().i32Add().localSet(act);
  for (const ptr of [cNow, cPrev, dh, dhCarry, dcCarry]) b.localGet(ptr).localGet(hBytes).i32Add().localSet(ptr);
  b.localGet(rows).i32Const(1).i32Sub().localTee(rows);
  b.i32Eqz().i32Eqz().brIf(0);
  b.end();
  b.end();
  return { name: 'lstmCellBackward', params: new Array<ValType>(8).fill(ValType.i32), results: [], locals: [ValType.i32, ValType.i32, ...new Array<ValType>(16).fill(ValType.v128)], body: b };
}

const PAGE_BYTES = 65536;
/** Floats per call: inputs are streamed through the module's memory in chunks of this many (256 KiB). */
const CHUNK = 65536;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}

/** The compiled functions and their own memory (one chunk; it never grows). */
export class VectorMath {
  private readonly functions: Record<VectorFunction, (ptr: number, count: number) => void>;
  private readonly mask: (ptr: number, count: number, start: number, key: number, threshold: number, scale: number) => void;
  private readonly cell: (gates: number, cPrev: number, c: number, h: number, rows: number, hBytes: number) => void;
  private readonly cellBackward: (act: number, c: number, cPrev: number, dh: number, dhCarry: number, dcCarry: number, rows: number, hBytes: number) => void;
  private readonly same: Record<VectorBinaryOp, (a: number, b: number, count: number) => void>;
  private readonly rows: Record<VectorBinaryOp, (x: number, row: number, rows: number, rowBytes: number, rowFirst: number) => void>;
  private readonly f32: Float32Array;
  readonly capacity = CHUNK;

  constructor() {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly!;
    const pages = Math.ceil((CHUNK * 4) / PAGE_BYTES);
    const memory = new api.Memory({ initial: pages, maximum: pages });
    const module = new api.Module(emitModule({ module: 'env', name: 'memory', initial: pages, maximum: pages, shared: false }, [...FUNCTIONS.map(vectorFunction), dropoutMaskFunction(), lstmCellFunction(), lstmCellBackwardFunction(), ...BINARY_OPS.map(binarySameFunction), ...BINARY_OPS.map(binaryRowsFunction)]));
    const exports = new api.Instance(module, { env: { memory } }).exports;
    this.functions = Object.fromEntries(FUNCTIONS.map((name) => [name, exports[name]])) as VectorMath['functions'];
    this.mask = exports.dropoutMask as VectorMath['mask'];
    this.cell = exports.lstmCell as VectorMath['cell'];
    this.cellBackward = exports.lstmCellBackward as VectorMath['cellBackward'];
    this.same = Object.fromEntries(BINARY_OPS.map((op) => [op, exports[`${op}Same`]])) as VectorMath['same'];
    this.rows = Object.fromEntries(BINARY_OPS.map((op) => [op, exports[`${op}Rows`]])) as VectorMath['rows'];
    this.f32 = new Float32Array(memory.buffer);
  }

  /** y[yOffset + i] = f(x[xOffset + i]) for i < count, through the memory in chunks; y may be x. */
  apply(name: VectorFunction, x: Float32Array, y: Float32Array, count = x.length, xOffset = 0, yOffset = 0): void {
    for (let done = 0; done < count; done += CHUNK) {
      const n = Math.min(CHUNK, count - done);
      this.f32.set(x.subarray(xOffset + done, xOffset + done + n));
      // Whole vectors: the lanes past n read stale memory and are never copied out.
      this.functions[name](0, Math.ceil(n / 4) * 4);
      y.set(this.f32.subarray(0, n), yOffset + done);
    }
  }

  /** y[i] = a[i] op b[i] for i < n, through the memory in chunks (y may be a or b). */
  binarySame(op: VectorBinaryOp, a: Float32Array, b: Float32Array, y: Float32Array, n: number): void {
    const half = CHUNK / 2;
    for (let done = 0; done < n; done += half) {
      const m = Math.min(half, n - done);
      this.f32.set(a.subarray(done, done + m), 0);
      this.f32.set(b.subarray(done, done + m), half);
      // Whole vectors: the lanes past m compute on stale memory and are never copied out.
      this.same[op](0, half * 4, Math.ceil(m / 4) * 4);
      y.set(this.f32.subarray(0, m), done);
    }
  }

  /**
   * y[r, i] = full[r, i] op row[i] (row[i] op full[r, i] when rowFirst) over rows x inner, inner a
   * multiple of 4 and at most half a chunk: the row sits at the start of the memory, the rows stream after it.
   */
  binaryRows(op: VectorBinaryOp, full: Float32Array, row: Float32Array, y: Float32Array, rows: number, inner: number, rowFirst: boolean): void {
    if (inner % 4 !== 0 || inner > CHUNK / 2) throw new Error(`VectorMath.binaryRows: rows of ${inner} floats; a multiple of 4 up to ${CHUNK / 2} is needed`);
    this.f32.set(row.subarray(0, inner), 0);
    const perChunk = Math.floor((CHUNK - inner) / inner);
    for (let done = 0; done < rows; done += perChunk) {
      const r = Math.min(perChunk, rows - done);
      this.f32.set(full.subarray(done * inner, (done + r) * inner), inner);
      this.rows[op](inner * 4, 0, r, inner * 4, rowFirst ? 1 : 0);
      y.set(this.f32.subarray(inner, inner + r * inner), done * inner);
    }
  }

  /**
   * One LSTM step over `rows` rows (H a multiple of 4): pre-activations gates[gOff..] [rows, 4H]
   * and the previous cell state cPrev[cPrevOff..] [rows, H] (null: zeros) -> the activations into
   * act[actOff..], c[cOff..] and h[cOff..] ([rows, H] each). Rows go through the memory in chunks.
   */
  lstmCell(gates: Float32Array, gOff: number, act: Float32Array, actOff: number, cPrev: Float32Array | null, cPrevOff: number, c: Float32Array, h: Float32Array, cOff: number, rows: number, H: number): void {
    const G = 4 * H;
    const perChunk = Math.max(1, Math.floor(CHUNK / (G + 3 * H)));
    for (let done = 0; done < rows; done += perChunk) {
      const n = Math.min(perChunk, rows - done);
      const [gAt, pAt, cAt, hAt] = [0, n * G, n * G + n * H, n * G + 2 * n * H];
      this.f32.set(gates.subarray(gOff + done * G, gOff + (done + n) * G), gAt);
      if (cPrev) this.f32.set(cPrev.subarray(cPrevOff + done * H, cPrevOff + (done + n) * H), pAt);
      else this.f32.fill(0, pAt, pAt + n * H);
      this.cell(gAt * 4, pAt * 4, cAt * 4, hAt * 4, n, H * 4);
      act.set(this.f32.subarray(gAt, gAt + n * G), actOff + done * G);
      c.set(this.f32.subarray(cAt, cAt + n * H), cOff + done * H);
      h.set(this.f32.subarray(hAt, hAt + n * H), cOff + done * H);
    }
  }

  /**
   * One step of LSTM backpropagation through time over `rows` rows (H a multiple of 4): activations
   * act[actOff..] [rows, 4H], cell states c[cOff..] and cPrev[cPrevOff..] (null: zeros), dh[cOff..],
   * and the carries dhCarry[0..], dcCarry[0..] ([rows, H], zero where nothing is carried) -> the gate
   * gradients into dx[actOff..] and dcCarry[0..] = the cell gradient for the previous step.
   */
  lstmCellBackward(act: Float32Array, c: Float32Array, cPrev: Float32Array | null, cPrevOff: number, dh: Float32Array, dhCarry: Float32Array, dcCarry: Float32Array, dx: Float32Array, actOff: number, cOff: number, rows: number, H: number): void {
    const G = 4 * H;
    const perChunk = Math.max(1, Math.floor(CHUNK / (G + 5 * H)));
    for (let done = 0; done < rows; done += perChunk) {
      const n = Math.min(perChunk, rows - done);
      const at = [0, n * G, n * G + n * H, n * G + 2 * n * H, n * G + 3 * n * H, n * G + 4 * n * H]; // act, c, cPrev, dh, dhCarry, dcCarry
      const [r0, r1] = [done * H, (done + n) * H];
      this.f32.set(act.subarray(actOff + done * G, actOff + (done + n) * G), at[0]);
      this.f32.set(c.subarray(cOff + r0, cOff + r1), at[1]);
      if (cPrev) this.f32.set(cPrev.subarray(cPrevOff + r0, cPrevOff + r1), at[2]);
      else this.f32.fill(0, at[2]!, at[2]! + n * H);
      this.f32.set(dh.subarray(cOff + r0, cOff + r1), at[3]);
      this.f32.set(dhCarry.subarray(r0, r1), at[4]);
      this.f32.set(dcCarry.subarray(r0, r1), at[5]);
      this.cellBackward(at[0]! * 4, at[1]! * 4, at[2]! * 4, at[3]! * 4, at[4]! * 4, at[5]! * 4, n, H * 4);
      dx.set(this.f32.subarray(at[0]!, at[0]! + n * G), actOff + done * G);
      dcCarry.set(this.f32.subarray(at[5]!, at[5]! + n * H), r0);
    }
  }

  /** The inverted-dropout mask (0 or 1/(1-p)) into y, bit for bit as fused.ts's dropoutMask. */
  dropoutMask(y: Float32Array, p: number, seed: number): void {
    const key = hash32(seed >>> 0) | 0;
    const threshold = Math.ceil(p * 16777216);
    const scale = 1 / (1 - p);
    for (let done = 0; done < y.length; done += CHUNK) {
      const n = Math.min(CHUNK, y.length - done);
      this.mask(0, Math.ceil(n / 4) * 4, done, key, threshold, scale);
      y.set(this.f32.subarray(0, n), done);
    }
  }
}

let shared: VectorMath | null | undefined;

/** The process's instance, or null where WebAssembly SIMD is missing (callers fall back to Math). */
export function vectorMath(): VectorMath | null {
  if (shared === undefined) shared = wasmSimdSupported() && platform.env('MEDNER_CPU_KERNEL') !== 'js' ? new VectorMath() : null;
  return shared;
}
