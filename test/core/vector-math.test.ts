// The WebAssembly SIMD sigmoid, tanh, GELU, GELU' and dropout mask (src/backend/cpu/wasm/vector-math.ts)
// against the scalar references (the rows of src/ops/tables/unary.ts, hashUniform), at fixed edge cases
// (0, tiny, the tanh branch point, overflow, infinities, NaN) and over random floats.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VectorMath, type VectorFunction } from '../../src/backend/cpu/wasm/vector-math.js';
import { UNARY } from '../../src/ops/tables/index.js';
import { hashUniform } from '../../src/tensor/random.js';

const NAMES: VectorFunction[] = ['sigmoid', 'tanh', 'gelu', 'geluGrad'];
const EDGES = [0, -0, 1e-30, 1e-8, -1e-8, 1e-4, 0.3, 0.6249, 0.625, 0.6251, -0.7, 1, -1, 2.5, 5, -5, 10, -20, 44, 50, -87, -87.5, -100, 88, 89, 100, 1e30, -1e30, Infinity, -Infinity, NaN];

function check(vm: VectorMath, name: VectorFunction, values: number[]): void {
  const x = Float32Array.from(values);
  const y = new Float32Array(x.length);
  vm.apply(name, x, y);
  x.forEach((v, i) => {
    const expected = UNARY[name].cpu(v);
    if (Number.isNaN(expected)) return void expect(y[i], `${name}(${v})`).toBeNaN();
    if (!Number.isFinite(expected)) return void expect(y[i], `${name}(${v})`).toBe(expected);
    expect(Math.abs(y[i]! - expected), `${name}(${v}) = ${y[i]}, expected ${expected}`).toBeLessThanOrEqual(3e-7 + 1e-6 * Math.abs(expected));
  });
}

describe('wasm vector math', () => {
  const vm = new VectorMath();
  for (const name of NAMES) {
    it(`${name} matches Math at the edges and on random floats`, () => {
      check(vm, name, EDGES);
      fc.assert(fc.property(fc.array(fc.float({ min: -120, max: 120, noNaN: true }), { minLength: 1, maxLength: 67 }), (values) => check(vm, name, values)), { numRuns: 200 });
    });
  }

  it('lstmCell: one LSTM step (activations, c, h) as the scalar formulas, past one chunk, with and without a previous state', () => {
    const [sigmoid, tanh] = [UNARY.sigmoid.cpu, UNARY.tanh.cpu];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 130 }), fc.constantFrom(4, 8, 100), fc.boolean(), fc.integer(), (rows, H, fromZero, seed) => {
        let state = seed >>> 0;
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 8 - 4;
        const G = 4 * H;
        const gates = Float32Array.from({ length: rows * G + 3 }, random); // 3 floats of offset
        const cPrev = Float32Array.from({ length: rows * H + 1 }, random);
        const act = new Float32Array(rows * G + 2);
        const c = new Float32Array(rows * H + 5);
        const h = new Float32Array(rows * H + 5);
        vm.lstmCell(gates, 3, act, 2, fromZero ? null : cPrev, 1, c, h, 5, rows, H);
        let worst = { error: 0, what: '' };
        const close = (got: number, want: number, what: string) => {
          const error = Number.isNaN(got) ? Infinity : Math.abs(got - want);
          if (error > worst.error) worst = { error, what: `${what}: ${got} vs ${want}` };
        };
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < H; j++) {
            const pre = (k: number) => gates[3 + r * G + k * H + j]!;
            const [i, f, g, o] = [sigmoid(pre(0)), sigmoid(pre(1)), tanh(pre(2)), sigmoid(pre(3))];
            [i, f, g, o].forEach((v, k) => close(act[2 + r * G + k * H + j]!, v, `act row ${r} gate ${k}`));
            const cell = f * (fromZero ? 0 : cPrev[1 + r * H + j]!) + i * g;
            close(c[5 + r * H + j]!, cell, `c row ${r}`);
            close(h[5 + r * H + j]!, o * tanh(cell), `h row ${r}`);
          }
        }
        expect(worst.error, worst.what).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 30 },
    );
  });

  it('lstmCellBackward: one step of backpropagation through time as the scalar formulas, past one chunk', () => {
    const tanh = UNARY.tanh.cpu;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.constantFrom(4, 8, 100), fc.boolean(), fc.integer(), (rows, H, fromZero, seed) => {
        let state = seed >>> 0;
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
        const G = 4 * H;
        const act = Float32Array.from({ length: 2 + rows * G }, () => (random() + 1) / 2); // activations in (0, 1)
        const c = Float32Array.from({ length: 3 + rows * H }, random);
        const cPrev = Float32Array.from({ length: 1 + rows * H }, random);
        const dh = Float32Array.from({ length: 3 + rows * H }, random);
        const dhCarry = Float32Array.from({ length: rows * H }, random);
        const dcCarry = Float32Array.from({ length: rows * H }, random);
        const dcIn = dcCarry.slice();
        const dx = new Float32Array(2 + rows * G);
        vm.lstmCellBackward(act, c, fromZero ? null : cPrev, 1, dh, dhCarry, dcCarry, dx, 2, 3, rows, H);
        let worst = { error: 0, what: '' };
        const close = (got: number, want: number, what: string) => {
          const error = Number.isNaN(got) ? Infinity : Math.abs(got - want);
          if (error > worst.error) worst = { error, what: `${what}: ${got} vs ${want}` };
        };
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < H; j++) {
            const [i, f, g, o] = [0, 1, 2, 3].map((k) => act[2 + r * G + k * H + j]!) as [number, number, number, number];
            const k = r * H + j;
            const tc = tanh(c[3 + k]!);
            const dhT = dh[3 + k]! + dhCarry[k]!;
            const dcT = dcIn[k]! + dhT * o * (1 - tc * tc);
            const prev = fromZero ? 0 : cPrev[1 + k]!;
            [dcT * g * i * (1 - i), dcT * prev * f * (1 - f), dcT * i * (1 - g * g), dhT * tc * o * (1 - o)].forEach((want, q) => close(dx[2 + r * G + q * H + j]!, want, `dx row ${r} gate ${q}`));
            close(dcCarry[k]!, dcT * f, `dcCarry row ${r}`);
          }
        }
        expect(worst.error, worst.what).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 30 },
    );
  });

  it('dropout mask: bit for bit the scalar hashUniform mask, past one chunk and at any seed and p', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.double({ min: 0, max: 0.95, noNaN: true }), fc.integer({ min: 1, max: 300 }), (seed, p, size) => {
        const y = new Float32Array(size);
        vm.dropoutMask(y, p, seed);
        y.forEach((v, i) => expect(v).toBe(hashUniform(seed, i) >= p ? Math.fround(1 / (1 - p)) : 0));
      }),
      { numRuns: 100 },
    );
    const long = new Float32Array(vm.capacity + 7);
    vm.dropoutMask(long, 0.3, 99);
    for (const i of [0, vm.capacity - 1, vm.capacity, vm.capacity + 6]) expect(long[i]).toBe(hashUniform(99, i) >= 0.3 ? Math.fround(1 / 0.7) : 0);
  });

  it('binarySame and binaryRows (add, sub, mul, div): bit for bit the rounded JS op, specials included, past one chunk', () => {
    const ops = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, div: (a: number, b: number) => a / b };
    const specials = [0, -0, 1, -1, 1e-45, -1e-45, 1e-38, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 0.1, 1 / 3];
    const same = (x: number, y: number) => (Number.isNaN(y) ? Number.isNaN(x) : Object.is(x, y));
    const floats = fc.float({ noDefaultInfinity: false });
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      fc.assert(
        fc.property(fc.array(floats, { minLength: 1, maxLength: 70 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (values, rows, quads, rowFirst) => {
          const a = Float32Array.from(values.concat(specials));
          const b = Float32Array.from(a, (_, i) => a[(i * 7 + 3) % a.length]!);
          const y = new Float32Array(a.length);
          vm.binarySame(op, a, b, y, a.length);
          y.forEach((v, i) => expect(same(v, Math.fround(ops[op](a[i]!, b[i]!))), `${a[i]} ${op} ${b[i]}: ${v}`).toBe(true));
          const inner = 4 * quads;
          const full = Float32Array.from({ length: rows * inner }, (_, i) => a[i % a.length]!);
          const row = Float32Array.from({ length: inner }, (_, i) => b[(i * 5 + 1) % b.length]!);
          const out = new Float32Array(rows * inner);
          vm.binaryRows(op, full, row, out, rows, inner, rowFirst);
          out.forEach((v, i) => {
            const [p, q] = rowFirst ? [row[i % inner]!, full[i]!] : [full[i]!, row[i % inner]!];
            expect(same(v, Math.fround(ops[op](p, q))), `${p} ${op} ${q}: ${v}`).toBe(true);
          });
        }),
        { numRuns: 60 },
      );
    }
    // Longer than one chunk of the module's memory: both wrappers stream.
    const n = vm.capacity + 13;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i) + 2);
    const y = new Float32Array(n);
    vm.binarySame('div', a, b, y, n);
    for (const i of [0, vm.capacity / 2, vm.capacity, n - 1]) expect(y[i]).toBe(Math.fround(a[i]! / b[i]!));
    const rows = Math.ceil(n / 400);
    vm.binaryRows('add', a.subarray(0, rows * 400 - 400), b.subarray(0, 400), y, rows - 1, 400, false);
    for (const i of [0, 399, 400, (rows - 1) * 400 - 1]) expect(y[i]).toBe(Math.fround(a[i]! + b[i % 400]!));
  });

  it('streams inputs longer than its memory in chunks, into an offset output', () => {
    const count = vm.capacity * 2 + 5;
    const x = Float32Array.from({ length: count + 3 }, (_, i) => Math.sin(i) * 4);
    const y = new Float32Array(count + 7);
    vm.apply('tanh', x, y, count, 3, 7);
    for (const i of [0, vm.capacity - 1, vm.capacity, 2 * vm.capacity + 4]) expect(y[7 + i]).toBeCloseTo(Math.tanh(x[3 + i]!), 6);
    expect(y.slice(0, 7).every((v) => v === 0)).toBe(true);
  });
});
