// A tiny WebAssembly binary emitter: just enough of the format (header, type,
// import(memory), function, export and code sections; LEB128; locals, loops,
// branches, i32 arithmetic and the SIMD opcodes we use) for the GEMM kernels in
// gemm.ts and gemm-int8.ts and the vector math of vector-math.ts to be written as TypeScript, with no prebuilt binary and no external
// compiler. Spec: https://webassembly.github.io/spec/core/binary/

/** Value types (spec 5.3.1). */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Core opcodes used by our kernels (spec 5.4). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f32Gt: 0x5e,
  f32Div: 0x95,
  f32Max: 0x97,
} as const;

/** Opcodes after the 0xfd SIMD prefix (spec 5.4.8); no relaxed-simd, so Node 20 runs them without flags. */
export const SimdOp = {
  v128Load: 0x00,
  v128Load8x8S: 0x01,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  i32x4GeS: 0x3f,
  f32x4Lt: 0x43,
  v128And: 0x4e,
  v128AndNot: 0x4f,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  f32x4Nearest: 0x6a,
  i16x8NarrowI32x4S: 0x85,
  i32x4Shl: 0xab,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Mul: 0xb5,
  i32x4DotI16x8S: 0xba,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
} as const;

const SIMD_PREFIX = 0xfd;
/** The block type of a block/loop/if that takes and leaves nothing on the stack. */
const BLOCK_EMPTY = 0x40;
const FUNCTION_TYPE = 0x60;

const SectionId = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
const ExternalKind = { function: 0x00, memory: 0x02 } as const;
/** Memory limit flags: 0x01 = has a maximum, 0x02 = shared (threads proposal, needs a maximum). */
const LIMITS_MAX = 0x01;
const LIMITS_SHARED = 0x02;

// ---- encodings -------------------------------------------------------------

/** Unsigned LEB128: 7 bits a byte, high bit set on all but the last. */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new Error(`uleb128: expected a non-negative integer, got ${value}`);
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Signed LEB128 (i32.const immediates): stop once the remaining bits are all copies of the sign bit. */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value)) throw new Error(`sleb128: expected an integer, got ${value}`);
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const signBitClear = (byte & 0x40) === 0;
    if ((value === 0 && signBitClear) || (value === -1 && !signBitClear)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

function utf8Name(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...uleb128(bytes.length), ...bytes];
}

/** A vector: its length, then the already-encoded items. */
function vector(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

// ---- instruction bodies ----------------------------------------------------

/** log2 of the natural alignment, the first field of a memory immediate. */
const ALIGN_F32 = 2;
const ALIGN_I64 = 3;
const ALIGN_V128 = 4;

/**
 * An instruction sequence, built with one method per instruction so a kernel
 * reads like the text format: `body.localGet(a).v128Load(16)`.
 */
export class Body {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  private simd(op: number, ...immediates: number[]): this {
    return this.op(SIMD_PREFIX, ...uleb128(op), ...immediates);
  }

  block(): this { return this.op(Op.block, BLOCK_EMPTY); }
  loop(): this { return this.op(Op.loop, BLOCK_EMPTY); }
  if(): this { return this.op(Op.if, BLOCK_EMPTY); }
  else(): this { return this.op(Op.else); }
  end(): this { return this.op(Op.end); }
  /** Branch to the enclosing block `depth` levels out (0 = innermost); to a loop, that means continue. */
  br(depth: number): this { return this.op(Op.br, ...uleb128(depth)); }
  brIf(depth: number): this { return this.op(Op.brIf, ...uleb128(depth)); }

  localGet(index: number): this { return this.op(Op.localGet, ...uleb128(index)); }
  localSet(index: number): this { return this.op(Op.localSet, ...uleb128(index)); }
  localTee(index: number): this { return this.op(Op.localTee, ...uleb128(index)); }

  i32Const(value: number): this { return this.op(Op.i32Const, ...sleb128(value)); }
  i32Eqz(): this { return this.op(Op.i32Eqz); }
  i32Ne(): this { return this.op(Op.i32Ne); }
  i32LtU(): this { return this.op(Op.i32LtU); }
  i32Add(): this { return this.op(Op.i32Add); }
  i32Sub(): this { return this.op(Op.i32Sub); }
  i32Mul(): this { return this.op(Op.i32Mul); }
  i32Shl(): this { return this.op(Op.i32Shl); }

  /** Memory immediates are (align, offset): the offset is added to the address on the stack for free. */
  f32Load(offset = 0): this { return this.op(Op.f32Load, ALIGN_F32, ...uleb128(offset)); }
  /** Store the f32 on top of the stack at the address below it (+ offset). */
  f32Store(offset = 0): this { return this.op(Op.f32Store, ALIGN_F32, ...uleb128(offset)); }
  f32Const(value: number): this { return this.op(Op.f32Const, ...f32Bytes(value)); }
  f32Div(): this { return this.op(Op.f32Div); }
  f32Gt(): this { return this.op(Op.f32Gt); }
  f32Max(): this { return this.op(Op.f32Max); }
  /** Eight signed bytes from memory, each sign-extended to an i16 lane (x64: one pmovsxbw). */
  v128Load8x8S(offset = 0): this { return this.simd(SimdOp.v128Load8x8S, ALIGN_I64, ...uleb128(offset)); }
  v128Load(offset = 0): this { return this.simd(SimdOp.v128Load, ALIGN_V128, ...uleb128(offset)); }
  /** One f32 from memory into all four lanes (x64: a single vbroadcastss). */
  v128Load32Splat(offset = 0): this { return this.simd(SimdOp.v128Load32Splat, ALIGN_F32, ...uleb128(offset)); }
  v128Store(offset = 0): this { return this.simd(SimdOp.v128Store, ALIGN_V128, ...uleb128(offset)); }
  /** A v128 with all sixteen bytes zero. */
  v128Zero(): this { return this.simd(SimdOp.v128Const, ...new Array<number>(16).fill(0)); }
  /** A v128 holding `value` in all four f32 lanes. */
  f32x4Const(value: number): this { return this.simd(SimdOp.v128Const, ...new Array<number[]>(4).fill(f32Bytes(value)).flat()); }
  /** A v128 of four i32 lanes. */
  simdConst(lanes: [number, number, number, number]): this { return this.simd(SimdOp.v128Const, ...lanes.flatMap(i32Bytes)); }
  /** A v128 holding `value` in all four i32 lanes. */
  i32x4Const(value: number): this { return this.simd(SimdOp.v128Const, ...new Array<number[]>(4).fill(i32Bytes(value)).flat()); }
  i32x4Splat(): this { return this.simd(SimdOp.i32x4Splat); }
  f32x4Splat(): this { return this.simd(SimdOp.f32x4Splat); }
  f32x4Add(): this { return this.simd(SimdOp.f32x4Add); }
  f32x4Sub(): this { return this.simd(SimdOp.f32x4Sub); }
  f32x4Mul(): this { return this.simd(SimdOp.f32x4Mul); }
  f32x4Div(): this { return this.simd(SimdOp.f32x4Div); }
  f32x4Min(): this { return this.simd(SimdOp.f32x4Min); }
  f32x4Max(): this { return this.simd(SimdOp.f32x4Max); }
  f32x4Abs(): this { return this.simd(SimdOp.f32x4Abs); }
  f32x4Neg(): this { return this.simd(SimdOp.f32x4Neg); }
  f32x4Nearest(): this { return this.simd(SimdOp.f32x4Nearest); }
  /** All ones in the lanes where a < b, else zeros. */
  f32x4Lt(): this { return this.simd(SimdOp.f32x4Lt); }
  i32x4TruncSatF32x4S(): this { return this.simd(SimdOp.i32x4TruncSatF32x4S); }
  i32x4Add(): this { return this.simd(SimdOp.i32x4Add); }
  i32x4Mul(): this { return this.simd(SimdOp.i32x4Mul); }
  /** Multiply the eight i16 lanes pairwise and add adjacent products: four i32 lanes (x64: one pmaddwd). */
  i32x4DotI16x8S(): this { return this.simd(SimdOp.i32x4DotI16x8S); }
  f32x4ConvertI32x4S(): this { return this.simd(SimdOp.f32x4ConvertI32x4S); }
  /** Two i32x4 to one i16x8 (a's lanes first), saturating to [-32768, 32767]. */
  i16x8NarrowI32x4S(): this { return this.simd(SimdOp.i16x8NarrowI32x4S); }
  /** Byte j of the result = byte lanes[j] of a (0..15) or of b (16..31). */
  i8x16Shuffle(lanes: number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new Error(`i8x16.shuffle: 16 lanes in 0..31, got [${lanes.join(', ')}]`);
    return this.simd(SimdOp.i8x16Shuffle, ...lanes);
  }
  f32x4ExtractLane(lane: number): this { return this.simd(SimdOp.f32x4ExtractLane, lane); }
  /** All ones in the lanes where a >= b as signed integers. */
  i32x4GeS(): this { return this.simd(SimdOp.i32x4GeS); }
  /** Shift every i32 lane right, filling with zeros, by an i32 count on the stack. */
  i32x4ShrU(): this { return this.simd(SimdOp.i32x4ShrU); }
  v128Xor(): this { return this.simd(SimdOp.v128Xor); }
  /** Shift every i32 lane left by an i32 count on the stack. */
  i32x4Shl(): this { return this.simd(SimdOp.i32x4Shl); }
  v128And(): this { return this.simd(SimdOp.v128And); }
  /** a & ~b */
  v128AndNot(): this { return this.simd(SimdOp.v128AndNot); }
  v128Or(): this { return this.simd(SimdOp.v128Or); }
  /** (a & mask) | (b & ~mask), with a, b, mask pushed in that order. */
  v128Bitselect(): this { return this.simd(SimdOp.v128Bitselect); }
}

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(Float32Array.of(value).buffer)];
}

function i32Bytes(value: number): number[] {
  return [...new Uint8Array(Int32Array.of(value).buffer)];
}

// ---- the module ------------------------------------------------------------

export interface FunctionSpec {
  /** The export name. */
  name: string;
  params: ValType[];
  results: ValType[];
  /** Locals after the parameters; their indices continue from params.length. */
  locals: ValType[];
  /** The instructions, without the final `end` (added here). */
  body: Body;
}

export interface MemoryImport {
  module: string;
  name: string;
  /** Sizes in 64 KiB pages. */
  initial: number;
  maximum: number;
  /** A shared memory can be imported by instances on several worker threads. */
  shared: boolean;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"
const VERSION = [0x01, 0x00, 0x00, 0x00];

/** One function type per function (the kernels are few; deduplicating would save bytes, not time). */
function typeSection(functions: FunctionSpec[]): number[] {
  const types = functions.map((f) => [FUNCTION_TYPE, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  return section(SectionId.type, vector(types));
}

function importSection(memory: MemoryImport): number[] {
  const flags = LIMITS_MAX | (memory.shared ? LIMITS_SHARED : 0);
  const entry = [...utf8Name(memory.module), ...utf8Name(memory.name), ExternalKind.memory, flags, ...uleb128(memory.initial), ...uleb128(memory.maximum)];
  return section(SectionId.import, vector([entry]));
}

/** Function i has type i. */
function functionSection(functions: FunctionSpec[]): number[] {
  return section(SectionId.function, vector(functions.map((_, i) => uleb128(i))));
}

/** Imported functions would come first in the index space; we import none, so function i is index i. */
function exportSection(functions: FunctionSpec[]): number[] {
  return section(SectionId.export, vector(functions.map((f, i) => [...utf8Name(f.name), ExternalKind.function, ...uleb128(i)])));
}

/** Each body: its byte size, its locals as (count, type) runs, the instructions, `end`. */
function codeSection(functions: FunctionSpec[]): number[] {
  const bodies = functions.map((f) => {
    const runs: number[][] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb128(j - i), f.locals[i]!]);
      i = j;
    }
    const content = [...vector(runs), ...f.body.bytes, Op.end];
    return [...uleb128(content.length), ...content];
  });
  return section(SectionId.code, vector(bodies));
}

/** The binary module: functions exported by name, one imported linear memory. */
export function emitModule(memory: MemoryImport, functions: FunctionSpec[]): Uint8Array {
  return Uint8Array.from([
    ...MAGIC,
    ...VERSION,
    ...typeSection(functions),
    ...importSection(memory),
    ...functionSection(functions),
    ...exportSection(functions),
    ...codeSection(functions),
  ]);
}
