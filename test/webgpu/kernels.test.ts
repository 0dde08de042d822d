// Every Backend kernel on WebGPU agrees with the CPU backend: relative error
// <= 1e-4 for forward kernels and <= 1e-3 for gradient kernels, on random shapes
// (fast-check) that include odd sizes not dividing the 4x4 matmul blocks or the
// workgroup sizes. The CPU backend (src/backend/cpu) is the reference.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Backend, Storage } from '../../src/backend/backend.js';
import { BINARY, BINARY_OPS, REDUCE_OPS, UNARY, UNARY_OPS } from '../../src/ops/tables/index.js';
import { Rng } from '../../src/tensor/random.js';
import { broadcastStrides, contiguousStrides } from '../../src/tensor/shape.js';
import { agree, cpu, expectClose, take, webgpu } from './setup.js';

const FORWARD = 1e-4;
const GRADIENT = 1e-3;
const RUNS = { numRuns: 12 };

function uniform(rng: Rng, n: number, low = -2, high = 2): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(low, high));
}

function product(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

describe('webgpu memory kernels', () => {
  it('round-trips f32 and i32 buffers, zeros, fill, and sizes that are 0 or odd', async () => {
    const gpu = await webgpu();
    const floats = Float32Array.from([1.5, -2, 3.25, 7]);
    expect(Array.from(await take(gpu, gpu.fromArray(floats)))).toEqual(Array.from(floats));
    const ints = Int32Array.from([-3, 0, 2147483647, 5, 9]);
    const intRead = await take(gpu, gpu.fromArray(ints));
    expect(intRead).toBeInstanceOf(Int32Array);
    expect(Array.from(intRead)).toEqual(Array.from(ints));
    expect(Array.from(await take(gpu, gpu.zeros(7, 'f32')))).toEqual(new Array(7).fill(0));
    expect(Array.from(await take(gpu, gpu.zeros(3, 'i32')))).toEqual([0, 0, 0]);
    expect(Array.from(await take(gpu, gpu.fill(5, -0.5)))).toEqual(new Array(5).fill(-0.5));
    expect((await take(gpu, gpu.zeros(0, 'f32'))).length).toBe(0);
  });
});

describe('webgpu elementwise kernels agree with the CPU', () => {
  // Every row of the op tables, with the inputs its row asks for.
  it.each(UNARY_OPS)('unary %s', async (op) => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 700 }), fc.integer(), async (size, seed) => {
        const rng = new Rng(seed);
        const positiveOnly = UNARY[op].domain === 'positive';
        const x = positiveOnly ? uniform(rng, size, 0.05, 4) : uniform(rng, size, -6, 6);
        // Probes: the sign of zero, tiny inputs (tanh), the far tails (gelu's 1 + erf, sigmoid).
        if (positiveOnly) x.set([1e-3, 0.5, 3].slice(0, size), 0);
        else x.set([0, -0, 1e-5, -5.4, 5.4, -12].slice(0, size), 0);
        await agree(gpu, [x], (b, [s]) => b.unary(op, s!), FORWARD, `unary ${op}`);
      }),
      { numRuns: 6 },
    );
  });

  /** An output shape of rank 1..5 and, for each input, which axes it broadcasts (size 1) or lacks (leading). */
  const broadcastCase = fc.record({
    outShape: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
    dropA: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    dropB: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    leadA: fc.integer({ min: 0, max: 2 }),
    seed: fc.integer(),
  });
  const inputShape = (out: number[], drop: boolean[], lead: number) => out.slice(Math.min(lead, out.length - 1)).map((d, i) => (drop[i] ? 1 : d));

  it.each(BINARY_OPS)('binary %s with broadcasting', async (op) => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(broadcastCase, async ({ outShape, dropA, dropB, leadA, seed }) => {
        const rng = new Rng(seed);
        const shapeA = inputShape(outShape, dropA, leadA);
        const shapeB = inputShape(outShape, dropB, 0);
        // Comparisons need ties, pow needs a positive base, and division a divisor away from 0.
        const { domain } = BINARY[op];
        const comparison = domain === 'ties';
        const pick = (n: number, low: number, high: number) =>
          comparison ? Float32Array.from({ length: n }, () => Math.floor(rng.uniform(-2, 3))) : uniform(rng, n, low, high);
        const a = domain === 'positiveBase' ? pick(product(shapeA), 0.1, 3) : pick(product(shapeA), -3, 3);
        const b = domain === 'divisor' ? pick(product(shapeB), 0.5, 3) : pick(product(shapeB), -2, 2);
        const layout = { outShape, stridesA: broadcastStrides(shapeA, outShape), stridesB: broadcastStrides(shapeB, outShape) };
        await agree(gpu, [a, b], (be, [sa, sb]) => be.binary(op, sa!, sb!, layout), FORWARD, `binary ${op} ${shapeA} x ${shapeB}`);
      }),
      { numRuns: 8 },
    );
  });

  it('pow follows Math.pow for negative bases with integer exponents and for 0^0', async () => {
    const gpu = await webgpu();
    const a = Float32Array.from([-2, -2, -3, 0, 0, 2, -1.5]);
    const b = Float32Array.from([2, 3, 0, 0, 2, 0.5, 2]);
    const layout = { outShape: [7], stridesA: [1], stridesB: [1] };
    await agree(gpu, [a, b], (be, [sa, sb]) => be.binary('pow', sa!, sb!, layout), FORWARD, 'pow');
  });

  it('where broadcasts condition, a and b independently', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(broadcastCase, async ({ outShape, dropA, dropB, leadA, seed }) => {
        const rng = new Rng(seed);
        const shapeC = inputShape(outShape, dropB, leadA);
        const shapeA = inputShape(outShape, dropA, 0);
        const shapeB = outShape.map((d, i) => (i % 2 ? 1 : d));
        const cond = Float32Array.from({ length: product(shapeC) }, () => (rng.next() < 0.5 ? 1 : 0));
        const layout = {
          outShape, stridesC: broadcastStrides(shapeC, outShape), stridesA: broadcastStrides(shapeA, outShape), stridesB: broadcastStrides(shapeB, outShape),
        };
        await agree(gpu, [cond, uniform(rng, product(shapeA)), uniform(rng, product(shapeB))], (be, [c, a, b]) => be.where(c!, a!, b!, layout), FORWARD, 'where');
      }),
      RUNS,
    );
  });

  it('copyStridedInPlace permutes and slices f32 and i32 into an offset destination', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), fc.integer(), fc.boolean(),
        async (shape, seed, asInt) => {
          const rng = new Rng(seed);
          const axes = rng.shuffle(shape.map((_, i) => i));
          const permuted = axes.map((a) => shape[a]!);
          const srcStrides = contiguousStrides(shape);
          const copy = {
            shape: permuted, srcOffset: 0, srcStrides: axes.map((a) => srcStrides[a]!), dstOffset: 3, dstStrides: contiguousStrides(permuted),
          };
          const n = product(shape);
          const src = asInt ? Int32Array.from({ length: n }, (_, i) => i * 7 - 50) : uniform(rng, n);
          const run = async (be: Backend) => {
            const s = be.fromArray(src);
            const d = be.zeros(n + 5, asInt ? 'i32' : 'f32');
            be.copyStridedInPlace(s, d, copy);
            be.free(s);
            return take(be, d);
          };
          const expected = await run(cpu);
          const actual = await run(gpu);
          expect(actual.constructor).toBe(expected.constructor);
          expect(Array.from(actual)).toEqual(Array.from(expected));
        },
      ),
      RUNS,
    );
  });
});

describe('webgpu reductions agree with the CPU', () => {
  const layoutCase = fc.record({
    outer: fc.integer({ min: 1, max: 9 }),
    axis: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 60, max: 700 })),
    inner: fc.integer({ min: 1, max: 9 }),
    seed: fc.integer(),
  });

  it.each(REDUCE_OPS)('reduce %s over [outer, axis, inner] (short and long axes)', async (op) => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(layoutCase, async ({ outer, axis, inner, seed }) => {
        const x = uniform(new Rng(seed), outer * axis * inner);
        await agree(gpu, [x], (be, [s]) => be.reduce(op, s!, { outer, axis, inner }), FORWARD, `reduce ${op} [${outer}, ${axis}, ${inner}]`);
      }),
      RUNS,
    );
  });

  it('reduce of a large tensor with many outputs (one invocation each)', async () => {
    const gpu = await webgpu();
    const x = uniform(new Rng(9), 40 * 300 * 3);
    await agree(gpu, [x], (be, [s]) => be.reduce('sum', s!, { outer: 40, axis: 300, inner: 3 }), FORWARD, 'reduce sum columns');
  });

  it('argmax picks the first maximum', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(layoutCase, async ({ outer, axis, inner, seed }) => {
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: outer * axis * inner }, () => Math.floor(rng.uniform(0, 4))); // ties
        await agree(gpu, [x], (be, [s]) => be.argmax(s!, { outer, axis, inner }), 0, 'argmax');
      }),
      RUNS,
    );
  });

  it.each([false, true])('softmax (log = %s)', async (log) => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(layoutCase, async ({ outer, axis, inner, seed }) => {
        const x = uniform(new Rng(seed), outer * axis * inner, -20, 20);
        await agree(gpu, [x], (be, [s]) => be.softmax(s!, { outer, axis, inner }, log), FORWARD, 'softmax');
      }),
      RUNS,
    );
  });
});

describe('webgpu matmul agrees with the CPU', () => {
  const matmulCase = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    m: fc.integer({ min: 1, max: 45 }),
    k: fc.integer({ min: 1, max: 45 }),
    n: fc.integer({ min: 1, max: 45 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    broadcast: fc.constantFrom('none', 'a', 'b'),
    aligned: fc.boolean(), // round sizes up to multiples of 4: the vec4 kernel
    seed: fc.integer(),
  });

  it('any sizes, transposes and batch strides (including 0), both kernels', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(matmulCase, async (c) => {
        const round = (d: number) => (c.aligned ? Math.ceil(d / 4) * 4 : d);
        const [m, k, n] = [round(c.m), round(c.k), round(c.n)];
        const rng = new Rng(c.seed);
        const batchA = c.broadcast === 'a' ? 1 : c.batch;
        const batchB = c.broadcast === 'b' ? 1 : c.batch;
        const layout = {
          batch: c.batch, m, k, n, transA: c.transA, transB: c.transB,
          batchStrideA: batchA === 1 && c.batch > 1 ? 0 : m * k, batchStrideB: batchB === 1 && c.batch > 1 ? 0 : k * n,
        };
        const a = uniform(rng, batchA * m * k);
        const b = uniform(rng, batchB * k * n);
        await agree(gpu, [a, b], (be, [sa, sb]) => be.matmul(sa!, sb!, layout), FORWARD, `matmul ${JSON.stringify(layout)}`);
      }),
      { numRuns: 30 },
    );
  });

  it('a product larger than one 65535-workgroup row of tiles', async () => {
    const gpu = await webgpu();
    const rng = new Rng(1);
    const layout = { batch: 1, m: 200, k: 64, n: 132, transA: false, transB: true, batchStrideA: 0, batchStrideB: 0 };
    await agree(gpu, [uniform(rng, 200 * 64), uniform(rng, 132 * 64)], (be, [a, b]) => be.matmul(a!, b!, layout), FORWARD, 'matmul 200x64x132');
  });
});

describe('webgpu indexing kernels agree with the CPU', () => {
  it('indexSelect gathers f32 and i32 rows along any axis', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 40 }), fc.integer(), fc.boolean(),
        async (outer, rows, inner, count, seed, asInt) => {
          const rng = new Rng(seed);
          const x = asInt ? Int32Array.from({ length: outer * rows * inner }, (_, i) => i - 7) : uniform(rng, outer * rows * inner);
          const index = Int32Array.from({ length: count }, () => Math.floor(rng.uniform(0, rows)));
          await agree(gpu, [x, index], (be, [sx, si]) => be.indexSelect(sx!, si!, { outer, axis: rows, inner }, count), 0, 'indexSelect');
        },
      ),
      RUNS,
    );
  });

  it('indexAdd scatter-adds repeated indices (embedding gradients)', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 90 }), fc.integer(),
        async (outer, rows, inner, count, seed) => {
          const rng = new Rng(seed);
          // Few distinct rows: long chains of repeats.
          const distinct = Math.max(1, Math.floor(rng.uniform(1, rows + 1)));
          const index = Int32Array.from({ length: count }, () => Math.floor(rng.uniform(0, distinct)));
          const grad = uniform(rng, outer * count * inner);
          await agree(gpu, [grad, index], (be, [g, i]) => be.indexAdd(g!, i!, { outer, axis: rows, inner }, count), GRADIENT, 'indexAdd');
        },
      ),
      RUNS,
    );
  });
});

describe('webgpu transformer kernels agree with the CPU (ModernBERT)', () => {
  it('rotary forward and inverse', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.integer(), async (outer, length, inner, half, inverse, seed) => {
        const rng = new Rng(seed);
        const dim = 2 * half;
        const angles = Array.from({ length: length * half }, () => rng.uniform(-20, 20));
        const inputs = [uniform(rng, outer * length * inner * dim), Float32Array.from(angles, Math.cos), Float32Array.from(angles, Math.sin)];
        await agree(gpu, inputs, (b, [x, cos, sin]) => b.rotary(x!, cos!, sin!, { outer, length, inner, dim }, inverse), FORWARD, 'rotary');
      }),
      RUNS,
    );
  });

  it('windowBias: the sliding-window mask, padded keys masked everywhere', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 0, max: 40 }), fc.integer(), async (batch, length, halfWindow, seed) => {
        const rng = new Rng(seed);
        const lengths = Array.from({ length: batch }, () => 1 + Math.floor(rng.uniform(0, length)));
        const mask = Float32Array.from({ length: batch * length }, (_, i) => (i % length < lengths[Math.floor(i / length)]! ? 1 : 0));
        const masked = -3.4028234663852886e38;
        const expected = await take(cpu, cpu.windowBias(cpu.fromArray(mask), batch, length, halfWindow, masked));
        const m = gpu.fromArray(mask);
        const actual = await take(gpu, gpu.windowBias(m, batch, length, halfWindow, masked));
        gpu.free(m);
        // Exact: 0 or the lowest float, entry by entry.
        expect(Array.from(actual)).toEqual(Array.from(expected));
        expect(expected.filter((v) => v === 0).length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('geglu forward and backward', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 67 }), fc.integer(), async (rows, width, seed) => {
        const rng = new Rng(seed);
        const x = uniform(rng, rows * 2 * width, -6, 6);
        x.set([0, -5.4, 5.4, 1e-5].slice(0, x.length), 0);
        const dy = uniform(rng, rows * width);
        await agree(gpu, [x], (b, [s]) => b.geglu(s!, rows, width), FORWARD, 'geglu');
        await agree(gpu, [dy, x], (b, [d, s]) => b.gegluBackward(d!, s!, rows, width), GRADIENT, 'gegluBackward');
      }),
      RUNS,
    );
  });
});

describe('webgpu fused kernels agree with the CPU', () => {
  // dim >= 3: with one or two features dx is exactly 0 in exact arithmetic, and both backends return rounding noise.
  it('layerNorm forward and backward', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 3, max: 67 }), fc.integer(), async (rows, dim, seed) => {
        const rng = new Rng(seed);
        const inputs = [uniform(rng, rows * dim, -3, 5), uniform(rng, dim, 0.5, 1.5), uniform(rng, dim), uniform(rng, rows * dim)];
        const run = async (be: Backend) => {
          const [x, gamma, beta, dy] = inputs.map((a) => be.fromArray(a)) as [Storage, Storage, Storage, Storage];
          const { y, mean, rstd } = be.layerNorm(x, gamma, beta, rows, dim, 1e-5);
          const { dx, dgamma, dbeta } = be.layerNormBackward(dy, x, gamma, mean, rstd, rows, dim);
          const out = await Promise.all([y, mean, rstd, dx, dgamma, dbeta].map((s) => take(be, s)));
          [x, gamma, beta, dy].forEach((s) => be.free(s));
          return out;
        };
        const expected = await run(cpu);
        const actual = await run(gpu);
        ['y', 'mean', 'rstd'].forEach((name, i) => expectClose(actual[i]!, expected[i]!, FORWARD, `layerNorm ${name}`));
        ['dx', 'dgamma', 'dbeta'].forEach((name, i) => expectClose(actual[i + 3]!, expected[i + 3]!, GRADIENT, `layerNormBackward ${name}`));
      }),
      RUNS,
    );
  });

  it('crossEntropy forward and backward, with class weights and ignored rows', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 2, max: 37 }), fc.boolean(), fc.integer(), async (rows, classes, weighted, seed) => {
        const rng = new Rng(seed);
        const logits = uniform(rng, rows * classes, -8, 8);
        const targets = Int32Array.from({ length: rows }, () => (rng.next() < 0.2 ? -100 : Math.floor(rng.uniform(0, classes))));
        const weights = uniform(rng, classes, 0.2, 2);
        const dloss = uniform(rng, rows);
        const run = async (be: Backend) => {
          const l = be.fromArray(logits);
          const t = be.fromArray(targets);
          const w = weighted ? be.fromArray(weights) : null;
          const d = be.fromArray(dloss);
          const { loss, weight } = be.crossEntropy(l, t, w, rows, classes, -100);
          const dlogits = be.crossEntropyBackward(l, t, w, d, rows, classes, -100);
          const out = await Promise.all([loss, weight, dlogits].map((s) => take(be, s)));
          [l, t, d, ...(w ? [w] : [])].forEach((s) => be.free(s));
          return out;
        };
        const expected = await run(cpu);
        const actual = await run(gpu);
        expectClose(actual[0]!, expected[0]!, FORWARD, 'crossEntropy loss');
        expectClose(actual[1]!, expected[1]!, FORWARD, 'crossEntropy weight');
        expectClose(actual[2]!, expected[2]!, GRADIENT, 'crossEntropyBackward');
      }),
      RUNS,
    );
  });

  it('dropoutMask is bit-identical to the CPU for any seed and p', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 0.95, noNaN: true }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), async (size, p, seed) => {
        const expected = await take(cpu, cpu.dropoutMask(size, p, seed));
        const actual = await take(gpu, gpu.dropoutMask(size, p, seed));
        expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      }),
      { numRuns: 25 },
    );
    // p = 0.5 and 0.75 sit on the 2^-24 grid of the hash's uniform: the comparison must be exact there.
    for (const p of [0.5, 0.75, 0.1, 0.3]) {
      const expected = await take(cpu, cpu.dropoutMask(4099, p, 1234));
      const actual = await take(gpu, gpu.dropoutMask(4099, p, 1234));
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });

  it('adamwInPlace over three steps', async () => {
    const gpu = await webgpu();
    const rng = new Rng(5);
    const param = uniform(rng, 777);
    const grads = [uniform(rng, 777), uniform(rng, 777), uniform(rng, 777)];
    const run = async (be: Backend) => {
      const p = be.fromArray(param);
      const m = be.zeros(777, 'f32');
      const v = be.zeros(777, 'f32');
      for (let step = 1; step <= 3; step++) {
        const g = be.fromArray(grads[step - 1]!);
        be.adamwInPlace(p, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step });
        be.free(g);
      }
      return Promise.all([p, m, v].map((s) => take(be, s)));
    };
    const expected = await run(cpu);
    const actual = await run(gpu);
    ['param', 'm', 'v'].forEach((name, i) => expectClose(actual[i]!, expected[i]!, FORWARD, `adamw ${name}`));
  });
});

describe('webgpu sequence kernels agree with the CPU', () => {
  /** A packed batch: non-increasing batch sizes (step t holds batchSizes[t] rows), a hidden size, a seed. */
  const lstmCase = fc.record({
    batchSizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 7 }).map((sizes) => sizes.sort((a, b) => b - a)),
    hidden: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 30, max: 70 })),
    seed: fc.integer(),
  });

  it('lstmForward and lstmBackward over a packed batch', async () => {
    const gpu = await webgpu();
    const start = gpu.liveBuffers();
    await fc.assert(
      fc.asyncProperty(lstmCase, async ({ batchSizes, hidden, seed }) => {
        const rng = new Rng(seed);
        const rows = batchSizes.reduce((n, b) => n + b, 0);
        const xProj = uniform(rng, rows * 4 * hidden, -2, 2);
        const weightHH = uniform(rng, 4 * hidden * hidden, -0.5, 0.5);
        const dh = uniform(rng, rows * hidden);
        const run = async (be: Backend) => {
          const [x, w, sdh] = [xProj, weightHH, dh].map((a) => be.fromArray(a)) as [Storage, Storage, Storage];
          const { h, c, act } = be.lstmForward(x, w, batchSizes, hidden);
          const { dxProj, dWeightHH } = be.lstmBackward(sdh, w, h, c, act, batchSizes, hidden);
          const out = await Promise.all([h, c, act, dxProj, dWeightHH].map((s) => take(be, s)));
          [x, w, sdh].forEach((s) => be.free(s));
          return out;
        };
        const expected = await run(cpu);
        const actual = await run(gpu);
        const what = `batchSizes [${batchSizes}], hidden ${hidden}`;
        ['h', 'c', 'act'].forEach((name, i) => expectClose(actual[i]!, expected[i]!, FORWARD, `lstmForward ${name}, ${what}`));
        ['dxProj', 'dWeightHH'].forEach((name, i) => expectClose(actual[i + 3]!, expected[i + 3]!, GRADIENT, `lstmBackward ${name}, ${what}`));
      }),
      {
        ...RUNS,
        // Ragged steps with an odd hidden size (not a multiple of the matmul's vec4), one row one step, one full-width step.
        examples: [[{ batchSizes: [3, 3, 2, 1], hidden: 5, seed: 1 }], [{ batchSizes: [1], hidden: 5, seed: 2 }], [{ batchSizes: [4, 4, 4], hidden: 8, seed: 3 }]],
      },
    );
    expect(gpu.liveBuffers(), 'live buffers after lstmForward/lstmBackward').toBe(start);
  });

  /** Emissions, a prefix mask (every sequence at least one step long) and CRF parameters. */
  const crfCase = fc.record({
    batch: fc.integer({ min: 1, max: 6 }),
    steps: fc.integer({ min: 1, max: 14 }),
    tags: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 60, max: 90 })), // more tags than a workgroup's 64 lanes
    seed: fc.integer(),
  });

  function crfInputs({ batch, steps, tags, seed }: { batch: number; steps: number; tags: number; seed: number }) {
    const rng = new Rng(seed);
    const mask = new Float32Array(batch * steps);
    for (let b = 0; b < batch; b++) {
      const length = b === 0 ? steps : 1 + Math.floor(rng.uniform(0, steps));
      for (let t = 0; t < length; t++) mask[b * steps + t] = 1;
    }
    return {
      emissions: uniform(rng, batch * steps * tags, -3, 3), mask, transitions: uniform(rng, tags * tags), start: uniform(rng, tags), end: uniform(rng, tags),
      dlogZ: uniform(rng, batch, 0.5, 1.5),
    };
  }

  it('crfForward and crfBackward (forward-backward marginals)', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(crfCase, async (c) => {
        const inputs = crfInputs(c);
        const shape = { batch: c.batch, steps: c.steps, tags: c.tags };
        const run = async (be: Backend) => {
          const s = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, be.fromArray(v)])) as Record<keyof typeof inputs, Storage>;
          const { logZ, alpha } = be.crfForward(s.emissions, s.mask, s.transitions, s.start, s.end, shape);
          const grads = be.crfBackward(s.emissions, s.mask, s.transitions, s.start, s.end, alpha, s.dlogZ, shape);
          const out = await Promise.all([logZ, alpha, grads.dEmissions, grads.dTransitions, grads.dStart, grads.dEnd].map((x) => take(be, x)));
          Object.values(s).forEach((x) => be.free(x));
          return out;
        };
        const expected = await run(cpu);
        const actual = await run(gpu);
        expectClose(actual[0]!, expected[0]!, FORWARD, 'crfForward logZ');
        expectClose(actual[1]!, expected[1]!, FORWARD, 'crfForward alpha');
        ['dEmissions', 'dTransitions', 'dStart', 'dEnd'].forEach((name, i) => expectClose(actual[i + 2]!, expected[i + 2]!, GRADIENT, `crfBackward ${name}`));
      }),
      RUNS,
    );
  });

  it('viterbi decodes the same paths and scores, backtracking on the device', async () => {
    const gpu = await webgpu();
    await fc.assert(
      fc.asyncProperty(crfCase, async (c) => {
        const inputs = crfInputs(c);
        const shape = { batch: c.batch, steps: c.steps, tags: c.tags };
        const run = async (be: Backend) => {
          const s = [inputs.emissions, inputs.mask, inputs.transitions, inputs.start, inputs.end].map((a) => be.fromArray(a)) as [Storage, Storage, Storage, Storage, Storage];
          const { tags, score } = be.viterbi(...s, shape);
          const out = await Promise.all([tags, score].map((x) => take(be, x)));
          s.forEach((x) => be.free(x));
          return out;
        };
        const expected = await run(cpu);
        const actual = await run(gpu);
        expect(Array.from(actual[0]!)).toEqual(Array.from(expected[0]!));
        expectClose(actual[1]!, expected[1]!, FORWARD, 'viterbi score');
      }),
      RUNS,
    );
  });
});
