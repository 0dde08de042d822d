// End to end: training tokens/s and inference sentences/s of whole NER models, with
// peak resident memory, CPU and WebGPU. A training step is what `medner train` runs per
// batch: encode, loss, backward, global-norm clipping (5), AdamW, one readback (the loss).
// Inference is encode + forward + Viterbi (model.predict) in length-sorted batches.
//
//   bilstm-crf        BC5CDR-like: word 100 (20,000 words), char-CNN (char 30, 30 filters),
//                     BiLSTM 100 per direction, 5 tags (BIO over Chemical, Disease), batch 32;
//                     sentence lengths drawn log-normally around BC5CDR's mean of ~26 words
//                     (the same draw as bench/torch_models.py, so PyTorch sees the same batches);
//                     tokens/s counts real words. Inference: 1,024 sentences in length-sorted
//                     batches of 128, as the PyTorch reference measures its dev set.
//   bert-bilstm-crf   from scratch, (layers, hidden) = (2,128), (4,256), (12,768), heads =
//                     hidden/64 (2 at 128), FFN 4x, vocabulary 28,996 (BERT-base cased size),
//                     BiLSTM 64 per direction, batch 16 x 64 words (every word one WordPiece:
//                     66 subwords with [CLS] and [SEP]); at (12,768) only 2 timed steps.
//
// Each (case, backend) runs in its own child process, so peak RSS (getrusage maxRSS) is that
// case's alone. Real data instead of the synthetic BiLSTM-CRF batches: --data <conll file>
// (e.g. ../shared/data/bc5cdr/iob/train.tsv; inference on --dev <conll> or the same file).
//
// Usage: npx tsx bench/end-to-end.bench.ts [--backends cpu,webgpu]
//          [--cases bilstm-crf,bert-2x128,bert-4x256,bert-12x768] [--quick]
//          [--data train.tsv [--dev devel.tsv]] [--out bench-results/end-to-end.json]
// MEDNER_THREADS=1 keeps the CPU matmul on one core (the PyTorch comparison's setting).

import { disposeBatch } from '../src/models/batch.js';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/backend/backend.js';
import type { Sentence } from '../src/data/types.js';
import { readConllFile } from '../src/data/conll.js';
import { tidy } from '../src/tensor/scope.js';
import { Rng, manualSeed } from '../src/tensor/random.js';
import { noGrad } from '../src/autograd/grad-mode.js';
import { AdamW } from '../src/optim/adamw.js';
import { WordPieceTokenizer } from '../src/text/wordpiece.js';
import { defaultsFor, resolveConfig, type TrainConfig } from '../src/train/config.js';
import { createModel, scratchEncoderConfig, type ModelVocabulary } from '../src/train/model-factory.js';
import { buildCharVocabulary, buildLabelList, buildWordVocabulary } from '../src/train/vocab.js';
import type { SentenceEncoder } from '../src/train/encode.js';
import type { NerModel } from '../src/train/model-factory.js';
import { machine, printTable, writeJson, type Row } from './lib/report.js';
import { args, flag, openBackend, option, peakRssMB, round, runChild, timeSteps, versions, emitResult } from './lib/harness.js';
import { trainingStep } from '../src/train/step.js';

const LABELS = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];
const BERT_VOCAB = 28_996;

interface CaseSpec {
  id: string;
  model: 'bilstm-crf' | 'bert-bilstm-crf';
  settings: Partial<TrainConfig>;
  batch: number;
  /** Timed training steps (after warm-up) and warm-up steps. */
  steps: number;
  warmup: number;
  /** On WebGPU, where a (12,768) step takes minutes on llvmpipe: fewer steps and no warm-up (compiling is seconds of it). */
  gpu?: { steps: number; warmup: number };
}

const bert = (layers: number, hidden: number, steps: number, warmup: number, gpu?: CaseSpec['gpu']): CaseSpec => ({
  id: `bert-${layers}x${hidden}`,
  model: 'bert-bilstm-crf',
  settings: { bertLayers: layers, bertHidden: hidden, bertHeads: Math.max(2, hidden / 64), bertIntermediate: 4 * hidden, lstmHidden: 64, maxLength: 128 },
  batch: 16,
  steps,
  warmup,
  gpu,
});

const CASES: CaseSpec[] = [
  { id: 'bilstm-crf', model: 'bilstm-crf', settings: { wordDim: 100, charFeatures: 'cnn', charDim: 30, charFilters: 30, lstmHidden: 100 }, batch: 32, steps: 20, warmup: 2 },
  bert(2, 128, 5, 1),
  bert(4, 256, 3, 1),
  bert(12, 768, 2, 1, { steps: 1, warmup: 0 }),
];

// ---- the BC5CDR-like sentences: a PRNG and length draw that bench/torch_models.py repeats exactly ----

/** mulberry32: tiny, and written the same way in Python, so both benches draw the same lengths. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sentence lengths: log-normal (mu 3.13, sigma 0.5: mean ~26 words, as BC5CDR), clamped to 3..120. */
export function drawLengths(count: number, seed = 7): number[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const u1 = next() + 1 / 8589934592;
    const u2 = next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.min(120, Math.max(3, Math.round(Math.exp(3.13 + 0.5 * z))));
  });
}

/** Random lowercase words of 3-12 letters, distinct (a Set), from a seeded generator. */
function lexicon(size: number, rng: Rng): string[] {
  const words = new Set<string>();
  while (words.size < size) words.add(Array.from({ length: 3 + Math.floor(rng.next() * 10) }, () => String.fromCharCode(97 + Math.floor(rng.next() * 26))).join(''));
  return [...words];
}

/** Sentences of the given lengths over `words`, with valid BIO tags (~15% of words in entities). */
function sentencesOf(lengths: number[], words: string[], rng: Rng): Sentence[] {
  return lengths.map((length) => {
    const tokens = Array.from({ length }, () => words[Math.floor(rng.next() * words.length)]!);
    const tags: string[] = [];
    for (let t = 0; t < length; t++) {
      const prev = tags[t - 1] ?? 'O';
      const r = rng.next();
      tags.push(prev !== 'O' && r < 0.4 ? `I-${prev.slice(2)}` : r < 0.08 ? 'B-Chemical' : r < 0.14 ? 'B-Disease' : 'O');
    }
    return { tokens, tags };
  });
}

async function readConll(path: string): Promise<Sentence[]> {
  const out: Sentence[] = [];
  for await (const s of readConllFile(path)) out.push(s);
  return out;
}

// ---- one case, in this process ----

async function measure(spec: CaseSpec, backendName: string, quick: boolean): Promise<Row> {
  const opened = await openBackend(backendName);
  const backend: Backend = opened.backend;
  const config = resolveConfig({ ...spec.settings, model: spec.model, lowercase: false }, 'bench', defaultsFor(spec.model));
  manualSeed(config.seed);
  const rng = new Rng(1);
  const dataPath = option('--data', '');
  let train: Sentence[];
  let infer: Sentence[];
  let labels = LABELS;
  let vocabulary: ModelVocabulary;
  let bertConfig = null;
  if (spec.model === 'bilstm-crf') {
    if (dataPath) {
      train = await readConll(dataPath);
      const devPath = option('--dev', '');
      infer = devPath ? await readConll(devPath) : train.slice(0, 1024);
      labels = buildLabelList(train);
      // Batches in a shuffled order, as training draws them.
      for (let i = train.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [train[i], train[j]] = [train[j]!, train[i]!];
      }
    } else {
      const words = lexicon(20_000, rng);
      const needed = (spec.steps + spec.warmup) * spec.batch;
      train = sentencesOf(drawLengths(needed), words, rng);
      infer = sentencesOf(drawLengths(1024, 11), words, rng);
    }
    vocabulary = { kind: 'words', words: buildWordVocabulary(train, 1, false), chars: buildCharVocabulary(train) };
  } else {
    const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
    const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
    const words = lexicon(BERT_VOCAB - specials.length - 2 * letters.length, rng);
    const tokenizer = WordPieceTokenizer.fromVocabText([...specials, ...letters, ...letters.map((c) => `##${c}`), ...words].join('\n') + '\n', { lowercase: false });
    vocabulary = { kind: 'subwords', tokenizer };
    bertConfig = scratchEncoderConfig(config, tokenizer.idToToken.length);
    train = sentencesOf(new Array<number>(spec.batch).fill(64), words, rng);
    infer = train;
  }
  const { model, encoder } = createModel(config, vocabulary, labels, bertConfig);
  const named = model.namedParameters();
  const optimizer = new AdamW(named, { lr: config.lr, weightDecay: config.weightDecay });
  const labelIndex = new Map(labels.map((l, i) => [l, i]));

  const context = { model, encoder, labelIndex, backend, params: named, optimizer, clip: config.clip };
  const trainStep = (batch: Sentence[]) => trainingStep(context, batch);

  model.train();
  const plan = backendName !== 'cpu' && spec.gpu ? spec.gpu : spec;
  const steps = quick ? Math.min(2, plan.steps) : plan.steps;
  const warmup = plan.warmup;
  const batches = (offset: number, count: number) => Array.from({ length: count }, (_, i) => train.slice(((offset + i) * spec.batch) % train.length, ((offset + i) * spec.batch) % train.length + spec.batch));
  for (const batch of batches(0, warmup)) await trainStep(batch);
  const before = opened.counters();
  let trainMs = 0;
  let trainTokens = 0;
  const losses: number[] = [];
  for (const batch of batches(warmup, steps)) {
    const started = performance.now();
    losses.push(await trainStep(batch));
    trainMs += performance.now() - started;
    trainTokens += batch.reduce((n, s) => n + s.tokens.length, 0);
  }
  const dispatches = (opened.counters().dispatches - before.dispatches) / steps;
  const trainRss = peakRssMB();

  model.eval();
  // The big cases: one timed inference pass (after one warm-up only where training had one).
  const inferRuns = quick || steps <= 2 ? { minRuns: 1, warmup: warmup > 0 ? 1 : 0 } : { minRuns: 3, warmup: 1 };
  const inference = await inferenceRate(model, encoder, backend, infer, spec.model === 'bilstm-crf' ? 128 : spec.batch, quick, inferRuns);
  const parameters = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  optimizer.dispose();
  return {
    name: `${spec.id} on ${backendName}`,
    case: spec.id,
    backend: backendName,
    adapter: opened.adapter,
    parameters,
    batch: spec.batch,
    'mean words': round(trainTokens / steps / spec.batch, 1),
    warmup,
    steps,
    'ms/step': round(trainMs / steps),
    'train tokens/s': Math.round((trainTokens / trainMs) * 1000),
    'infer sentences/s': inference < 10 ? round(inference) : Math.round(inference),
    'peak RSS MB (train)': Math.round(trainRss),
    'peak RSS MB': Math.round(peakRssMB()),
    ...(backendName !== 'cpu' ? { 'dispatches/step': Math.round(dispatches) } : {}),
    'first loss': round(losses[0]!, 3),
    'last loss': round(losses.at(-1)!, 3),
    data: dataPath || 'synthetic',
  };
}

/** Sentences/s of encode + forward + Viterbi over `sentences` in length-sorted batches of `size`. */
async function inferenceRate(model: NerModel, encoder: SentenceEncoder, backend: Backend, sentences: Sentence[], size: number, quick: boolean, runs: { minRuns: number; warmup: number }): Promise<number> {
  const sorted = [...sentences].sort((a, b) => a.tokens.length - b.tokens.length);
  const batches: Sentence[][] = [];
  for (let i = 0; i < sorted.length; i += size) batches.push(sorted.slice(i, i + size));
  const predict = async (batch: Sentence[]) => {
    const encoded = tidy(() => encoder.encode(batch, null, backend));
    await noGrad(() => model.predict(encoded.batch));
    disposeBatch(encoded.batch);
  };
  if (batches.length === 1) {
    const t = await timeSteps(() => predict(batches[0]!), { ...runs, budgetMs: quick ? 200 : 3000 });
    return (batches[0]!.length / t.ms) * 1000;
  }
  await predict(batches[Math.floor(batches.length / 2)]!); // warm-up
  const used = quick ? batches.slice(0, 2) : batches;
  const started = performance.now();
  for (const batch of used) await predict(batch);
  return (used.reduce((n, b) => n + b.length, 0) / (performance.now() - started)) * 1000;
}

// ---- driver ----

if (flag('--one')) {
  const [id, backendName] = option('--one', '').split(':') as [string, string];
  const spec = CASES.find((c) => c.id === id);
  if (!spec) throw new Error(`unknown case ${id} (${CASES.map((c) => c.id).join(', ')})`);
  emitResult(await measure(spec, backendName, flag('--quick')));
  process.exit(0);
}

const quick = flag('--quick');
const wanted = option('--cases', CASES.map((c) => c.id).join(',')).split(',');
const backends = option('--backends', 'cpu,webgpu').split(',');
// Pass the data options through to the children.
const passThrough = ['--data', '--dev'].flatMap((name) => (args.includes(name) ? [name, option(name, '')] : []));
const rows: Row[] = [];
for (const id of wanted) {
  for (const backendName of backends) {
    try {
      const row = runChild<Row>(fileURLToPath(import.meta.url), ['--one', `${id}:${backendName}`, ...(quick ? ['--quick'] : []), ...passThrough], {}, 1_200_000);
      console.log(`${row.name}: ${row['ms/step']} ms/step, ${row['train tokens/s']} train tokens/s, ${row['infer sentences/s']} sentences/s, peak RSS ${row['peak RSS MB']} MB`);
      rows.push(row);
    } catch (error) {
      console.log(`${id} on ${backendName} failed: ${(error as Error).message.split('\n')[0]}`);
      rows.push({ name: `${id} on ${backendName}`, case: id, backend: backendName, error: (error as Error).message.split('\n')[0] });
    }
  }
}
printTable('End to end: training (encode, loss, backward, clip, AdamW, loss readback) and inference (encode, forward, Viterbi)', rows.map(({ adapter: _a, data: _d, ...r }) => r));
writeJson(option('--out', 'bench-results/end-to-end.json'), {
  benchmark: 'end-to-end',
  machine: machine(),
  versions: versions(),
  threads: process.env.MEDNER_THREADS ?? 'default',
  date: new Date().toISOString(),
  results: rows,
});
process.exit(0);
