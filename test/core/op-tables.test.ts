// The op tables (src/ops/tables/) are the one place an op is declared: every row must
// reach the ops, the Tensor methods and the WGSL kernels, and the CPU backend's fast
// paths must compute what the readable reference loops (src/backend/cpu/reference.ts) do.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ops, tensor, Tensor } from '../../src/index.js';
import { BINARY, BINARY_OPS, REDUCE_OPS, UNARY, UNARY_OPS } from '../../src/ops/tables/index.js';
import { spliceOpTables } from '../../src/backend/webgpu/op-tables.js';
import * as fast from '../../src/backend/cpu/elementwise.js';
import * as fastReduce from '../../src/backend/cpu/reduce.js';
import * as reference from '../../src/backend/cpu/reference.js';
import { broadcastStrides, contiguousStrides } from '../../src/tensor/shape.js';
import { Rng } from '../../src/tensor/random.js';

const kernel = (file: string) => readFileSync(new URL(`../../kernels/${file}`, import.meta.url), 'utf8');

describe('every table row is an op and a Tensor method', () => {
  it.each([...UNARY_OPS, ...BINARY_OPS])('%s', (op) => {
    expect(typeof (ops as Record<string, unknown>)[op], `ops.${op}`).toBe('function');
    expect(typeof (Tensor.prototype as unknown as Record<string, unknown>)[op], `Tensor.prototype.${op}`).toBe('function');
  });

  it('a method and its op give the same values', () => {
    const x = tensor([0.5, -1.25, 2]);
    const viaOp = ops.unaryOps.tanh(x).dataSync();
    expect(Array.from(x.tanh().dataSync())).toEqual(Array.from(viaOp));
    expect(Array.from(x.maximum(0).dataSync())).toEqual([0.5, 0, 2]);
  });
});

describe('the WGSL of the tables is spliced into the kernels', () => {
  const families = [
    { file: 'unary.wgsl', rows: UNARY_OPS.length, switches: 1 },
    { file: 'binary.wgsl', rows: BINARY_OPS.length, switches: 1 },
    { file: 'reduce.wgsl', rows: REDUCE_OPS.length, switches: 3 },
  ];
  it.each(families)('$file: one case per row, numbered by op code, and a default that is no op', ({ file, rows, switches }) => {
    const source = kernel(file);
    const spliced = spliceOpTables(file, source);
    expect(spliced).not.toMatch(/@op-table/);
    const cases = [...spliced.matchAll(/case (\d+)u: \{ return .*; \} \/\/ (\w+)/g)];
    expect(cases.length).toBe(rows * switches);
    cases.slice(0, rows).forEach((c, i) => expect(Number(c[1])).toBe(i));
    // The only defaults are the NaN "no such op" ones, never a real op.
    for (const d of spliced.matchAll(/default: \{([^}]*)\}/g)) expect(d[1]).toMatch(/notAnOp\(\)|nanBits/);
  });

  it('names the row in each case and rejects an unknown table', () => {
    const spliced = spliceOpTables('unary.wgsl', kernel('unary.wgsl'));
    expect(spliced).toContain(`case ${UNARY_OPS.indexOf('gelu')}u: { return ${UNARY.gelu.wgsl}; } // gelu`);
    expect(() => spliceOpTables('x.wgsl', '  // @op-table nonsense\n')).toThrow(/kernels\/x.wgsl: unknown op table 'nonsense'/);
    expect(spliceOpTables('binary.wgsl', kernel('binary.wgsl'))).toContain(`case ${BINARY_OPS.indexOf('pow')}u: { return ${BINARY.pow.wgsl}; } // pow`);
  });
});

/** |a - b| <= 1e-6 + 1e-6 |b| per element, NaN meeting NaN. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) expect(a, `${what} [${i}]`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `${what} [${i}]`).toBe(e);
    else if (!(Math.abs(a - e) <= 1e-6 + 1e-6 * Math.abs(e))) expect.fail(`${what} [${i}]: fast path ${a}, reference ${e}`);
  }
}

const product = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const values = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => Math.round(rng.uniform(-3, 3) * 4) / 4 + 0.5);

describe('the CPU fast paths agree with the reference loops', () => {
  it.each(UNARY_OPS)('unary %s', (op) => {
    const rng = new Rng(7);
    const x = Float32Array.from({ length: 300 }, () => (UNARY[op].domain === 'positive' ? rng.uniform(0.01, 5) : rng.uniform(-8, 8)));
    x.set([0, -0, 1e-6, -20, 20], 0);
    expectSame(fast.unary(op, x), reference.unary(op, x), op);
  });

  /** An output shape and, per operand, the axes it broadcasts (size 1) or lacks (leading): covers the scalar, same-shape, bias-row and general loops. */
  const broadcastCase = fc.record({
    outShape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
    dropA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    dropB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    leadB: fc.integer({ min: 0, max: 3 }),
    seed: fc.integer(),
  });
  it.each(BINARY_OPS)('binary %s over broadcast layouts', (op) => {
    fc.assert(
      fc.property(broadcastCase, ({ outShape, dropA, dropB, leadB, seed }) => {
        const rng = new Rng(seed);
        const shapeA = outShape.map((d, i) => (dropA[i] ? 1 : d));
        const shapeB = outShape.slice(Math.min(leadB, outShape.length)).map((d, i) => (dropB[i] ? 1 : d));
        const a = values(rng, product(shapeA));
        const b = values(rng, product(shapeB));
        const layout = { outShape, stridesA: broadcastStrides(shapeA, outShape), stridesB: broadcastStrides(shapeB, outShape) };
        expectSame(fast.binary(op, a, b, layout), reference.binary(op, a, b, layout), `${op} [${shapeA}] x [${shapeB}]`);
        const swapped = { outShape, stridesA: layout.stridesB, stridesB: layout.stridesA };
        expectSame(fast.binary(op, b, a, swapped), reference.binary(op, b, a, swapped), `${op} [${shapeB}] x [${shapeA}]`);
      }),
      { numRuns: 40 },
    );
  });

  it.each(REDUCE_OPS)('reduce %s over [outer, axis, inner]', (op) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (outer, axis, inner, seed) => {
        const x = values(new Rng(seed), outer * axis * inner);
        if (x.length > 2) x[1] = NaN; // max and min let NaN win
        const layout = { outer, axis, inner };
        expectSame(fastReduce.reduce(op, x, layout), reference.reduce(op, x, layout), `${op} ${outer}x${axis}x${inner}`);
      }),
      { numRuns: 40 },
    );
  });

  it('copyStrided: permutations and slices into an offset destination', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.integer(), (shape, seed) => {
        const rng = new Rng(seed);
        const order = rng.shuffle(shape.map((_, i) => i));
        const strides = contiguousStrides(shape);
        const copy = { shape: order.map((a) => shape[a]!), srcOffset: 1, srcStrides: order.map((a) => strides[a]!), dstOffset: 2, dstStrides: contiguousStrides(order.map((a) => shape[a]!)) };
        const src = values(rng, product(shape) + 1);
        const [viaFast, viaReference] = [new Float32Array(product(shape) + 2), new Float32Array(product(shape) + 2)];
        fast.copyStrided(src, viaFast, copy);
        reference.copyStrided(src, viaReference, copy);
        expectSame(viaFast, viaReference, `copy [${shape}] as [${order}]`);
      }),
      { numRuns: 40 },
    );
  });
});
