// What `medner bench` runs (the command is in bench.ts): a short benchmark any user
// can run on their machine (GPU included) in under two minutes: matmul GFLOP/s, softmax and layer_norm GB/s,
// and training steps and inference of the BiLSTM-CRF and a small
// BERT-BiLSTM-CRF on synthetic batches, each with its peak resident memory.
// The full suites with peers side by side are in bench/.

import { cpus, totalmem, platform, arch } from 'node:os';
import type { Backend } from '../backend/backend.js';
import { tidy } from '../tensor/scope.js';
import { randn } from '../tensor/tensor.js';
import { Rng, manualSeed } from '../tensor/random.js';
import * as ops from '../ops/index.js';
import { noGrad } from '../autograd/grad-mode.js';
import { defaultsFor, resolveConfig, type ModelKind, type TrainConfig } from '../train/config.js';
import { createModel, scratchEncoderConfig, type ModelVocabulary } from '../train/model-factory.js';
import { Vocabulary } from '../train/vocab.js';
import { WordPieceTokenizer } from '../text/wordpiece.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip.js';
import { disposeBatch } from '../models/batch.js';

export interface BenchResult {
  name: string;
  [field: string]: unknown;
}

/** Median wall time of `run` over `repeats` after one warm-up, awaiting a readback so GPU work is included. */
async function time(run: () => Promise<void>, repeats: number): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

async function benchMatmul(backend: Backend, n: number): Promise<BenchResult> {
  const a = randn([n, n], { backend });
  const b = randn([n, n], { backend });
  const ms = await time(async () => {
    const c = ops.matmul(a, b);
    await c.data();
    c.dispose();
  }, 3);
  a.dispose();
  b.dispose();
  return { name: 'matmul', shape: [n, n, n], gflops: round((2 * n ** 3) / ms / 1e6), ms: round(ms) };
}

async function benchRowOp(backend: Backend, name: 'softmax' | 'layer_norm', rows: number, dim: number): Promise<BenchResult> {
  const x = randn([rows, dim], { backend });
  const gamma = randn([dim], { backend });
  const beta = randn([dim], { backend });
  const ms = await time(async () => {
    const y = name === 'softmax' ? ops.softmax(x, -1) : ops.layerNorm(x, gamma, beta);
    await y.data();
    y.dispose();
  }, 5);
  for (const t of [x, gamma, beta]) t.dispose();
  // Bytes moved: read x once, write y once.
  return { name, shape: [rows, dim], gbps: round((2 * rows * dim * 4) / ms / 1e6), ms: round(ms) };
}

/** Synthetic sentences of random words over a fixed vocabulary, every tag sequence valid BIO. */
function syntheticSentences(count: number, length: number, rng: Rng): { tokens: string[]; tags: string[] }[] {
  const labels = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];
  return Array.from({ length: count }, () => {
    const tokens = Array.from({ length }, () => `w${Math.floor(rng.next() * 5000)}`);
    const tags: string[] = [];
    for (let i = 0; i < length; i++) {
      const r = rng.next();
      const prev = tags[i - 1] ?? 'O';
      tags.push(r < 0.8 ? 'O' : r < 0.9 ? labels[1 + 2 * Math.floor(rng.next() * 2)]! : prev === 'O' ? 'B-Disease' : `I-${prev.slice(2)}`);
    }
    return { tokens, tags };
  });
}

async function benchModel(backend: Backend, kind: ModelKind, settings: Partial<TrainConfig>, batch: number, length: number, steps: number): Promise<BenchResult[]> {
  manualSeed(0);
  const rng = new Rng(0);
  const config = resolveConfig({ ...settings, model: kind }, 'bench', defaultsFor(kind));
  const words = new Vocabulary(['<pad>', '<unk>', ...Array.from({ length: 5000 }, (_, i) => `w${i}`)]);
  const vocabulary: ModelVocabulary =
    kind === 'bilstm-crf'
      ? { kind: 'words', words, chars: config.charFeatures === 'cnn' ? new Vocabulary(['<pad>', '<unk>', 'w', ...'0123456789']) : null }
      : { kind: 'subwords', tokenizer: WordPieceTokenizer.fromVocabText(['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...words.tokens.slice(2)].join('\n'), { lowercase: false }) };
  const labels = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];
  const bert = kind === 'bilstm-crf' ? null : scratchEncoderConfig(config, 5004);
  const { model, encoder } = createModel(config, vocabulary, labels, bert);
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3 });
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const sentences = syntheticSentences(batch, length, rng);
  const modelConfig = kind === 'bilstm-crf'
    ? { wordDim: config.wordDim, lstmHidden: config.lstmHidden, charFeatures: config.charFeatures }
    : { layers: config.bertLayers, hidden: config.bertHidden, heads: config.bertHeads, intermediate: config.bertIntermediate, lstmHidden: kind === 'bert-bilstm-crf' ? config.lstmHidden : 0 };
  peakRss = 0;
  const trainMs = await time(async () => {
    const loss = tidy(() => {
      const { batch: b } = encoder.encode(sentences, labelIndex, backend);
      const l = model.loss(b);
      l.backward();
      clipGradNorm(model.namedParameters(), 5);
      optimizer.step();
      return l;
    });
    optimizer.zeroGrad();
    await loss.data();
    loss.dispose();
    sampleRss();
  }, steps);
  const trainPeak = peakRss;
  model.eval();
  const inferMs = await time(async () => {
    const encoded = tidy(() => encoder.encode(sentences, null, backend));
    await noGrad(() => model.predict(encoded.batch));
    disposeBatch(encoded.batch);
    sampleRss();
  }, steps);
  model.dispose();
  optimizer.dispose();
  const tokens = batch * length;
  return [
    { name: 'train_step', model: kind, config: { ...modelConfig, batch, tokens: length }, ms: round(trainMs), tokens_per_s: Math.round((tokens / trainMs) * 1000), peak_mb: Math.round(trainPeak / 2 ** 20) },
    { name: 'inference', model: kind, config: { ...modelConfig, batch, tokens: length }, ms: round(inferMs), sentences_per_s: Math.round((batch / inferMs) * 1000), peak_mb: Math.round(peakRss / 2 ** 20) },
  ];
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The default suite, sized for a laptop; 'gpu' is sized for a discrete GPU (bench/gpu/ runs it). */
export type BenchSuite = 'default' | 'gpu';

/**
 * The GPU suite: matmul 1024-8192 and training steps at batch 32 x 128 words of the
 * BiLSTM-CRF and BERT-BiLSTM-CRF (2,128), (4,256), (12,768), as bench/torch_models.py
 * --suite gpu runs them in PyTorch. --quick shrinks it to toy sizes (software adapters).
 */
async function runGpuSuite(backend: Backend, add: (r: BenchResult | BenchResult[]) => void, quick: boolean): Promise<void> {
  for (const n of quick ? [128, 256] : [1024, 2048, 4096, 8192]) add(await benchMatmul(backend, n));
  const [batch, words, steps] = quick ? [4, 16, 1] : [32, 128, 3];
  add(await benchRowOp(backend, 'softmax', batch * words, 768));
  add(await benchRowOp(backend, 'layer_norm', batch * words, 768));
  add(await benchModel(backend, 'bilstm-crf', { wordDim: 100, lstmHidden: 100, charFeatures: 'none' }, batch, words, steps));
  for (const [layers, hidden] of quick ? [[1, 64]] : [[2, 128], [4, 256], [12, 768]]) {
    const settings = { bertLayers: layers, bertHidden: hidden, bertHeads: Math.max(2, hidden / 64), bertIntermediate: 4 * hidden, lstmHidden: 64 };
    add(await benchModel(backend, 'bert-bilstm-crf', settings, batch, words, steps));
  }
}

export async function runBench(backend: Backend, log: (line: string) => void, quick = false, suite: BenchSuite = 'default'): Promise<{ machine: object; backend: string; adapter: object | null; kernels: string | null; suite: BenchSuite; results: BenchResult[] }> {
  const results: BenchResult[] = [];
  const add = (r: BenchResult | BenchResult[]) => {
    for (const x of Array.isArray(r) ? r : [r]) {
      results.push(x);
      log(`${x.name.padEnd(11)} ${JSON.stringify(Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'name')))}`);
    }
  };
  if (suite === 'gpu') {
    await runGpuSuite(backend, add, quick);
  } else {
    // --quick: the same cases at toy sizes, to check the command works (used by the tests).
    const [rows, length, steps] = quick ? [64, 8, 1] : [2048, 64, 3];
    for (const n of quick ? [64] : [256, 512, 1024]) add(await benchMatmul(backend, n));
    add(await benchRowOp(backend, 'softmax', rows, 768));
    add(await benchRowOp(backend, 'layer_norm', rows, 768));
    add(await benchModel(backend, 'bilstm-crf', quick ? { wordDim: 16, lstmHidden: 16, charFeatures: 'none' } : { wordDim: 100, lstmHidden: 100, charFeatures: 'none' }, 16, length, steps));
    add(await benchModel(backend, 'bert-bilstm-crf', quick ? { bertLayers: 1, bertHidden: 32, bertHeads: 2, bertIntermediate: 64, lstmHidden: 16 } : { bertLayers: 2, bertHidden: 128, bertHeads: 2, bertIntermediate: 512, lstmHidden: 64 }, 16, length, steps));
  }
  const adapter = (backend as { adapter?: object }).adapter ?? null;
  return {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()}-${arch()}`, node: process.version },
    backend: backend.name,
    adapter,
    kernels: (backend as { variants?: { profile: string } }).variants?.profile ?? null,
    suite,
    results,
  };
}
