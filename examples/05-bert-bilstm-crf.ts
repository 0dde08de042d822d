// Example 5 — a small BERT-BiLSTM-CRF on BC5CDR (chemicals and diseases), on the GPU
// when there is one. WebGPU runs every op as a WGSL kernel (kernels/*.wgsl); on a
// machine without a GPU, Dawn runs the same kernels on Mesa's llvmpipe (slow but
// real, about 5x slower than the CPU backend); with no WebGPU at all, the CPU backend runs. The BERT here is
// trained from scratch and tiny, so expect a low F1: the point is the whole model
// (WordPiece -> BERT -> first-subword pooling -> BiLSTM -> CRF) running end to end.
// Run: npx tsx examples/05-bert-bilstm-crf.ts [--sentences 150] [--epochs 5] [--backend webgpu|cpu]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBackend, setBackend, type Backend } from '../src/index.js';
import { parseConll, formatConll } from '../src/data/conll.js';
import { resolveConfig, defaultsFor } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';

const { values: args } = parseArgs({
  options: {
    sentences: { type: 'string', default: '150' }, // training sentences; dev gets a quarter as many
    epochs: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'webgpu' },
  },
});

// Pick the backend: WebGPU if an adapter can be found, else the CPU.
async function chooseBackend(wanted: string): Promise<{ backend: Backend; description: string }> {
  if (wanted === 'webgpu') {
    try {
      const { createWebGpuBackend } = await import('../src/backend/webgpu/index.js');
      const webgpu = await createWebGpuBackend();
      const { description, backend, fallback } = webgpu.adapter;
      return { backend: webgpu, description: `${description} (${backend}${fallback ? ', software fallback' : ''})` };
    } catch (error) {
      console.log(`no WebGPU adapter (${(error as Error).message.split('\n')[0]}); using the CPU`);
    }
  }
  return { backend: cpuBackend, description: 'TypeScript kernels (src/backend/cpu)' };
}
const { backend, description } = await chooseBackend(args.backend);
setBackend(backend);
console.log(`backend: ${backend.name} — ${description}`);

// The bundled BC5CDR slice (src/data/sample/README.md): take the first sentences of train and dev.
const sample = (split: string, count: number) =>
  parseConll(readFileSync(new URL(`../src/data/sample/bc5cdr-${split}.tsv`, import.meta.url), 'utf8'), {}, `bc5cdr-${split}.tsv`).slice(0, count);
const trainCount = Number(args.sentences);
const work = mkdtempSync(join(tmpdir(), 'medner-example-05-'));
writeFileSync(join(work, 'train.tsv'), formatConll(sample('train', trainCount)));
writeFileSync(join(work, 'dev.tsv'), formatConll(sample('dev', Math.max(4, Math.round(trainCount / 4)))));

// A 1-layer, 64-wide BERT trained from scratch (its WordPiece vocabulary is built from the
// training words); `medner train --pretrained <dir>` would load a real BioBERT instead.
// No dropout and a large step: with a few hundred steps at most, regularising only slows it down.
const config = resolveConfig(
  { epochs: Number(args.epochs), batchSize: 16, bertLayers: 1, bertHidden: 64, bertHeads: 2, bertIntermediate: 128, lstmHidden: 64, maxLength: 96, lr: 5e-3, warmup: 0.05, dropout: 0, patience: 20 },
  'example 05',
  defaultsFor('bert-bilstm-crf'),
);
const started = performance.now();
const result = await train({
  config,
  train: join(work, 'train.tsv'),
  dev: join(work, 'dev.tsv'),
  out: join(work, 'run'),
  backend,
  progress: false,
  log: (line) => console.log(`  ${line}`),
});
console.log(`best dev F1 ${result.bestDevF1?.toFixed(4)} (epoch ${result.bestEpoch}) on ${backend.name}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
rmSync(work, { recursive: true, force: true });
