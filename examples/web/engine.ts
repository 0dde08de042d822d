// The teaching page's engine, in a dedicated Web Worker so the page stays responsive
// while it trains: medner's own modules (bundled for the browser by build.ts), the
// same training step `medner train` takes (src/train/step.ts), the same settings
// (the default BiLSTM-CRF), the same batching, optimizer and schedule. The page
// (page.ts) sends commands; the worker answers with progress and results.
//
// Protocol (page -> worker): init {backend}, train {epochs, maxSteps, evalEvery}, stop,
// predict {id, text}, load {files}, save. Worker -> page: ready, step, eval, done,
// transitions, prediction (with the id of its request), loaded, saved, error.

import type { Backend } from '../../src/backend/backend.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { createWebGpuBackend } from '../../src/backend/webgpu/index.js';
import { allowedTransitions } from '../../src/crf/constraints.js';
import { CRF } from '../../src/crf/crf.js';
import { parseConll } from '../../src/data/conll.js';
import type { Sentence } from '../../src/data/types.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointFileContents, loadCheckpointFromFiles, memoryFiles, type CheckpointConfig, type LoadedCheckpoint } from '../../src/train/checkpoint.js';
import { defaultsFor, type TrainConfig } from '../../src/train/config.js';
import { evaluate } from '../../src/train/evaluate.js';
import { tagItems } from '../../src/train/tag.js';
import { TrainingSession } from './session.js';

export type EngineRequest =
  | { type: 'init'; backend: 'auto' | 'webgpu' | 'cpu'; dataUrl: string }
  | { type: 'train'; epochs?: number; maxSteps?: number; evalEvery?: number }
  | { type: 'stop' }
  /** id: the page's number for this request, returned with the prediction (the page keeps only its newest). */
  | { type: 'predict'; id: number; text: string }
  | { type: 'load'; files: Record<string, ArrayBuffer> }
  | { type: 'save' };

export interface EngineReady {
  type: 'ready';
  backend: 'webgpu' | 'cpu';
  /** What the page shows: the backend and the adapter (or the CPU kernel and threads). */
  label: string;
  adapter: { vendor: string; architecture: string; description: string; fallback: boolean } | null;
  /** Why WebGPU was not used, when the page asked for 'auto' and fell back to the CPU. */
  fallbackReason: string | null;
  corpus: { train: number; dev: number; tokens: number };
}

export interface TaggedSentence {
  words: { text: string; start: number; end: number }[];
  tags: string[];
  marginals: number[][];
}

type Post = (message: unknown, transfer?: Transferable[]) => void;
const post: Post = (message, transfer = []) => (self as unknown as { postMessage: (m: unknown, t: Transferable[]) => void }).postMessage(message, transfer);

let backend: Backend = cpuBackend;
let config: TrainConfig = defaultsFor('bilstm-crf');
let corpus: { train: Sentence[]; dev: Sentence[] } | null = null;
/** The model the page shows: trained here, or loaded from a checkpoint. */
let current: (LoadedCheckpoint & { source: string }) | null = null;
let stopRequested = false;
let busy = false;

/** Let queued messages (stop, predict) in between steps: a CPU step never yields on its own. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function loadCorpus(dataUrl: string): Promise<{ train: Sentence[]; dev: Sentence[] }> {
  const fetchSplit = async (split: string) => {
    const url = new URL(`bc5cdr-${split}.tsv`, dataUrl);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    // The sample is in BIO, the default model's scheme, as `medner train` reads it.
    return parseConll(await response.text(), {}, url.pathname);
  };
  const [train, dev] = await Promise.all([fetchSplit('train'), fetchSplit('dev')]);
  return { train, dev };
}

async function init(request: Extract<EngineRequest, { type: 'init' }>): Promise<void> {
  let fallbackReason: string | null = null;
  let adapter: EngineReady['adapter'] = null;
  if (request.backend !== 'cpu') {
    try {
      const gpu = await createWebGpuBackend();
      backend = gpu;
      adapter = { vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, description: gpu.adapter.description, fallback: gpu.adapter.fallback };
    } catch (error) {
      // Asked for WebGPU explicitly: say so rather than quietly train on the CPU.
      if (request.backend === 'webgpu') throw error;
      fallbackReason = (error as Error).message;
      backend = cpuBackend;
    }
  }
  setBackend(backend);
  corpus = await loadCorpus(request.dataUrl);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = isolated ? Math.min(2, navigator.hardwareConcurrency || 1) : 1;
  const label = adapter
    ? `WebGPU · ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ')}${adapter.fallback ? ' (software adapter)' : ''}`
    : `CPU · WebAssembly SIMD · ${threads} thread${threads > 1 ? 's' : ''}${isolated ? '' : ' (page not cross-origin isolated)'}`;
  post({
    type: 'ready',
    backend: backend.name === 'webgpu' ? 'webgpu' : 'cpu',
    label,
    adapter,
    fallbackReason,
    corpus: { train: corpus.train.length, dev: corpus.dev.length, tokens: corpus.train.reduce((n, s) => n + s.tokens.length, 0) },
  } satisfies EngineReady);
}

function checkpointConfig(labels: string[], metrics: Record<string, number>): CheckpointConfig {
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: config.model,
    labels,
    scheme: config.scheme,
    train: config,
    encoder: null,
    vocabulary: 'words',
    metrics,
    data: { train: 'bundled BC5CDR sample (src/data/sample/bc5cdr-train.tsv), trained in a browser tab' },
  };
}

async function postTransitions(): Promise<void> {
  const crf = current?.model.crf;
  // The linear-chain CRF has a tag transition matrix to show (a semi-Markov one scores segments instead).
  if (!(crf instanceof CRF)) return;
  const [transitions, start, end] = await Promise.all([crf.transitions.data(), crf.startTransitions.data(), crf.endTransitions.data()]);
  // The scheme's hard constraints (O -> I-X is impossible in BIO) are applied on top of the learned scores.
  const { labels, scheme, train } = current!.config;
  const allowed = train.constraints === 'off' ? null : allowedTransitions(labels, scheme);
  post({ type: 'transitions', labels, transitions: Array.from(transitions), start: Array.from(start), end: Array.from(end), allowed });
}

/** Train the default BiLSTM-CRF as `medner train` does, reporting every step; stops on request or after maxSteps. */
async function train(request: Extract<EngineRequest, { type: 'train' }>): Promise<void> {
  if (!corpus) throw new Error('train: the engine was not initialised');
  config = { ...defaultsFor('bilstm-crf'), ...(request.epochs ? { epochs: request.epochs } : {}) };
  current?.model.dispose();
  current = null;
  const session = new TrainingSession(corpus.train, config, backend);
  const { model, encoder, labels, vocabulary } = session;
  current = { config: checkpointConfig(labels, {}), model, encoder, vocabulary, source: 'trained in this tab' };
  const maxSteps = Math.min(request.maxSteps ?? session.totalSteps, session.totalSteps);
  const evalEvery = request.evalEvery ?? session.stepsPerEpoch;
  post({ type: 'started', totalSteps: maxSteps, stepsPerEpoch: session.stepsPerEpoch, parameters: session.parameters, labels });
  await postTransitions();

  let done = 0;
  let tokens = 0;
  let bestDevF1 = 0;
  let trainingSeconds = 0;
  const devEval = async () => {
    const started = performance.now();
    const { scores } = await evaluate(model, encoder, labels, corpus!.dev, backend, config.scheme);
    bestDevF1 = Math.max(bestDevF1, scores.micro.f1);
    current!.config = checkpointConfig(labels, { dev_f1: scores.micro.f1 });
    post({ type: 'eval', step: done, devF1: scores.micro.f1, precision: scores.micro.precision, recall: scores.micro.recall, seconds: (performance.now() - started) / 1000 });
    await postTransitions();
    model.train();
  };
  stopRequested = false;
  for (let report; !stopRequested && done < maxSteps && (report = await session.step()); ) {
    done++;
    tokens += report.tokens;
    trainingSeconds += report.seconds;
    post({
      type: 'step', step: done, epoch: report.epoch, loss: report.loss, lossPerToken: (report.loss * report.sentences) / report.tokens,
      tokensPerSecond: tokens / trainingSeconds, stepsPerSecond: done / trainingSeconds, stepSeconds: report.seconds, tokens: report.tokens,
    });
    if (done % evalEvery === 0) await devEval();
    await yieldToEvents();
  }
  if (done % evalEvery !== 0) await devEval();
  session.dispose();
  model.eval();
  post({ type: 'done', steps: done, bestDevF1, trainingSeconds, stepsPerSecond: done / trainingSeconds, tokensPerSecond: tokens / trainingSeconds, stopped: stopRequested });
}

async function predict(id: number, text: string): Promise<void> {
  if (!current) throw new Error('predict: train or load a model first');
  const [tagged] = await tagItems([{ text }], current, backend, { marginals: true });
  post({
    type: 'prediction',
    id,
    text,
    labels: current.config.labels,
    entities: tagged!.entities,
    sentences: tagged!.sentences.map((s) => ({ words: s.words, tags: s.tags, marginals: s.marginals ?? [] })) satisfies TaggedSentence[],
  });
}

async function load(files: Record<string, ArrayBuffer>): Promise<void> {
  const bytes = new Map(Object.entries(files).map(([name, buffer]) => [name, new Uint8Array(buffer)]));
  const loaded = await loadCheckpointFromFiles(memoryFiles(bytes, '(the chosen checkpoint)'), backend);
  current?.model.dispose();
  current = { ...loaded, source: 'loaded from a checkpoint' };
  current.model.eval();
  post({ type: 'loaded', model: loaded.config.model, labels: loaded.config.labels, metrics: loaded.config.metrics, data: loaded.config.data });
  await postTransitions();
}

async function save(): Promise<void> {
  if (!current) throw new Error('save: train or load a model first');
  const files = await checkpointFileContents(current.config, current.model, current.vocabulary);
  const out: Record<string, ArrayBuffer> = {};
  for (const [name, data] of files) out[name] = data.slice().buffer;
  post({ type: 'saved', files: out }, Object.values(out));
}

async function handle(request: EngineRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      return init(request);
    case 'train':
      return train(request);
    case 'predict':
      return predict(request.id, request.text);
    case 'load':
      return load(request.files);
    case 'save':
      return save();
    case 'stop':
      stopRequested = true;
      return;
  }
}

/** One command at a time (a predict while training waits for it to end), except stop, which must get in. */
const queue: EngineRequest[] = [];
self.onmessage = (event: MessageEvent<EngineRequest>) => {
  if (event.data.type === 'stop') {
    stopRequested = true;
    return;
  }
  queue.push(event.data);
  void drain();
};

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const request = queue.shift()!;
    try {
      await handle(request);
    } catch (error) {
      post({ type: 'error', request: request.type, message: (error as Error).message, stack: (error as Error).stack });
    }
  }
  busy = false;
}
