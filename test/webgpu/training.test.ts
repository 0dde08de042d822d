// Training on WebGPU (issues 3 item 4, 4 item 7 and 6): the real models, batches from the real
// encoder (src/train/encode.ts) and the trainer's step (loss, backward, clipping, AdamW) on
// WebGPU follow the CPU run of the same seed step by step; ten steps of a real model leak no
// buffer and read back nothing but the loss; `medner train/eval/predict --backend webgpu`
// runs end to end. Shapes are tiny: llvmpipe runs every kernel on the CPU.

import { disposeBatch } from '../../src/models/batch.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { manualSeed } from '../../src/tensor/random.js';
import { parseConll } from '../../src/data/conll.js';
import { AdamW } from '../../src/optim/adamw.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { DEFAULTS, type TrainConfig } from '../../src/train/config.js';
import { createModel, scratchEncoderConfig, type ModelVocabulary, type NerModel } from '../../src/train/model-factory.js';
import { buildCharVocabulary, buildLabelList, buildWordVocabulary } from '../../src/train/vocab.js';
import type { SentenceEncoder } from '../../src/train/encode.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/index.js';
import { webgpu } from './setup.js';
import { trainingStep } from '../../src/train/step.js';

const CORPUS = 'test/fixtures/data/ncbi-disease/sample.iob.tsv';
// The eight shortest sentences that hold an entity: short, so an LSTM pass is few dispatches.
const sentences = parseConll(readFileSync(CORPUS, 'utf8'))
  .filter((s) => s.tags.some((t) => t !== 'O'))
  .sort((a, b) => a.tokens.length - b.tokens.length)
  .slice(0, 8);
const labels = buildLabelList(sentences);
const labelIndex = new Map(labels.map((l, i) => [l, i]));

const base: TrainConfig = { ...DEFAULTS, seed: 3, lr: 5e-3, clip: 1, dropout: 0.1, bertDropout: 0.1, wordDim: 16, charDim: 8, charFilters: 8, lstmHidden: 8, bertLayers: 2, bertHidden: 16, bertHeads: 2, bertIntermediate: 32 };

function vocabularyFor(kind: TrainConfig['model']): ModelVocabulary {
  if (kind.startsWith('bilstm-')) return { kind: 'words', words: buildWordVocabulary(sentences, 1, false), chars: buildCharVocabulary(sentences) };
  const words = [...new Set(sentences.flatMap((s) => s.tokens.map((w) => w.toLowerCase())))];
  const chars = [...new Set(words.flatMap((w) => [...w]))];
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...chars, ...chars.map((c) => `##${c}`), ...words];
  return { kind: 'subwords', tokenizer: WordPieceTokenizer.fromVocabText([...new Set(vocab)].join('\n') + '\n', { lowercase: true }) };
}

/** A model built on `backend` from the seed, with the trainer's optimizer and one training step. */
function setup(kind: TrainConfig['model'], backend: Backend) {
  setBackend(backend);
  const config: TrainConfig = { ...base, model: kind };
  manualSeed(config.seed);
  const vocabulary = vocabularyFor(kind);
  const bert = vocabulary.kind === 'subwords' ? scratchEncoderConfig(config, vocabulary.tokenizer.idToToken.length) : null;
  const { model, encoder } = createModel(config, vocabulary, labels, bert);
  model.train();
  const named = model.namedParameters();
  const optimizer = new AdamW(
    [
      ...(named.some(([n]) => n.startsWith('bert.')) ? [{ name: 'encoder', params: named.filter(([n]) => n.startsWith('bert.')), lr: config.lr }] : []),
      { name: 'head', params: named.filter(([n]) => !n.startsWith('bert.')), lr: config.lr },
    ],
    { lr: config.lr, weightDecay: config.weightDecay },
  );
  // src/train/step.ts: the trainer's step (encode, loss, backward, clip, AdamW; the loss is the one readback).
  const context = { model, encoder, labelIndex, backend, params: named, optimizer, clip: config.clip };
  const step = () => trainingStep(context, sentences);
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
  };
  return { model: model as NerModel, encoder: encoder as SentenceEncoder, step, dispose };
}

async function losses(kind: TrainConfig['model'], backend: Backend, steps: number): Promise<{ losses: number[]; paths: number[][] }> {
  const run = setup(kind, backend);
  const values: number[] = [];
  for (let i = 0; i < steps; i++) values.push(await run.step());
  run.model.eval();
  const encoded = run.encoder.encode(sentences, null, backend);
  const paths = await run.model.predict(encoded.batch);
  disposeBatch(encoded.batch);
  run.dispose();
  return { losses: values, paths };
}

describe('training on WebGPU', () => {
  afterAll(() => setBackend(cpuBackend));

  // Same seed: same initial weights and dropout masks (a counter-based hash on both backends),
  // so the two runs differ only by float rounding, which the steps carry forward.
  it.each([
    ['bilstm-crf', 6],
    ['bert-bilstm-crf', 4],
    // The semi-Markov CRF (kernels/semi_crf_*.wgsl) under both encoders.
    ['bilstm-semicrf', 4],
    ['bert-semicrf', 3],
  ] as const)('%s: %i steps on WebGPU follow the CPU run of the same seed', async (kind, steps) => {
    const gpu = await webgpu();
    const cpu = await losses(kind, cpuBackend, steps);
    const onGpu = await losses(kind, gpu, steps);
    console.log(`${kind} losses\n  cpu    ${cpu.losses.map((l) => l.toFixed(5)).join(' ')}\n  webgpu ${onGpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
    expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0]!);
    cpu.losses.forEach((expected, i) => expect(Math.abs(onGpu.losses[i]! - expected) / Math.abs(expected), `step ${i + 1}: ${onGpu.losses[i]} vs ${expected}`).toBeLessThan(1e-4));
    expect(onGpu.paths.map((p) => p.length)).toEqual(sentences.map((s) => s.tokens.length));
    // The semi-Markov models really are: their CRF has length scores.
    if (kind.endsWith('semicrf')) {
      const probe = setup(kind, cpuBackend);
      expect(probe.model.namedParameters().map(([n]) => n)).toContain('crf.length_scores');
      probe.dispose();
    }
  });

  it('10 training steps of a BiLSTM-CRF leak no buffer and read back only the loss', async () => {
    const gpu: WebGpuBackend = await webgpu();
    const start = gpu.liveBuffers();
    const run = setup('bilstm-crf', gpu);
    let afterFirst = -1;
    for (let i = 1; i <= 10; i++) {
      const reads = gpu.runtime.readbacks;
      await run.step();
      expect(gpu.runtime.readbacks - reads, `readbacks in step ${i}`).toBe(1);
      // Step 1 creates the AdamW moments; from then on every step ends where the last one did.
      if (i === 1) afterFirst = gpu.liveBuffers();
      else expect(gpu.liveBuffers(), `live buffers after step ${i}`).toBe(afterFirst);
    }
    run.dispose();
    expect(gpu.liveBuffers()).toBe(start);
  });
});

// training-gpu-kernels.test.ts re-runs this file with the GPU kernel set; the CLI runs need not repeat there.
const cliRuns = process.env.MEDNER_WEBGPU_KERNELS === 'gpu' ? describe.skip : describe;
cliRuns('medner CLI with --backend webgpu', () => {
  const cli = (args: string[], input?: string) => execFileSync(process.execPath, ['src/cli/bin.js', ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

  it.each(['bilstm-crf', 'bert-bilstm-crf'])('%s: train, eval and predict', (kind) => {
    const dir = mkdtempSync(join(tmpdir(), 'medner-webgpu-'));
    const data = join(dir, 'small.tsv');
    writeFileSync(data, sentences.map((s) => s.tokens.map((w, i) => `${w}\t${s.tags[i]}`).join('\n')).join('\n\n') + '\n');
    const config = join(dir, 'tiny.json');
    const { wordDim, charDim, charFilters, lstmHidden, bertLayers, bertHidden, bertHeads, bertIntermediate } = base;
    writeFileSync(config, JSON.stringify({ wordDim, charDim, charFilters, lstmHidden, bertLayers, bertHidden, bertHeads, bertIntermediate, batchSize: 4 }));
    const out = join(dir, 'run');
    const log = cli(['train', '--backend', 'webgpu', '--model', kind, '--train', data, '--dev', data, '--epochs', '1', '--no-progress', '--config', config, '--out', out]);
    expect(log).toMatch(/backend webgpu/);
    expect(log).toMatch(/epoch 1: train loss \d/);
    const scores = JSON.parse(cli(['eval', '--backend', 'webgpu', '--model', out, '--data', data, '--json']));
    expect(scores.per_type.Disease.support).toBeGreaterThan(0);
    const text = 'Ovarian cancer is rarer.';
    const [line] = cli(['predict', '--backend', 'webgpu', '--model', out, '--input', '-'], text + '\n').trim().split('\n');
    const predicted = JSON.parse(line!);
    expect(predicted.text).toBe(text);
    for (const e of predicted.entities) expect(text.slice(e.start, e.end)).toBe(e.text);
  });
});
