// int8 inference kernels (issue 15, item 3): the WebAssembly SIMD int8 GEMM and the activations'
// quantization against the scalar JS reference (bit for bit) and a float64 reference computed from
// the same int8 codes; odd shapes that leave partial 4x8 blocks and k not a multiple of 4, the
// extreme codes -128 and 127, all-zero rows; per-channel quantization's error bound; the int8
// Linear and LSTM against their float layers; the dequantized fallback of a backend without int8
// kernels; and that int8 layers refuse to record gradients.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, QuantizedMatrix } from '../../src/backend/backend.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { linearInt8 as cpuLinearInt8, quantizeActivations, quantizeRow } from '../../src/backend/cpu/quantized.js';
import { Int8Gemm, int8GemmSupported, emitInt8GemmModule } from '../../src/backend/cpu/wasm/gemm-int8.js';
import { dequantize, linearInt8, lstmRecurrenceInt8, quantizePerChannel } from '../../src/ops/quantized.js';
import { lstmRecurrence, matmul } from '../../src/ops/index.js';
import { tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { Rng, manualSeed } from '../../src/tensor/random.js';
import { Linear } from '../../src/nn/linear.js';
import { BiLSTM } from '../../src/nn/lstm.js';
import { quantizeDynamic } from '../../src/nn/quantize.js';

setBackend(cpuBackend);
const haveSimd = int8GemmSupported();

/** Exact integer sums of the int8 codes, dequantized in float64: what the kernels approximate to f32 rounding. */
function reference(qa: Int8Array, aScales: Float32Array, m: number, w: QuantizedMatrix, bias: Float32Array | null): Float64Array {
  const { rows: n, cols: k } = w;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++) sum += qa[i * k + kk]! * w.values[o * k + kk]!;
      out[i * n + o] = sum * aScales[i]! * w.scales[o]! + (bias?.[o] ?? 0);
    }
  }
  return out;
}

/** The JS reference's quantization of every row (what the wasm kernel must reproduce bit for bit). */
function quantizeRowsJs(x: Float32Array, m: number, k: number): { values: Int8Array; scales: Float32Array } {
  const values = new Int8Array(m * k);
  const scales = new Float32Array(m);
  for (let i = 0; i < m; i++) scales[i] = quantizeRow(x, i * k, k, values, i * k);
  return { values, scales };
}

interface Case { m: number; k: number; n: number; x: Float32Array; w: QuantizedMatrix; bias: Float32Array | null }

/** Shapes around the 4x8 block and the 4-wide k step; weights over the whole int8 range (-128 included); some rows all zero, some with one huge value. */
const caseArb: fc.Arbitrary<Case> = fc
  .record({ m: fc.integer({ min: 1, max: 13 }), k: fc.integer({ min: 1, max: 70 }), n: fc.integer({ min: 1, max: 27 }), seed: fc.integer(), withBias: fc.boolean(), zeroRow: fc.integer({ min: -1, max: 12 }) })
  .map(({ m, k, n, seed, withBias, zeroRow }) => {
    const rng = new Rng(seed);
    const x = Float32Array.from({ length: m * k }, () => rng.normal() * 3);
    if (zeroRow >= 0 && zeroRow < m) x.fill(0, zeroRow * k, (zeroRow + 1) * k);
    const values = Int8Array.from({ length: n * k }, () => Math.floor(rng.next() * 256) - 128);
    values[0] = -128;
    values[values.length - 1] = 127;
    const scales = Float32Array.from({ length: n }, (_, o) => (o === 1 ? 0 : 0.001 + rng.next() * 0.05));
    const bias = withBias ? Float32Array.from({ length: n }, () => rng.normal()) : null;
    return { m, k, n, x, w: { rows: n, cols: k, values, scales }, bias };
  });

function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, relative: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(want[i]!));
    if (!(Math.abs(got[i]! - want[i]!) <= tolerance)) expect.fail(`element ${i}: ${got[i]} vs ${want[i]} (tolerance ${tolerance})`);
  }
}

describe.skipIf(!haveSimd)('WebAssembly SIMD int8 GEMM', () => {
  it('the module validates and uses i32x4.dot_i16x8_s', () => {
    const bytes = emitInt8GemmModule();
    expect(int8GemmSupported()).toBe(true); // validates these bytes
    const text = Array.from(bytes).join(',');
    expect(text).toContain('253,186,1'); // 0xfd 0xba 0x01
  });

  it('quantizes activations exactly as the JS reference (scales and codes, zero rows included)', () => {
    const gemm = new Int8Gemm();
    fc.assert(
      fc.property(caseArb, ({ m, k, x }) => {
        const wasm = gemm.quantizeActivations(x, m, k);
        const js = quantizeRowsJs(x, m, k);
        expect(Array.from(wasm.scales)).toEqual(Array.from(js.scales));
        expect(Array.from(wasm.values)).toEqual(Array.from(js.values));
        for (const v of wasm.values) expect(Math.abs(v)).toBeLessThanOrEqual(127);
      }),
      { numRuns: 60 },
    );
  });

  it('matches the exact integer reference, and the JS kernel, on odd shapes with -128/127 codes and zero rows', () => {
    const gemm = new Int8Gemm();
    fc.assert(
      fc.property(caseArb, ({ m, k, n, x, w, bias }) => {
        const out = new Float32Array(m * n);
        gemm.linear(x, 0, m, w, bias, out, 0);
        const { values, scales } = quantizeRowsJs(x, m, k);
        closeTo(out, reference(values, scales, m, w, bias), 2e-6);
        // The scalar reference does the same f32 operations in the same order: equal to the bit.
        const js = new Float32Array(m * n);
        linearJs(x, m, w, bias, js);
        expect(Array.from(out)).toEqual(Array.from(js));
      }),
      { numRuns: 60 },
    );
  });

  it('adds an addend (the LSTM step) and writes at offsets; a zero row gives the bias', () => {
    const gemm = new Int8Gemm();
    const m = 6, k = 9, n = 10;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 2 + m * k }, () => rng.normal());
    x.fill(0, 2 + 3 * k, 2 + 4 * k); // row 3 all zero
    const w = quantizePerChannel(Float32Array.from({ length: n * k }, () => rng.normal()), n, k);
    const bias = Float32Array.from({ length: n }, () => rng.normal());
    const addend = Float32Array.from({ length: 5 + m * n }, () => rng.normal());
    const out = new Float32Array(7 + m * n).fill(42);
    gemm.linear(x, 2, m, w, bias, out, 7, addend, 5);
    expect(Array.from(out.subarray(0, 7))).toEqual(new Array(7).fill(42));
    const { values, scales } = quantizeRowsJs(x.subarray(2), m, k);
    const want = reference(values, scales, m, w, bias).map((v, i) => v + addend[5 + i]!);
    closeTo(out.subarray(7), want, 2e-6);
    for (let o = 0; o < n; o++) expect(out[7 + 3 * n + o]).toBeCloseTo(bias[o]! + addend[5 + 3 * n + o]!, 6);
  });

  it('keeps many weights resident, reuses released space, and packs a released weight again on its next use', () => {
    const gemm = new Int8Gemm();
    const rng = new Rng(11);
    const weights = Array.from({ length: 6 }, (_, i) => quantizePerChannel(Float32Array.from({ length: (8 + i) * (5 + i) }, () => rng.normal()), 8 + i, 5 + i));
    const run = (w: QuantizedMatrix) => {
      const x = Float32Array.from({ length: 3 * w.cols }, (_, j) => Math.cos(j));
      const out = new Float32Array(3 * w.rows);
      gemm.linear(x, 0, 3, w, null, out, 0);
      return Array.from(out);
    };
    const first = weights.map(run);
    gemm.release(weights[1]!);
    gemm.release(weights[3]!);
    const extra = quantizePerChannel(Float32Array.from({ length: 8 * 5 }, () => rng.normal()), 8, 5);
    run(extra);
    expect(weights.map(run)).toEqual(first);
  });
});

/** The scalar path of src/backend/cpu/quantized.ts, reached as MEDNER_CPU_KERNEL=js reaches it. */
function linearJs(x: Float32Array, m: number, w: QuantizedMatrix, bias: Float32Array | null, out: Float32Array): void {
  const { values, scales } = quantizeRowsJs(x, m, w.cols);
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < w.rows; o++) {
      let sum = 0;
      for (let kk = 0; kk < w.cols; kk++) sum += values[i * w.cols + kk]! * w.values[o * w.cols + kk]!;
      let y = Math.fround(Math.fround(Math.fround(sum) * scales[i]!) * w.scales[o]!);
      y = Math.fround(y + (bias ? bias[o]! : 0)); // always, as the kernel does: -0 + 0 = +0
      out[i * w.rows + o] = y;
    }
  }
}

describe('int8 quantization', () => {
  it('per-channel quantize -> dequantize is within half a step of every weight; a zero row stays zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer(), (rows, cols, seed) => {
        const rng = new Rng(seed);
        const w = Float32Array.from({ length: rows * cols }, () => rng.normal() * (1 + rng.next() * 10));
        w.fill(0, 0, cols); // row 0 all zero
        const q = quantizePerChannel(w, rows, cols);
        const back = dequantize(q);
        expect(q.scales[0]).toBe(0);
        for (let r = 0; r < rows; r++) {
          let absmax = 0;
          for (let c = 0; c < cols; c++) absmax = Math.max(absmax, Math.abs(w[r * cols + c]!));
          expect(q.scales[r]).toBeCloseTo(absmax / 127, 6);
          for (let c = 0; c < cols; c++) {
            expect(Math.abs(q.values[r * cols + c]!)).toBeLessThanOrEqual(127);
            expect(Math.abs(back[r * cols + c]! - w[r * cols + c]!)).toBeLessThanOrEqual(q.scales[r]! / 2 + 1e-6 * absmax);
          }
          if (absmax > 0) expect(Math.max(...Array.from(q.values.subarray(r * cols, (r + 1) * cols), Math.abs))).toBe(127);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a non-finite weight', () => {
    expect(() => quantizePerChannel(Float32Array.of(1, NaN, 2, 3), 2, 2)).toThrow('row 0 holds a non-finite value');
  });

  it('the activations quantization of the kernel in use agrees with the reference', () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 7 * 13 }, () => rng.normal());
    const got = quantizeActivations(x, 7, 13);
    const want = quantizeRowsJs(x, 7, 13);
    expect(Array.from(got.values)).toEqual(Array.from(want.values));
    expect(Array.from(got.scales)).toEqual(Array.from(want.scales));
  });

  it('an int8 product is within the quantization error bound of the float product', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), fc.integer(), (m, k, n, seed) => {
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: m * k }, () => rng.normal());
        const wf = Float32Array.from({ length: n * k }, () => rng.normal());
        const q = quantizePerChannel(wf, n, k);
        const y = new Float32Array(m * n);
        cpuLinearInt8(x, 0, m, q, null, y, 0);
        for (let i = 0; i < m; i++) {
          let xmax = 0;
          for (let kk = 0; kk < k; kk++) xmax = Math.max(xmax, Math.abs(x[i * k + kk]!));
          const sx = xmax / 127;
          for (let o = 0; o < n; o++) {
            let exact = 0, bound = 0;
            for (let kk = 0; kk < k; kk++) {
              exact += x[i * k + kk]! * wf[o * k + kk]!;
              // |x w - x' w'| <= |x| |w - w'| + |w'| |x - x'| with |w - w'| <= sw/2 and |x - x'| <= sx/2
              bound += (Math.abs(x[i * k + kk]!) * q.scales[o]!) / 2 + ((Math.abs(wf[o * k + kk]!) + q.scales[o]! / 2) * sx) / 2;
            }
            expect(Math.abs(y[i * n + o]! - exact)).toBeLessThanOrEqual(bound * 1.0001 + 1e-5);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('int8 layers', () => {
  it('an int8 Linear stays close to the float Linear (relative error ~1%)', async () => {
    manualSeed(1);
    const layer = new Linear(48, 20);
    const x = tensor(Float32Array.from({ length: 5 * 7 * 48 }, (_, i) => Math.sin(i * 0.37)), [5, 7, 48]);
    const float = noGrad(() => layer.forward(x)).dataSync();
    expect(await quantizeDynamic(layer)).toEqual(['weight']);
    const int8 = noGrad(() => layer.forward(x));
    expect(int8.shape).toEqual([5, 7, 20]);
    const got = int8.dataSync();
    let err = 0, norm = 0;
    for (let i = 0; i < got.length; i++) { err += (got[i]! - float[i]!) ** 2; norm += float[i]! ** 2; }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.02);
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['bias']);
    layer.dispose();
  });

  it('an int8 BiLSTM stays close to the float BiLSTM over ragged sequences', async () => {
    manualSeed(2);
    const lstm = new BiLSTM(12, 8);
    lstm.eval();
    const x = tensor(Float32Array.from({ length: 3 * 6 * 12 }, (_, i) => Math.cos(i * 0.11)), [3, 6, 12]);
    const lengths = [6, 2, 4];
    const float = noGrad(() => lstm.forward(x, lengths)).dataSync();
    expect(await quantizeDynamic(lstm)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l0_reverse', 'weight_hh_l0_reverse']);
    const got = noGrad(() => lstm.forward(x, lengths)).dataSync();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - float[i]!)).toBeLessThan(0.03);
    // Padding stays exactly zero, as in the float layer.
    for (let t = 2; t < 6; t++) for (let j = 0; j < 16; j++) expect(got[(1 * 6 + t) * 16 + j]).toBe(0);
    lstm.dispose();
  });

  it('a backend without int8 kernels runs the dequantized weight (the WebGPU path), close to the CPU int8 kernel', () => {
    const plain = Object.create(cpuBackend) as Backend;
    Object.assign(plain, { linearInt8: undefined, lstmForwardInt8: undefined });
    const rng = new Rng(9);
    const w = quantizePerChannel(Float32Array.from({ length: 16 * 8 }, () => rng.normal()), 16, 8);
    const xs = Float32Array.from({ length: 5 * 16 }, () => rng.normal());
    const onCpu = noGrad(() => linearInt8(tensor(xs.slice(0, 3 * 8), [3, 8]), w, null)).dataSync();
    const onPlain = noGrad(() => linearInt8(tensor(xs.slice(0, 3 * 8), [3, 8], { backend: plain }), w, null)).dataSync();
    const dense = noGrad(() => matmul(tensor(xs.slice(0, 3 * 8), [3, 8]), tensor(dequantize(w), [16, 8]), { transB: true })).dataSync();
    expect(Array.from(onPlain)).toEqual(Array.from(dense));
    for (let i = 0; i < onCpu.length; i++) expect(Math.abs(onCpu[i]! - dense[i]!)).toBeLessThan(0.05);
    const hh = quantizePerChannel(Float32Array.from({ length: 16 * 4 }, () => rng.normal() * 0.3), 16, 4);
    const xProj = (backend?: Backend) => tensor(xs.slice(0, 5 * 16), [5, 16], { backend });
    const viaFloat = noGrad(() => lstmRecurrence(xProj(), tensor(dequantize(hh), [16, 4]), [2, 2, 1])).dataSync();
    const viaPlain = noGrad(() => lstmRecurrenceInt8(xProj(plain), hh, [2, 2, 1])).dataSync();
    const viaInt8 = noGrad(() => lstmRecurrenceInt8(xProj(), hh, [2, 2, 1])).dataSync();
    expect(Array.from(viaPlain)).toEqual(Array.from(viaFloat));
    for (let i = 0; i < viaInt8.length; i++) expect(Math.abs(viaInt8[i]! - viaFloat[i]!)).toBeLessThan(0.02);
  });

  it('refuses to record gradients, and names a wrong input shape', async () => {
    const layer = new Linear(4, 3);
    await quantizeDynamic(layer);
    const x = tensor(new Float32Array(8), [2, 4]).setRequiresGrad(true);
    expect(() => layer.forward(x)).toThrow('int8 layers are inference-only');
    expect(() => noGrad(() => layer.forward(tensor(new Float32Array(10), [2, 5])))).toThrow('input [2, 5] must end in 4');
    expect(() => lstmRecurrenceInt8(tensor(new Float32Array(8), [2, 4]), quantizePerChannel(new Float32Array(8), 4, 2), [2])).toThrow('expected xProj [N, 4H]');
  });
});
