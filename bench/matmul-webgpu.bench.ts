// WebGPU matmul GFLOP/s: medner's kernels (kernels/matmul_vec4.wgsl, and the
// general kernels/matmul.wgsl) and, as a peer on the same adapter,
// tfjs-backend-webgpu when it is installed (bench/peers, `npm run bench:peers`).
// Timed by hand rather than with benny: GPU work is asynchronous, so a sample is
// `repeats` products submitted back to back and one read() that waits for all of
// them; a warm-up call first compiles the pipelines.
// Usage: npx tsx bench/matmul-webgpu.bench.ts [--out bench-results/matmul-webgpu.json]
//        [--peers bench/peers] [--quick] [--opengles]
// Environment: MEDNER_PEERS overrides --peers.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Storage } from '../src/backend/backend.js';
import { createWebGpuBackend, type MatmulVersion, type WebGpuBackend } from '../src/backend/webgpu/index.js';
import { Rng } from '../src/tensor/random.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const outPath = option('--out') ?? 'bench-results/matmul-webgpu.json';
const peersPath = resolve(process.env.MEDNER_PEERS ?? option('--peers') ?? 'bench/peers');
const quick = args.includes('--quick');

// [m, k, n]: the squares of the core issue, then BERT-base shapes (2048 tokens; hidden 128 / 768, FFN 3072).
const shapes: [number, number, number][] = quick
  ? [[256, 256, 256], [512, 512, 512]]
  : [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [2048, 128, 512], [2048, 768, 3072]];

/** An engine's product as a submit step and a wait that reads the last result back. */
interface Product {
  submit(): void;
  waitForLast(): Promise<void>;
}

/** Seconds per product: warm up once, then samples of `repeats` submissions ended by one readback; the best sample. */
async function timeProducts(product: Product, flops: number): Promise<number> {
  product.submit(); // compile pipelines, fill pools
  await product.waitForLast();
  const repeats = Math.max(1, Math.min(20, Math.round(2e9 / flops)));
  let best = Infinity;
  const started = performance.now();
  for (let samples = 0; samples < 10 && (samples < 2 || performance.now() - started < 3000); samples++) {
    const t0 = performance.now();
    for (let r = 0; r < repeats; r++) product.submit();
    await product.waitForLast();
    best = Math.min(best, (performance.now() - t0) / 1000 / repeats);
  }
  return best;
}

/** medner's matmul with one kernel version; all but the last output are freed unread. */
function mednerProduct(gpu: WebGpuBackend, version: MatmulVersion, m: number, k: number, n: number, a: Float32Array, b: Float32Array) {
  const sa = gpu.fromArray(a);
  const sb = gpu.fromArray(b);
  const layout = { batch: 1, m, k, n, transA: false, transB: false, batchStrideA: 0, batchStrideB: 0 };
  let last: Storage | null = null;
  const product: Product = {
    submit() {
      if (last) gpu.free(last);
      last = gpu.matmulUsing(version, sa, sb, layout);
    },
    async waitForLast() {
      await gpu.read(last!);
    },
  };
  const dispose = () => [sa, sb, ...(last ? [last] : [])].forEach((s) => gpu.free(s));
  return { product, dispose };
}

interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor2d(values: Float32Array, shape: [number, number]): { dispose(): void };
  matMul(a: unknown, b: unknown): { data(): Promise<unknown>; dispose(): void };
}

/** tfjs-core + tfjs-backend-webgpu from the peers directory, on Dawn's GL adapter when no native one exists. */
async function loadTfjsWebgpu(gpu: WebGpuBackend): Promise<TfLike | null> {
  const core = resolve(peersPath, 'node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js');
  const backend = resolve(peersPath, 'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js');
  if (!existsSync(core) || !existsSync(backend)) {
    console.log(`tfjs-backend-webgpu not found under ${peersPath} (npm run bench:peers installs it); peer column skipped`);
    return null;
  }
  const dawn = await import('webgpu');
  Object.assign(globalThis, dawn.globals);
  const instance = dawn.create(gpu.adapter.backend === 'opengles' ? ['backend=opengles'] : []);
  // tfjs asks navigator.gpu for an adapter; on the GL backend that request must say compatibility mode.
  const featureLevel = gpu.adapter.backend === 'opengles' ? 'compatibility' : 'core';
  const gpuShim = {
    requestAdapter: (options: GPURequestAdapterOptions = {}) => instance.requestAdapter({ ...options, featureLevel }),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: instance.wgslLanguageFeatures,
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuShim, userAgent: 'node' }, configurable: true, writable: true });
  const tf = (await import(pathToFileURL(core).href)) as TfLike;
  await import(pathToFileURL(backend).href);
  const ok = await tf.setBackend('webgpu').catch((e: unknown) => {
    console.log(`tfjs-backend-webgpu failed to start: ${String(e)}`);
    return false;
  });
  if (!ok) return null;
  await tf.ready();
  return tf;
}

const gpu = await createWebGpuBackend({ forceOpenGles: args.includes('--opengles') });
console.log(`adapter: ${JSON.stringify(gpu.adapter)}`);
const tf = await loadTfjsWebgpu(gpu);

const rng = new Rng(0);
const random = (count: number) => Float32Array.from({ length: count }, () => rng.normal());
const rows: Row[] = [];
for (const [m, k, n] of shapes) {
  const a = random(m * k);
  const b = random(k * n);
  const flops = 2 * m * k * n;
  const row: Row = { name: `${m}x${k} * ${k}x${n}`, shape: [m, k, n] };

  for (const version of ['vec4', 'general'] as const) {
    const { product, dispose } = mednerProduct(gpu, version, m, k, n, a, b);
    row[`medner ${version} GFLOP/s`] = flops / (await timeProducts(product, flops)) / 1e9;
    dispose();
  }

  if (tf) {
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    let last: { data(): Promise<unknown>; dispose(): void } | null = null;
    const product: Product = {
      submit() {
        last?.dispose();
        last = tf.matMul(ta, tb);
      },
      async waitForLast() {
        await last!.data();
      },
    };
    row['tfjs-webgpu GFLOP/s'] = flops / (await timeProducts(product, flops)) / 1e9;
    (last as { dispose(): void } | null)?.dispose();
    ta.dispose();
    tb.dispose();
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}

printTable(`WebGPU matmul, fp32 (GFLOP/s) on ${gpu.adapter.description}`, rows);
writeJson(outPath, { benchmark: 'matmul', backend: 'webgpu', adapter: gpu.adapter, machine: machine(), date: new Date().toISOString(), results: rows });
process.exit(0);
