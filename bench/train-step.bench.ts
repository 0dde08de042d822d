// One training step of the NER models, CPU vs WebGPU: ms/step, tokens/s and peak RSS.
// A step is what `medner train` runs per batch (src/train/trainer.ts): encode the batch,
// loss, backward, global-norm clipping, AdamW, and the one readback (the loss).
// Batch: 16 sentences x 64 words of synthetic text (so no data path is needed), every word
// one WordPiece subword ([CLS] 64 words [SEP] = 66 subwords). Models at the CLI defaults:
// BiLSTM-CRF (word 64 + char-CNN 32, BiLSTM 64 per direction) and BERT-BiLSTM-CRF
// (2 layers, hidden 128, 2 heads, intermediate 512, BiLSTM 64 per direction).
// Each (model, backend) runs in its own process, so peak RSS is that run's alone.
//
// Usage: npx tsx bench/train-step.bench.ts [--out bench-results/train-step.json]
//          [--steps N] [--models bilstm-crf,bert-bilstm-crf] [--backends cpu,webgpu]

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuBackend, setBackend } from '../src/backend/registry.js';
import type { Backend } from '../src/backend/backend.js';
import { Rng, manualSeed } from '../src/tensor/random.js';
import { AdamW } from '../src/optim/adamw.js';
import { WordPieceTokenizer } from '../src/text/wordpiece.js';
import { DEFAULTS, MODEL_DEFAULTS, type ModelKind, type TrainConfig } from '../src/train/config.js';
import { createModel, scratchEncoderConfig, type ModelVocabulary } from '../src/train/model-factory.js';
import { buildCharVocabulary, buildWordVocabulary } from '../src/train/vocab.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';
import { trainingStep } from '../src/train/step.js';

const BATCH = 16;
const WORDS = 64;
const LABELS = ['O', 'B-Disease', 'I-Disease'];

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);

/** 16 sentences of 64 made-up lowercase words, with valid BIO spans (the CRF trains under BIO constraints). */
function syntheticSentences(rng: Rng) {
  const lexicon = Array.from({ length: 500 }, () => Array.from({ length: 3 + Math.floor(rng.next() * 8) }, () => String.fromCharCode(97 + Math.floor(rng.next() * 26))).join(''));
  return Array.from({ length: BATCH }, () => {
    const tokens = Array.from({ length: WORDS }, () => lexicon[Math.floor(rng.next() * lexicon.length)]!);
    const tags: string[] = [];
    for (let t = 0; t < WORDS; t++) tags.push(rng.next() < 0.1 ? 'B-Disease' : tags[t - 1] !== 'O' && t > 0 && rng.next() < 0.5 ? 'I-Disease' : 'O');
    return { tokens, tags };
  });
}

/** One (model, backend) measurement, in this process. */
async function measure(kind: ModelKind, backendName: string, steps: number): Promise<Row> {
  let backend: Backend = cpuBackend;
  let adapter = 'cpu';
  // Kernel dispatches and readbacks per step (WebGPU): the per-dispatch cost dominates on llvmpipe.
  let counters: () => { dispatches: number; readbacks: number } = () => ({ dispatches: 0, readbacks: 0 });
  if (backendName === 'webgpu') {
    const { createWebGpuBackend } = await import('../src/backend/webgpu/index.js');
    const gpu = await createWebGpuBackend();
    adapter = `${gpu.adapter.vendor} ${gpu.adapter.description}`.trim();
    backend = gpu;
    counters = () => ({ dispatches: gpu.runtime.dispatches, readbacks: gpu.runtime.readbacks });
  }
  setBackend(backend);
  const config: TrainConfig = { ...DEFAULTS, ...MODEL_DEFAULTS[kind], model: kind, lowercase: true };
  manualSeed(config.seed);
  const sentences = syntheticSentences(new Rng(1));
  let vocabulary: ModelVocabulary;
  let bert = null;
  if (kind === 'bilstm-crf') {
    vocabulary = { kind: 'words', words: buildWordVocabulary(sentences, 1, true), chars: buildCharVocabulary(sentences) };
  } else {
    const words = [...new Set(sentences.flatMap((s) => s.tokens))];
    const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
    const tokenizer = WordPieceTokenizer.fromVocabText([...['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], ...letters, ...letters.map((c) => `##${c}`), ...words].join('\n') + '\n', { lowercase: true });
    vocabulary = { kind: 'subwords', tokenizer };
    bert = scratchEncoderConfig(config, tokenizer.idToToken.length);
  }
  const { model, encoder } = createModel(config, vocabulary, LABELS, bert);
  model.train();
  const named = model.namedParameters();
  const encoderParams = named.filter(([n]) => n.startsWith('bert.'));
  const headParams = named.filter(([n]) => !n.startsWith('bert.'));
  const optimizer = new AdamW([...(encoderParams.length ? [{ name: 'encoder', params: encoderParams, lr: config.lr }] : []), { name: 'head', params: headParams, lr: config.lr }], { lr: config.lr, weightDecay: config.weightDecay });
  const labelIndex = new Map(LABELS.map((l, i) => [l, i]));

  const context = { model, encoder, labelIndex, backend, params: named, optimizer, clip: config.clip };
  const step = () => trainingStep(context, sentences);

  // Two warm-up steps: pipelines compile, the buffer pool and the JIT settle.
  await step();
  await step();
  const before = counters();
  const started = performance.now();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await step());
  const msPerStep = (performance.now() - started) / steps;
  const after = counters();
  const parameters = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  return {
    name: `${kind} on ${backendName}`,
    model: kind,
    backend: backendName,
    adapter,
    parameters,
    steps,
    'ms/step': msPerStep,
    'tokens/s': (BATCH * WORDS * 1000) / msPerStep,
    'peak RSS MB': process.resourceUsage().maxRSS / 1024,
    ...(backendName === 'webgpu' ? { 'dispatches/step': (after.dispatches - before.dispatches) / steps, 'readbacks/step': (after.readbacks - before.readbacks) / steps } : {}),
    'first loss': losses[0]!,
    'last loss': losses.at(-1)!,
  };
}

if (args.includes('--one')) {
  const [kind, backendName] = option('--one', '').split(':') as [ModelKind, string];
  const row = await measure(kind, backendName, Number(option('--steps', '5')));
  console.log(`RESULT ${JSON.stringify(row)}`);
  process.exit(0);
}

const models = option('--models', 'bilstm-crf,bert-bilstm-crf').split(',');
const backends = option('--backends', 'cpu,webgpu').split(',');
const rows: Row[] = [];
for (const kind of models) {
  for (const backendName of backends) {
    // llvmpipe steps are slow: fewer of them unless asked.
    const steps = option('--steps', backendName === 'webgpu' ? '5' : '10');
    // `node --import tsx`, not the parent's execArgv: a child started with tsx's preflight hook waited forever.
    const output = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', `${kind}:${backendName}`, '--steps', steps], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
    const line = output.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`no result from ${kind} on ${backendName}:\n${output}`);
    const row = JSON.parse(line.slice('RESULT '.length)) as Row;
    console.log(`${row.name}: ${(row['ms/step'] as number).toFixed(1)} ms/step, ${Math.round(row['tokens/s'] as number)} tokens/s, peak RSS ${Math.round(row['peak RSS MB'] as number)} MB`);
    rows.push(row);
  }
}
printTable(`One training step, batch ${BATCH} x ${WORDS} words (encode, loss, backward, clip, AdamW, loss readback)`, rows.map(({ adapter: _adapter, ...r }) => r));
writeJson(option('--out', 'bench-results/train-step.json'), { benchmark: 'train-step', batch: BATCH, words: WORDS, machine: machine(), date: new Date().toISOString(), results: rows });
process.exit(0);
