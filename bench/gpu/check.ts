// The GPU kit's self-check (bench/gpu/run.sh runs it before any figure): the WebGPU
// kernels that the benchmark leans on, on this machine's adapter, against the CPU
// backend on the same random inputs -- matmul in every transpose at sizes that span
// several tiles, softmax, layer norm and cross-entropy forward and backward, the CRF
// forward, backward and Viterbi, the LSTM recurrence -- for the kernel set the
// adapter gets and for the other one. It is the subset of test/webgpu/ that a bare
// GPU machine without vitest can run. Prints one JSON object; exits 1 on a mismatch.
// Usage: node check.mjs [--quick] [--out check.json]   (bundled by bench/gpu/pack.sh)
// --quick: smaller shapes (run.sh uses it on a software adapter, where each kernel runs on the CPU).

import { writeFileSync } from 'node:fs';
import type { Backend, Storage, TypedArray } from '../../src/backend/backend.js';
import { cpuBackend } from '../../src/backend/registry.js';
import { createWebGpuBackend, type WebGpuBackend } from '../../src/backend/webgpu/index.js';
import { Rng } from '../../src/tensor/random.js';

interface CheckResult { kernels: string; name: string; worstError: number; tolerance: number; ok: boolean }

const quick = process.argv.includes('--quick');
const rng = new Rng(2024);
const uniform = (n: number, low = -1, high = 1) => Float32Array.from({ length: n }, () => rng.uniform(low, high));

/** Largest |a - b| / max(|b|, mean |b|) over the elements (NaN counts as a failure). */
function worstError(actual: TypedArray, expected: TypedArray): number {
  if (actual.length !== expected.length) return Infinity;
  let mean = 0;
  for (let i = 0; i < expected.length; i++) mean += Math.abs(expected[i]!);
  mean = mean / Math.max(1, expected.length) || 1e-30;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), mean);
    worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
  }
  return worst;
}

/** Run `call` on both backends with the same inputs; compare every output it returns. */
async function compare(gpu: Backend, inputs: TypedArray[], call: (b: Backend, s: Storage[]) => Storage[]): Promise<number> {
  const run = async (backend: Backend) => {
    const storages = inputs.map((x) => backend.fromArray(x));
    const outputs = call(backend, storages);
    const values = await Promise.all(outputs.map((s) => backend.read(s)));
    [...storages, ...outputs].forEach((s) => backend.free(s));
    return values;
  };
  const expected = await run(cpuBackend);
  const actual = await run(gpu);
  return Math.max(...actual.map((a, i) => worstError(a, expected[i]!)));
}

async function checkKernelSet(gpu: WebGpuBackend): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const record = (name: string, error: number, tolerance: number) =>
    results.push({ kernels: gpu.variants.profile, name, worstError: error, tolerance, ok: error <= tolerance });

  for (const [m, k, n] of quick ? [[256, 256, 256], [261, 37, 135]] : [[1024, 1024, 1024], [513, 300, 257], [4096, 128, 130]]) {
    for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const layout = { batch: 1, m, k, n, transA, transB, batchStrideA: 0, batchStrideB: 0 };
      record(`matmul ${m}x${k}x${n} transA=${transA} transB=${transB}`, await compare(gpu, [uniform(m * k), uniform(k * n)], (b, [x, y]) => [b.matmul(x!, y!, layout)]), 1e-4);
    }
  }
  const batched = { batch: 12, m: 128, k: 64, n: 128, transA: false, transB: true, batchStrideA: 128 * 64, batchStrideB: 128 * 64 };
  record('matmul batched 12x128x64x128 (attention scores)', await compare(gpu, [uniform(12 * 128 * 64), uniform(12 * 128 * 64)], (b, [x, y]) => [b.matmul(x!, y!, batched)]), 1e-4);

  const [rows, dim] = quick ? [512, 768] : [4096, 768];
  for (const log of [false, true]) {
    record(`softmax ${rows}x${dim} log=${log}`, await compare(gpu, [uniform(rows * dim, -10, 10)], (b, [x]) => [b.softmax(x!, { outer: rows, axis: dim, inner: 1 }, log)]), 1e-4);
  }
  record(`layer_norm ${rows}x${dim} forward and backward`, await compare(gpu, [uniform(rows * dim, -3, 5), uniform(dim, 0.5, 1.5), uniform(dim), uniform(rows * dim)], (b, [x, g, beta, dy]) => {
    const { y, mean, rstd } = b.layerNorm(x!, g!, beta!, rows, dim, 1e-12);
    const { dx, dgamma, dbeta } = b.layerNormBackward(dy!, x!, g!, mean, rstd, rows, dim);
    return [y, mean, rstd, dx, dgamma, dbeta];
  }), 1e-3);
  const classes = 255;
  const targets = Int32Array.from({ length: rows }, () => (rng.next() < 0.1 ? -100 : Math.floor(rng.uniform(0, classes))));
  record(`cross_entropy ${rows}x${classes} forward and backward`, await compare(gpu, [uniform(rows * classes, -8, 8), targets, uniform(rows)], (b, [l, t, d]) => {
    const { loss, weight } = b.crossEntropy(l!, t!, null, rows, classes, -100);
    return [loss, weight, b.crossEntropyBackward(l!, t!, null, d!, rows, classes, -100)];
  }), 1e-3);

  for (const tags of [5, 33, 129, 255]) {
    // 32 sequences of 29-128 steps (8 of 29-64 when quick).
    const [batch, steps] = quick ? [8, 64] : [32, 128];
    const shape = { batch, steps, tags };
    const mask = Float32Array.from({ length: batch * steps }, (_, i) => (i % steps < steps - (Math.floor(i / steps) * 3) % (steps - 28) ? 1 : 0));
    const inputs = [uniform(batch * steps * tags, -3, 3), mask, uniform(tags * tags), uniform(tags), uniform(tags), uniform(batch)];
    record(`crf forward+backward ${batch}x${steps}, ${tags} tags`, await compare(gpu, inputs, (b, [e, mk, tr, s, en, dz]) => {
      const { logZ, alpha } = b.crfForward(e!, mk!, tr!, s!, en!, shape);
      const grads = b.crfBackward(e!, mk!, tr!, s!, en!, alpha, dz!, shape);
      return [logZ, alpha, grads.dEmissions, grads.dTransitions, grads.dStart, grads.dEnd];
    }), 1e-3);
    record(`viterbi ${batch}x${steps}, ${tags} tags`, await compare(gpu, inputs, (b, [e, mk, tr, s, en]) => {
      const { tags: best, score } = b.viterbi(e!, mk!, tr!, s!, en!, shape);
      return [best, score];
    }), 1e-4);
  }

  const hidden = 100;
  const batchSizes = Array.from({ length: 64 }, (_, t) => Math.max(1, 32 - Math.floor(t / 3)));
  const packedRows = batchSizes.reduce((a, b) => a + b, 0);
  record('lstm forward+backward, 32 sequences up to 64 steps, hidden 100', await compare(gpu, [uniform(packedRows * 4 * hidden), uniform(4 * hidden * hidden, -0.1, 0.1), uniform(packedRows * hidden)], (b, [xProj, w, dh]) => {
    const { h, c, act } = b.lstmForward(xProj!, w!, batchSizes, hidden);
    const { dxProj, dWeightHH } = b.lstmBackward(dh!, w!, h, c, act, batchSizes, hidden);
    return [h, c, dxProj, dWeightHH];
  }), 1e-3);
  return results;
}

// --adapter: print what the adapter says about itself (run.sh decides software vs GPU from it) and stop.
if (process.argv.includes('--adapter')) {
  const gpu = await createWebGpuBackend();
  console.log(JSON.stringify({ ...gpu.adapter, kernels: gpu.variants.profile }));
  gpu.destroy();
  process.exit(0);
}

const outAt = process.argv.indexOf('--out');
const started = performance.now();
const results: CheckResult[] = [];
let adapter: object | null = null;
for (const kernels of ['auto', 'software', 'gpu']) {
  const gpu = await createWebGpuBackend({ kernels });
  adapter ??= gpu.adapter;
  // 'auto' resolves to one of the other two: check each set once, the adapter's own first.
  if (kernels !== 'auto' && results.some((r) => r.kernels === gpu.variants.profile)) {
    gpu.destroy();
    continue;
  }
  results.push(...(await checkKernelSet(gpu)));
  gpu.destroy();
}
const failed = results.filter((r) => !r.ok);
for (const r of results) console.error(`${r.ok ? 'ok  ' : 'FAIL'} [${r.kernels}] ${r.name}: ${r.worstError.toExponential(2)} (tolerance ${r.tolerance})`);
const report = { check: 'webgpu-vs-cpu', adapter, seconds: Math.round((performance.now() - started) / 100) / 10, passed: results.length - failed.length, failed: failed.length, results };
if (outAt > 0 && process.argv[outAt + 1]) writeFileSync(process.argv[outAt + 1]!, JSON.stringify(report, null, 2));
console.log(JSON.stringify({ ...report, results: undefined }));
process.exit(failed.length > 0 ? 1 : 0);
