// The WebAssembly SIMD matmul kernel against the scalar JS kernel (the
// reference) and a float64 triple loop: odd shapes that leave partial 4x8
// blocks, both transposes, batches with broadcast operands, k longer than one
// cache slice, on one core and split with the worker thread. Also the emitter's
// LEB128 encodings, which every size in the binary goes through.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { MatmulLayout } from '../../src/backend/backend.js';
import { IN_PLACE, PARALLEL_THRESHOLD, defaultKernel, matmul } from '../../src/backend/cpu/matmul.js';
import { sleb128, uleb128 } from '../../src/backend/cpu/wasm/emit.js';
import { emitGemmModule, GEMM_SHAPE, wasmSimdSupported } from '../../src/backend/cpu/wasm/gemm.js';
import { Rng } from '../../src/tensor/random.js';

/** op(A) x op(B) per batch in float64, straight from the layout's definition. */
function reference(a: Float32Array, b: Float32Array, l: MatmulLayout): Float64Array {
  const c = new Float64Array(l.batch * l.m * l.n);
  for (let bi = 0; bi < l.batch; bi++) {
    const ao = bi * l.batchStrideA, bo = bi * l.batchStrideB;
    for (let i = 0; i < l.m; i++) {
      for (let j = 0; j < l.n; j++) {
        let sum = 0;
        for (let kk = 0; kk < l.k; kk++) {
          const av = l.transA ? a[ao + kk * l.m + i]! : a[ao + i * l.k + kk]!;
          const bv = l.transB ? b[bo + j * l.k + kk]! : b[bo + kk * l.n + j]!;
          sum += av * bv;
        }
        c[(bi * l.m + i) * l.n + j] = sum;
      }
    }
  }
  return c;
}

function operands(l: MatmulLayout, seed: number): { a: Float32Array; b: Float32Array } {
  const rng = new Rng(seed);
  const aLen = l.batchStrideA * (l.batch - 1) + l.m * l.k;
  const bLen = l.batchStrideB * (l.batch - 1) + l.k * l.n;
  return { a: Float32Array.from({ length: aLen }, () => rng.normal()), b: Float32Array.from({ length: bLen }, () => rng.normal()) };
}

/** Largest error relative to sqrt(k), the scale of a sum of k products of unit normals. */
function maxError(got: Float32Array, want: ArrayLike<number>, k: number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst / Math.sqrt(Math.max(k, 1));
}

function layout(m: number, k: number, n: number, options: Partial<MatmulLayout> = {}): MatmulLayout {
  return { batch: 1, m, k, n, transA: false, transB: false, batchStrideA: 0, batchStrideB: 0, ...options };
}

const haveSimd = wasmSimdSupported();
const savedThresholds = { ...PARALLEL_THRESHOLD };
const savedInPlace = { ...IN_PLACE };
afterEach(() => {
  Object.assign(PARALLEL_THRESHOLD, savedThresholds);
  Object.assign(IN_PLACE, savedInPlace);
});
/** Read untransposed B and transposed A in place (their edge panels then read past the operand), or pack everything. */
function placeOperands(inPlace: boolean): void {
  IN_PLACE.bMaxRows = inPlace ? Infinity : 0;
  IN_PLACE.aMaxColumns = inPlace ? Infinity : 0;
}

describe('wasm emitter', () => {
  it('LEB128 matches hand-encoded values from the spec', () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb128(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb128(0)).toEqual([0x00]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('LEB128 round-trips', () => {
    const decode = (bytes: number[], signed: boolean) => {
      let value = 0, shift = 0, byte = 0, i = 0;
      do {
        byte = bytes[i++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80);
      if (signed && byte & 0x40) value -= 2 ** shift;
      return { value, used: i };
    };
    fc.assert(fc.property(fc.nat({ max: 2 ** 32 - 1 }), (v) => {
      expect(decode(uleb128(v), false)).toEqual({ value: v, used: uleb128(v).length });
    }));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
      expect(decode(sleb128(v), true).value).toBe(v);
    }));
  });

  it.runIf(haveSimd)('emits modules the engine validates, shared and not, for every block shape', () => {
    const validate = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly.validate;
    for (const shape of [GEMM_SHAPE, { rows: 3, cols: 12 }, { rows: 6, cols: 4 }]) {
      expect(validate(emitGemmModule(shape, false))).toBe(true);
      expect(validate(emitGemmModule(shape, true))).toBe(true);
    }
  });
});

describe.runIf(haveSimd)('wasm matmul kernel', () => {
  it('is the default where WebAssembly SIMD runs, unless MEDNER_CPU_KERNEL says otherwise', () => {
    const before = process.env.MEDNER_CPU_KERNEL;
    try {
      delete process.env.MEDNER_CPU_KERNEL;
      expect(defaultKernel()).toBe('wasm');
      process.env.MEDNER_CPU_KERNEL = 'js';
      expect(defaultKernel()).toBe('js');
      process.env.MEDNER_CPU_KERNEL = 'fortran';
      expect(() => defaultKernel()).toThrow(/MEDNER_CPU_KERNEL must be js or wasm/);
    } finally {
      if (before === undefined) delete process.env.MEDNER_CPU_KERNEL;
      else process.env.MEDNER_CPU_KERNEL = before;
    }
  });

  it('matches the JS kernel and float64 on random odd shapes and transposes, packed or in place, one core', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 27 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.nat(1000),
        (m, k, n, transA, transB, inPlace, seed) => {
          placeOperands(inPlace);
          const l = layout(m, k, n, { transA, transB });
          const { a, b } = operands(l, seed);
          const wasm = matmul(a, b, l, false, 'wasm');
          const js = matmul(a, b, l, false, 'js');
          expect(maxError(wasm, reference(a, b, l), k)).toBeLessThan(1e-5);
          expect(maxError(wasm, js, k)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 150, seed: 8 },
    );
  });

  it('handles batches with broadcast operands (stride 0) and per-batch operands', () => {
    for (const inPlace of [false, true]) {
      placeOperands(inPlace);
      for (const [batchStrideA, batchStrideB] of [[0, 1], [1, 0], [1, 1]] as const) {
        const m = 9, k = 13, n = 17, batch = 3;
        const l: MatmulLayout = { batch, m, k, n, transA: true, transB: false, batchStrideA: batchStrideA * m * k, batchStrideB: batchStrideB * k * n };
        const { a, b } = operands(l, 11);
        expect(maxError(matmul(a, b, l, false, 'wasm'), reference(a, b, l), k)).toBeLessThan(1e-5);
      }
    }
  });

  it('sums k over several cache slices and column groups (k = 600, n = 300)', () => {
    for (const [transA, transB, inPlace] of [[false, false, false], [true, true, false], [false, false, true], [true, false, true]] as const) {
      placeOperands(inPlace);
      const l = layout(6, 600, 300, { transA, transB });
      const { a, b } = operands(l, 5);
      expect(maxError(matmul(a, b, l, false, 'wasm'), reference(a, b, l), l.k)).toBeLessThan(1e-5);
    }
  });

  it('gives the same bits threaded as on one core, for both kernels', () => {
    // Force the worker path at small sizes; each thread runs the same kernel on whole row panels, so results are identical.
    PARALLEL_THRESHOLD.wasm = 0;
    PARALLEL_THRESHOLD.js = 0;
    const shapes: [number, number, number, boolean, boolean, number][] = [
      [37, 29, 45, false, false, 1],
      [64, 300, 33, true, false, 1],
      [21, 18, 50, false, true, 3],
      [8, 7, 5, true, true, 2],
    ];
    for (const [m, k, n, transA, transB, batch] of shapes) {
      const l: MatmulLayout = { batch, m, k, n, transA, transB, batchStrideA: m * k, batchStrideB: 0 };
      const { a, b } = operands(l, m + k + n);
      for (const kernel of ['wasm', 'js'] as const) {
        placeOperands(m % 2 === 1);
        const one = matmul(a, b, l, false, kernel);
        const two = matmul(a, b, l, true, kernel);
        expect(Array.from(two)).toEqual(Array.from(one));
        expect(maxError(two, reference(a, b, l), k)).toBeLessThan(1e-5);
      }
    }
  });

  it('survives thousands of tiny threaded products in a row (the worker often wakes after the main thread is done)', () => {
    // Exercises the withdrawn-job and late-wake paths of parallel.ts. The bug this once had (the main thread
    // reloaded DONE for Atomics.wait and could sleep forever) showed as a hang after ~10^5 products, not a failure.
    PARALLEL_THRESHOLD.wasm = 0;
    PARALLEL_THRESHOLD.js = 0;
    const l = layout(12, 8, 16);
    const { a, b } = operands(l, 4);
    const want = Array.from(matmul(a, b, l, false, 'wasm'));
    for (let i = 0; i < 20000; i++) {
      const got = matmul(a, b, l, true, i % 2 === 0 ? 'wasm' : 'js');
      if (i % 1000 === 0) expect(maxError(got, want, l.k)).toBeLessThan(1e-6);
    }
  });

  it('stays correct when the memory grows between calls and for empty products', () => {
    const small = layout(3, 3, 3);
    const big = layout(130, 257, 190);
    for (const l of [small, big, small]) {
      const { a, b } = operands(l, 2);
      expect(maxError(matmul(a, b, l, false, 'wasm'), reference(a, b, l), l.k)).toBeLessThan(1e-5);
    }
    expect(Array.from(matmul(new Float32Array(0), new Float32Array(6), layout(2, 0, 3), false, 'wasm'))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(new Float32Array(0), new Float32Array(0), layout(0, 4, 0), false, 'wasm').length).toBe(0);
  });
});
