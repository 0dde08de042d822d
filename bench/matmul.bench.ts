// CPU matmul GFLOP/s (benny), medner beside its peers in the same run: the naive
// i-k-j loop, the scalar 4x4 JS kernel and the WebAssembly SIMD 4x8 kernel, each
// on 1 and 2 cores; then, when installed in bench/peers (`cd bench/peers && npm
// install`), tfjs-backend-cpu, tfjs-backend-wasm (SIMD) and gpu.js in its cpu
// mode (its GPU mode needs a WebGL context from headless-gl). PyTorch joins with
// --torch (bench/torch_peer.py through /usr/bin/python3, when it has torch).
// Peers are loaded by dynamic import from bench/peers/node_modules: never a
// dependency of medner. Figures (GFLOP/s of the best benny sample) are printed
// and written as JSON, never asserted.
// Usage: npx tsx bench/matmul.bench.ts [--out bench-results/matmul-cpu.json] [--quick]
//        [--peers bench/peers] [--torch]
// Environment: MEDNER_PEERS overrides --peers.

import b from 'benny';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MatmulLayout } from '../src/backend/backend.js';
import { matmul, matmulNaive } from '../src/backend/cpu/matmul.js';
import { wasmSimdSupported } from '../src/backend/cpu/wasm/gemm.js';
import { Rng } from '../src/tensor/random.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const outPath = option('--out') ?? 'bench-results/matmul-cpu.json';
const peersPath = resolve(process.env.MEDNER_PEERS ?? option('--peers') ?? 'bench/peers');
const quick = args.includes('--quick');

interface Case {
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
}
// Squares from the core issue, BERT shapes (2048 tokens x hidden 128 / 768, FFN 4x), and the
// transposed products of a Linear layer's backward (dX = dY W^T, dW = X^T dY).
const cases: Case[] = quick
  ? [{ m: 256, k: 256, n: 256 }, { m: 512, k: 512, n: 512 }, { m: 512, k: 512, n: 512, transB: true }]
  : [
      { m: 128, k: 128, n: 128 },
      { m: 256, k: 256, n: 256 },
      { m: 512, k: 512, n: 512 },
      { m: 1024, k: 1024, n: 1024 },
      { m: 2048, k: 128, n: 512 },
      { m: 2048, k: 768, n: 3072 },
      // tfjs-wasm runs these at 0.4-2 GFLOP/s, so 512 keeps a sample within seconds.
      { m: 512, k: 512, n: 512, transB: true },
      { m: 512, k: 512, n: 512, transA: true },
      // A BiLSTM step: batch 16 x (embedding 64 + hidden 64) times the four gates' weights.
      { m: 16, k: 128, n: 256 },
    ];

/** A product to time; `limit` is the most flops per call at which it is still worth a sample (the slow engines). */
interface Engine {
  name: string;
  limit: number;
  /** The timed call for this case, or null where the engine has no such product. */
  prepare(a: Float32Array, bm: Float32Array, c: Case): (() => void) | null;
  dispose?(): void;
}

const layoutOf = (c: Case): MatmulLayout => ({ batch: 1, m: c.m, k: c.k, n: c.n, transA: !!c.transA, transB: !!c.transB, batchStrideA: 0, batchStrideB: 0 });
const SLOW = 2 * 512 ** 3 * 1.1;
const MEDIUM = 2 * 1024 ** 3 * 1.1;

const engines: Engine[] = [
  // The naive loop has no transposed form; at the big shapes it would take minutes per sample.
  { name: 'naive', limit: SLOW, prepare: (a, bm, c) => (c.transA || c.transB ? null : () => matmulNaive(a, bm, c.m, c.k, c.n)) },
  { name: 'js 1 core', limit: Infinity, prepare: (a, bm, c) => () => matmul(a, bm, layoutOf(c), false, 'js') },
  { name: 'js 2 cores', limit: Infinity, prepare: (a, bm, c) => () => matmul(a, bm, layoutOf(c), true, 'js') },
];
if (wasmSimdSupported()) {
  engines.push(
    { name: 'wasm 1 core', limit: Infinity, prepare: (a, bm, c) => () => matmul(a, bm, layoutOf(c), false, 'wasm') },
    { name: 'wasm 2 cores', limit: Infinity, prepare: (a, bm, c) => () => matmul(a, bm, layoutOf(c), true, 'wasm') },
  );
} else console.log('this engine has no WebAssembly SIMD: wasm rows skipped');

const versions: Record<string, string> = { node: process.version };
const notes: string[] = [];

// ---- peers -----------------------------------------------------------------

interface TfTensor {
  dataSync(): unknown;
  dispose(): void;
}
interface TfLike {
  version_core: string;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  env(): { getAsync(flag: string): Promise<unknown> };
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
}

function peerFile(relative: string): string | null {
  const path = resolve(peersPath, 'node_modules', relative);
  return existsSync(path) ? path : null;
}

const packageVersion = (name: string): string => (JSON.parse(readFileSync(resolve(peersPath, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * tfjs-core with its cpu and wasm backends. One tfjs-core holds one backend at
 * a time, so each engine switches to its own before every sample (setBackend on
 * a registered, initialised backend is cheap).
 */
async function tfjsEngines(): Promise<Engine[]> {
  const core = peerFile('@tensorflow/tfjs-core/dist/tf-core.node.js');
  if (!core) {
    console.log(`tfjs not found under ${peersPath} (cd bench/peers && npm install); tfjs columns skipped`);
    return [];
  }
  const tf = (await import(pathToFileURL(core).href)) as TfLike;
  versions['@tensorflow/tfjs-core'] = packageVersion('@tensorflow/tfjs-core');
  const found: Engine[] = [];
  for (const [backend, name, limit] of [['cpu', 'tfjs-cpu', MEDIUM], ['wasm', 'tfjs-wasm', Infinity]] as const) {
    const file = peerFile(`@tensorflow/tfjs-backend-${backend}/dist/tf-backend-${backend}.node.js`);
    if (!file) continue;
    await import(pathToFileURL(file).href);
    if (!(await tf.setBackend(backend))) continue;
    await tf.ready();
    versions[`@tensorflow/tfjs-backend-${backend}`] = packageVersion(`@tensorflow/tfjs-backend-${backend}`);
    if (backend === 'wasm') {
      // Node has no cross-origin isolation, so tfjs runs its SIMD build on one thread.
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      notes.push(`tfjs-wasm: SIMD ${String(simd)}, multithreading ${String(threads)} (one thread in Node)`);
    }
    let tensors: TfTensor[] = [];
    found.push({
      name,
      limit,
      prepare(a, bm, c) {
        tensors.forEach((t) => t.dispose());
        void tf.setBackend(backend); // synchronous for an initialised backend: the tensors below live on it
        const ta = tf.tensor2d(a, c.transA ? [c.k, c.m] : [c.m, c.k]);
        const tb = tf.tensor2d(bm, c.transB ? [c.n, c.k] : [c.k, c.n]);
        tensors = [ta, tb];
        return () => {
          void tf.setBackend(backend); // synchronous for an initialised backend; the promise only reports it
          const out = tf.matMul(ta, tb, !!c.transA, !!c.transB);
          out.dataSync();
          out.dispose();
        };
      },
      dispose: () => tensors.forEach((t) => t.dispose()),
    });
  }
  return found;
}

interface GpuJsKernel {
  (a: unknown, b: unknown): unknown;
  setOutput(output: number[]): GpuJsKernel;
}
interface GpuJs {
  mode: string;
  createKernel(fn: (this: { thread: { x: number; y: number }; constants: { k: number } }, a: number[][], b: number[][]) => number, settings: object): GpuJsKernel;
}

/** gpu.js: its cpu mode always runs; its GPU mode needs headless-gl, which needs an X display on Linux. */
async function gpuJsEngines(): Promise<Engine[]> {
  const entry = peerFile('gpu.js/package.json');
  if (!entry) {
    console.log(`gpu.js not found under ${peersPath} (see bench/peers/README.md); gpu.js columns skipped`);
    return [];
  }
  const require = createRequire(entry);
  const { GPU, input } = require('gpu.js') as { GPU: new (settings: { mode: string }) => GpuJs; input: (values: Float32Array, size: number[]) => unknown };
  versions['gpu.js'] = packageVersion('gpu.js');
  const found: Engine[] = [];
  for (const mode of ['cpu', 'gpu']) {
    let gpu: GpuJs;
    try {
      gpu = new GPU({ mode });
    } catch (e) {
      notes.push(`gpu.js ${mode} mode: ${String(e).slice(0, 160)}`);
      continue;
    }
    found.push({
      name: `gpu.js ${mode}`,
      limit: mode === 'cpu' ? SLOW : MEDIUM,
      prepare(a, bm, c) {
        if (c.transA || c.transB) return null;
        // gpu.js indexes [y][x]: thread.y is the row of C, thread.x its column.
        const kernel = gpu.createKernel(
          function (this: { thread: { x: number; y: number }; constants: { k: number } }, x: number[][], y: number[][]) {
            let sum = 0;
            for (let i = 0; i < this.constants.k; i++) sum += x[this.thread.y]![i]! * y[i]![this.thread.x]!;
            return sum;
          },
          { constants: { k: c.k }, output: [c.n, c.m] },
        );
        const ia = input(a, [c.k, c.m]);
        const ib = input(bm, [c.n, c.k]);
        return () => kernel(ia, ib);
      },
    });
  }
  return found;
}

/** bench/torch_peer.py --matmul-only: PyTorch's GFLOP/s on 1 and 2 threads, keyed by shape. */
function torchFigures(): Map<string, Record<string, number>> {
  const figures = new Map<string, Record<string, number>>();
  const run = spawnSync('/usr/bin/python3', ['bench/torch_peer.py', '--matmul-only', ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
  if (run.status !== 0) {
    notes.push(`torch: bench/torch_peer.py failed (${(run.stderr || run.error?.message || '').trim().split('\n').pop()})`);
    return figures;
  }
  const report = JSON.parse(run.stdout) as { versions: Record<string, string>; matmul: { shape: number[]; transA: boolean; transB: boolean; threads: number; gflops: number }[] };
  Object.assign(versions, report.versions);
  for (const r of report.matmul) {
    const key = caseName({ m: r.shape[0]!, k: r.shape[1]!, n: r.shape[2]!, transA: r.transA, transB: r.transB });
    figures.set(key, { ...figures.get(key), [`torch ${r.threads} thread${r.threads > 1 ? 's' : ''}`]: r.gflops });
  }
  return figures;
}

function caseName(c: Case): string {
  const left = c.transA ? `(${c.k}x${c.m})T` : `${c.m}x${c.k}`;
  const right = c.transB ? `(${c.n}x${c.k})T` : `${c.k}x${c.n}`;
  return `${left} * ${right}`;
}

// ---- the run ---------------------------------------------------------------

engines.push(...(await tfjsEngines()), ...(await gpuJsEngines()));
const torch = args.includes('--torch') ? torchFigures() : new Map<string, Record<string, number>>();

const rng = new Rng(0);
const random = (count: number) => Float32Array.from({ length: count }, () => rng.normal());
const rows: Row[] = [];
for (const c of cases) {
  const a = random(c.m * c.k);
  const bm = random(c.k * c.n);
  const flops = 2 * c.m * c.k * c.n;
  const big = flops > 1e9;
  const options = { minSamples: big ? 2 : 5, maxTime: big ? 3 : 1.5 };
  const row: Row = { name: caseName(c), shape: [c.m, c.k, c.n] };
  const runnable = engines.flatMap((engine) => {
    if (flops > engine.limit) return [];
    const fn = engine.prepare(a, bm, c);
    return fn ? [b.add(engine.name, fn, options)] : [];
  });
  await b.suite(
    row.name,
    ...runnable,
    b.cycle(() => undefined),
    b.complete((summary) => {
      // The best sample (seconds per call), not the mean: other processes on a 2-core machine only ever slow a sample down.
      for (const r of summary.results) row[r.name] = flops / r.details.min / 1e9;
    }),
  );
  Object.assign(row, torch.get(row.name));
  rows.push(row);
}
engines.forEach((e) => e.dispose?.());

// Ratios: ours against each peer, and whether the second core pays.
const ratio = (row: Row, ours: string, theirs: string) => (typeof row[ours] === 'number' && typeof row[theirs] === 'number' ? (row[ours] as number) / (row[theirs] as number) : null);
const ratios: Row[] = rows.map((row) => {
  const out: Row = { name: row.name };
  out['js: 2 cores / 1'] = ratio(row, 'js 2 cores', 'js 1 core');
  out['wasm: 2 cores / 1'] = ratio(row, 'wasm 2 cores', 'wasm 1 core');
  for (const peer of ['naive', 'tfjs-cpu', 'tfjs-wasm', 'gpu.js cpu', 'gpu.js gpu', 'torch 1 thread']) {
    if (typeof row[peer] === 'number') out[`wasm 1 core / ${peer}`] = ratio(row, 'wasm 1 core', peer);
  }
  if (typeof row['torch 2 threads'] === 'number') out['wasm 2 cores / torch 2 threads'] = ratio(row, 'wasm 2 cores', 'torch 2 threads');
  return out;
});

printTable('CPU matmul, fp32 (GFLOP/s)', rows);
printTable('Ratios (medner / peer; 2 cores / 1 core: above 1 means the second core pays)', ratios);
for (const note of notes) console.log(`note: ${note}`);
writeJson(outPath, { benchmark: 'matmul', backend: 'cpu', machine: machine(), versions, notes, date: new Date().toISOString(), results: rows, ratios });
process.exit(0);
