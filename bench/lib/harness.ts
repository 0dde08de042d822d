// Shared by kernels, layers, end-to-end and the tfjs peer bench: backend selection
// (CPU or WebGPU, with the adapter named), wall-clock timing that waits for the GPU,
// versions for the JSON record, and running one case in a child process (so each
// case's peak RSS is its own and a crash in one engine does not lose the others).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { useBackend } from '../../src/backend/registry.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/index.js';
import type { Backend } from '../../src/backend/backend.js';

export const args = process.argv.slice(2);
export const option = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
export const flag = (name: string): boolean => args.includes(name);

export interface OpenedBackend {
  backend: Backend;
  /** 'cpu', or the WebGPU adapter's vendor and description (llvmpipe here). */
  adapter: string;
  adapterInfo: object | null;
  /** Kernel dispatches and readbacks so far (0 on CPU): llvmpipe's cost is per dispatch. */
  counters(): { dispatches: number; readbacks: number };
}

/** The named backend (or MEDNER_BACKEND, or cpu: the library's one rule), made the default for new tensors. */
export async function openBackend(name?: string): Promise<OpenedBackend> {
  const backend = await useBackend(name, 'the bench backend');
  if (backend.name === 'cpu') return { backend, adapter: 'cpu', adapterInfo: null, counters: () => ({ dispatches: 0, readbacks: 0 }) };
  const gpu = backend as WebGpuBackend;
  return {
    backend: gpu,
    adapter: `${gpu.adapter.vendor} ${gpu.adapter.description}`.trim() || gpu.adapter.backend,
    adapterInfo: gpu.adapter,
    counters: () => ({ dispatches: gpu.runtime.dispatches, readbacks: gpu.runtime.readbacks }),
  };
}

export interface Timing {
  /** Median ms of the timed runs. */
  ms: number;
  /** Best ms: on a shared 2-core machine other load only ever slows a run down. */
  best: number;
  runs: number;
}

/**
 * Time an async step: `warmup` untimed calls (pipelines compile, pools and the JIT
 * settle), then at least `minRuns` and at most `maxRuns`, until `budgetMs` is spent.
 * The step must await its own readback so GPU work is inside the measurement.
 */
export async function timeSteps(step: () => Promise<unknown>, { warmup = 1, minRuns = 3, maxRuns = 50, budgetMs = 3000 } = {}): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await step();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < minRuns || (samples.length < maxRuns && performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)]!, best: sorted[0]!, runs: samples.length };
}

export const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024;

const packageJson = (path: string): { version?: string } | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }) : null);

/** medner's, Node's and (where installed) the webgpu package's versions. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const own = packageJson(resolve('package.json'));
  if (own?.version) out.medner = own.version;
  const dawn = packageJson(resolve('node_modules/webgpu/package.json'));
  if (dawn?.version) out.webgpu = dawn.version;
  return out;
}

/**
 * Run this script again as `node --import tsx <script> ...childArgs` and return the
 * object it prints on a `RESULT {...}` line. `node --import tsx` rather than the
 * parent's execArgv: a child started with tsx's preflight hook waited forever
 * (bench/train-step.bench.ts found this).
 */
export function runChild<T>(script: string, childArgs: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): T {
  const output = execFileSync(process.execPath, ['--import', 'tsx', script, ...childArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: timeoutMs,
    env: { ...process.env, ...env },
  });
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line from ${childArgs.join(' ')}:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** Print the RESULT line a parent's runChild reads. */
export function emitResult(value: unknown): void {
  console.log(`RESULT ${JSON.stringify(value)}`);
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
