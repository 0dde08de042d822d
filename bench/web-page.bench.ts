// Steps/s of the teaching page's training run (examples/web): the default BiLSTM-CRF on the
// bundled BC5CDR sample, batches of 16 sentences, the step `medner train` takes. Four places,
// the same session (examples/web/session.ts), the same seed, so the same batches:
//   - headless Chromium, WebGPU on SwiftShader (--use-webgpu-adapter=swiftshader: WGSL on the CPU)
//   - headless Chromium, CPU backend (WebAssembly SIMD, 2 threads: the page is cross-origin isolated)
//   - Node, CPU backend (the same code, not bundled)
//   - Node, WebGPU through Dawn (OpenGL ES on Mesa llvmpipe on a machine without a GPU)
// and, with --cli-bench, the BiLSTM-CRF line of `medner bench` (synthetic 16 x 64-token batches,
// word 100 / hidden 100, no char-CNN: not the same model, printed for reference).
// The first 3 steps (pipeline compilation, warm-up) are not timed.
//
//   npx tsx bench/web-page.bench.ts [--steps 40] [--runs chromium-webgpu,chromium-cpu,node-cpu,node-webgpu] [--cli-bench] [--json out.json]

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../examples/web/serve.js';
import { TrainingSession } from '../examples/web/session.js';
import { cpuBackend, setBackend } from '../src/backend/registry.js';
import type { Backend } from '../src/backend/backend.js';
import { parseConll } from '../src/data/conll.js';
import { sampleCorpus } from '../src/data/bundled.js';
import { defaultsFor } from '../src/train/config.js';
import { args, flag, option } from './lib/harness.js';

const STEPS = Number(option('--steps', '40'));
const WARMUP = 3;
const CHROMIUM_FLAGS = [
  '--headless=new', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];

interface Row { where: string; backend: string; adapter: string; stepsPerSecond: number; tokensPerSecond: number; steps: number }

/** Steps/s and tokens/s over the timed steps (after the warm-up ones). */
function rate(steps: { seconds: number; tokens: number }[]): { stepsPerSecond: number; tokensPerSecond: number } {
  const timed = steps.slice(WARMUP);
  const seconds = timed.reduce((s, x) => s + x.seconds, 0);
  return { stepsPerSecond: timed.length / seconds, tokensPerSecond: timed.reduce((n, x) => n + x.tokens, 0) / seconds };
}

async function inChromium(backend: 'webgpu' | 'cpu'): Promise<Row> {
  const demo = await startDemoServer({ port: 0 });
  const browser = await chromium.launch({ executablePath: process.env.MEDNER_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${demo.url}?backend=${backend}&epochs=3&steps=${STEPS + WARMUP}&evalEvery=100000&autostart=1`);
    await page.waitForFunction('(() => { const s = window.mednerPage.state; return s.errors.length > 0 || s.done; })()', null, { timeout: 1_800_000, polling: 500 });
    const state = (await page.evaluate('window.mednerPage.state')) as { errors: string[]; label: string; backend: string; losses: { seconds: number; tokens: number }[] };
    if (state.errors.length) throw new Error(`page (${backend}): ${state.errors.join('; ')}`);
    if (state.backend !== backend) throw new Error(`page: asked for ${backend}, got ${state.backend}`);
    return { where: 'Chromium (headless)', backend, adapter: state.label, steps: STEPS, ...rate(state.losses) };
  } finally {
    await browser.close();
    await demo.close();
  }
}

async function inNode(name: 'webgpu' | 'cpu'): Promise<Row> {
  let backend: Backend = cpuBackend;
  let adapter = 'CPU · WebAssembly SIMD';
  if (name === 'webgpu') {
    const { createWebGpuBackend } = await import('../src/backend/webgpu/index.js');
    const gpu = await createWebGpuBackend();
    backend = gpu;
    adapter = `WebGPU · Dawn ${gpu.adapter.backend} · ${gpu.adapter.vendor} ${gpu.adapter.description}`.trim();
  }
  setBackend(backend);
  const train = parseConll(readFileSync(sampleCorpus.train, 'utf8'), {}, sampleCorpus.train);
  const session = new TrainingSession(train, { ...defaultsFor('bilstm-crf'), epochs: 3 }, backend);
  const steps: { seconds: number; tokens: number }[] = [];
  for (let i = 0; i < STEPS + WARMUP; i++) steps.push((await session.step())!);
  session.dispose();
  session.model.dispose();
  setBackend(cpuBackend);
  return { where: 'Node 20', backend: name, adapter, steps: STEPS, ...rate(steps) };
}

const RUNS: Record<string, () => Promise<Row>> = {
  'chromium-webgpu': () => inChromium('webgpu'),
  'chromium-cpu': () => inChromium('cpu'),
  'node-cpu': () => inNode('cpu'),
  'node-webgpu': () => inNode('webgpu'),
};
const rows: Row[] = [];
for (const name of option('--runs', Object.keys(RUNS).join(',')).split(',')) {
  if (!RUNS[name]) throw new Error(`--runs: unknown run ${name} (known: ${Object.keys(RUNS).join(', ')})`);
  const row = await RUNS[name]();
  rows.push(row);
  console.error(`${row.where} ${row.backend}: ${row.stepsPerSecond.toFixed(2)} steps/s`);
}
let cliBench: unknown = null;
if (flag('--cli-bench')) {
  const report = JSON.parse(execFileSync(process.execPath, ['src/cli/bin.js', 'bench', '--json'], { encoding: 'utf8' })) as { results: { name: string; model?: string; ms?: number; tokens_per_s?: number }[] };
  cliBench = report.results.filter((r) => r.model === 'bilstm-crf');
  const step = report.results.find((r) => r.name === 'train_step' && r.model === 'bilstm-crf');
  if (step?.ms) rows.push({ where: '`medner bench` (Node, synthetic)', backend: 'cpu', adapter: 'BiLSTM-CRF 16 x 64 tokens, word 100, hidden 100, no char-CNN', steps: 3, stepsPerSecond: 1000 / step.ms, tokensPerSecond: step.tokens_per_s ?? 0 });
}

console.log(`BiLSTM-CRF training steps on the bundled BC5CDR sample, batch 16 sentences, ${STEPS} timed steps after ${WARMUP} warm-up (${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores)\n`);
console.log('| where | backend | adapter | steps/s | tokens/s |\n| --- | --- | --- | ---: | ---: |');
for (const r of rows) console.log(`| ${r.where} | ${r.backend} | ${r.adapter} | ${r.stepsPerSecond.toFixed(2)} | ${Math.round(r.tokensPerSecond)} |`);
const out = option('--json', '');
if (out) writeFileSync(out, JSON.stringify({ steps: STEPS, warmup: WARMUP, rows, cliBench, args }, null, 2) + '\n');
