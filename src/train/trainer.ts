// The training loop: epochs of shuffled, length-bucketed batches; AdamW with an
// encoder and a head learning rate, warmup and decay, gradient clipping and
// accumulation; dev evaluation after each epoch, early stopping on patience,
// the best checkpoint kept in out/best, everything needed to resume in out/last,
// metrics.jsonl and report.html. The same seed gives the same model, and a
// resumed run ends exactly where an uninterrupted one does.

import { readFile, readdir, writeFile, rename, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { setBackend } from '../backend/registry.js';
import { Rng, globalRng, manualSeed } from '../tensor/random.js';
import type { Sentence } from '../data/types.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { readHfConfig } from '../io/hf-config.js';
import { AdamW } from '../optim/adamw.js';
import { LrScheduler, makeSchedule } from '../optim/schedule.js';
import { countTags, inverseFrequencyWeights } from '../optim/class-weights.js';
import { tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import type { OptimizerState } from '../optim/optimizer.js';
import { WordPieceTokenizer } from '../text/wordpiece.js';
import { classificationReport } from '../metrics/scores.js';
import { camelKeys, snakeKeys, type TrainConfig } from './config.js';
import { countEntityTypes, effectiveTypeMap, mapEntityTypes, type TypeMapOptions } from '../data/label-maps.js';
import type { JsonlReadOptions } from '../data/jsonl.js';
import { loadSentences } from './corpus.js';
import { summarizeReport } from '../data/documents.js';
import { chunkSentences, type Chunk, type SentenceEncoder } from './encode.js';
import { evaluate } from './evaluate.js';
import { createModel, isBertModel, scratchBertConfig, type ModelVocabulary, type NerModel } from './model-factory.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, completeCheckpoint, readCheckpointConfig, readVocabulary, saveCheckpoint, type CheckpointConfig } from './checkpoint.js';
import { ProgressBar, formatSeconds } from './progress.js';
import { applyUpdate, backpropagate, type StepContext } from './step.js';
import { renderReport, type EpochRecord, type TypeScore } from './report.js';
import { buildCharVocabulary, buildLabelList, buildWordVocabulary, Vocabulary } from './vocab.js';
import { loadPretrainedEncoder, loadPretrainedTokenizer } from './pretrained.js';
import type { BertConfig } from '../nn/bert.js';

export interface TrainOptions {
  config: TrainConfig;
  train: string;
  dev?: string;
  test?: string;
  out: string;
  backend: Backend;
  /** A Hugging Face model directory (config.json, vocab.txt, model.safetensors) for the BERT variants. */
  pretrained?: string;
  /** A vocab.txt for a BERT trained from scratch (default: built from the training data). */
  vocab?: string;
  /** Continue the run saved in this output directory. */
  resume?: string;
  /** Every corpus defect (overlap, duplicate, discontinuous, crossing, mismatch, no word) is an error. */
  strict?: boolean;
  /** Write into a non-empty output directory (otherwise refused, unless resuming). */
  overwrite?: boolean;
  /** Entity types rewritten in every split: a label map, then rare types grouped (counted on the training set). */
  typeMap?: TypeMapOptions;
  /** JSONL corpora: field names and the names of integer tags. */
  jsonl?: JsonlReadOptions;
  log?: (line: string) => void;
  progress?: boolean;
  /** Called after each epoch is saved; returning 'stop' ends the run there (as an interruption would). */
  onEpochEnd?: (record: EpochRecord) => 'stop' | void;
}

export interface TrainResult {
  bestDevF1: number | null;
  bestEpoch: number;
  test: { f1: number; precision: number; recall: number; report: string } | null;
  history: EpochRecord[];
  outDir: string;
}

/** What out/last/trainer_state.json holds, beside the model and optimizer tensors. */
interface TrainerState {
  epochsDone: number;
  bestDevF1: number | null;
  bestEpoch: number;
  badEpochs: number;
  history: EpochRecord[];
  scheduler: { lastStep: number };
  optimizer: Omit<OptimizerState, 'tensors'>;
  globalRng: number[];
  shuffleRng: number[];
}

/** trainer_state.json in snake_case: the top-level keys and each epoch record's. */
function writeTrainerState(state: TrainerState): Record<string, unknown> {
  return snakeKeys({ ...state, history: state.history.map((h) => snakeKeys(h)), scheduler: snakeKeys(state.scheduler) });
}

/** trainer_state.json back, in either spelling (older runs wrote camelCase). */
function readTrainerState(text: string): TrainerState {
  const raw = camelKeys(JSON.parse(text) as Record<string, unknown>);
  return {
    ...(raw as unknown as TrainerState),
    history: (raw.history as Record<string, unknown>[]).map((h) => camelKeys(h) as unknown as EpochRecord),
    scheduler: camelKeys(raw.scheduler as Record<string, unknown>) as TrainerState['scheduler'],
  };
}

/** A WordPiece vocabulary from training words: whole words seen twice, plus every character (alone and as ##x). */
function vocabularyFromTraining(sentences: readonly Sentence[], lowercase: boolean): WordPieceTokenizer {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const norm = (w: string) => (lowercase ? w.toLowerCase() : w);
  const words = new Map<string, number>();
  const chars = new Set<string>();
  for (const s of sentences) for (const w of s.tokens) {
    words.set(norm(w), (words.get(norm(w)) ?? 0) + 1);
    for (const ch of norm(w)) chars.add(ch);
  }
  const frequent = [...words].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  const pieces = [...chars].sort();
  const tokens = [...new Set([...specials, ...pieces, ...pieces.map((c) => `##${c}`), ...frequent])];
  return WordPieceTokenizer.fromVocabText(tokens.join('\n') + '\n', { lowercase });
}

/** Shuffle, then sort pools of 20 batches by length and cut them: little padding, still random. */
function makeBatches(chunks: readonly Chunk[], batchSize: number, rng: Rng): number[][] {
  const order = rng.shuffle(chunks.map((_, i) => i));
  const batches: number[][] = [];
  const pool = batchSize * 20;
  for (let i = 0; i < order.length; i += pool) {
    const slice = order.slice(i, i + pool).sort((a, b) => chunks[a]!.tokens.length - chunks[b]!.tokens.length);
    for (let j = 0; j < slice.length; j += batchSize) batches.push(slice.slice(j, j + batchSize));
  }
  return rng.shuffle(batches);
}

function typeScores(scores: Awaited<ReturnType<typeof evaluate>>['scores']): TypeScore[] {
  return [...scores.perType].map(([type, s]) => ({ type, precision: s.precision, recall: s.recall, f1: s.f1, support: s.support }));
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const outDir = resolve(options.out);
  const backend = options.backend;
  setBackend(backend);
  let config = options.config;

  // ---- state to start from: a previous run, or fresh ----
  let resumed: { state: TrainerState; checkpoint: CheckpointConfig; dir: string } | null = null;
  if (!options.resume && !options.overwrite) {
    const existing = await readdir(outDir).catch(() => [] as string[]);
    if (existing.length > 0) throw new Error(`${options.out}: the output directory is not empty; pass --overwrite to replace its run, --resume ${options.out} to continue it, or another --out`);
  }
  if (options.resume) {
    const dir = await completeCheckpoint(join(resolve(options.resume), 'last'));
    const checkpoint = await readCheckpointConfig(dir);
    const state = readTrainerState(await readFile(join(dir, 'trainer_state.json'), 'utf8').catch(() => {
      throw new Error(`${join(dir, 'trainer_state.json')}: missing; --resume needs the output directory of an earlier medner train`);
    }));
    config = checkpoint.train;
    resumed = { state, checkpoint, dir };
    log(`resuming ${options.resume}: ${state.epochsDone} of ${config.epochs} epochs done`);
  }
  manualSeed(config.seed);
  const shuffleRng = new Rng(config.seed + 1);

  // ---- data ----
  const read = { strict: options.strict, jsonl: options.jsonl };
  const trainData = await loadSentences(options.train, config.format, config.scheme, read);
  // One type map for every split, from the training set's counts (or the resumed run's).
  let typeMap: Record<string, string | null> | null = resumed?.checkpoint.type_map ?? null;
  if (options.typeMap && (options.typeMap.labelMap || options.typeMap.minTypeCount)) {
    typeMap = effectiveTypeMap(countEntityTypes(trainData.sentences, config.scheme === 'BIOES' ? 'iobes' : 'iob2'), options.typeMap);
  }
  if (typeMap) {
    trainData.sentences = mapEntityTypes(trainData.sentences, typeMap, config.scheme === 'BIOES' ? 'iobes' : 'iob2');
    const changed = Object.entries(typeMap).map(([from, to]) => `${from} -> ${to ?? '(dropped)'}`);
    log(`entity types mapped: ${changed.join(', ') || '(none)'}`);
  }
  const mapped = { ...read, typeMap: typeMap ?? undefined };
  const devData = options.dev ? await loadSentences(options.dev, config.format, config.scheme, mapped) : null;
  const testData = options.test ? await loadSentences(options.test, config.format, config.scheme, mapped) : null;
  for (const [name, d] of [['train', trainData], ['dev', devData], ['test', testData]] as const) {
    if (!d) continue;
    const tokens = d.sentences.reduce((n, s) => n + s.tokens.length, 0);
    log(`${name}: ${d.sentences.length} sentences, ${tokens} tokens; ${summarizeReport(d.report)}`);
  }

  // ---- vocabulary, labels, model ----
  let labels: string[];
  let vocabulary: ModelVocabulary;
  let bert: BertConfig | null = null;
  if (resumed) {
    labels = resumed.checkpoint.labels;
    vocabulary = await readVocabulary(resumed.dir, resumed.checkpoint);
    bert = resumed.checkpoint.bert;
  } else {
    labels = buildLabelList(trainData.sentences);
    if (labels.length === 1) throw new Error(`${options.train}: no entities found (every tag is O); check --format and the tag column`);
    if (!isBertModel(config.model)) {
      vocabulary = { kind: 'words', words: buildWordVocabulary(trainData.sentences, config.minWordCount, config.lowercase), chars: config.charFeatures === 'cnn' ? buildCharVocabulary(trainData.sentences) : null };
    } else if (options.pretrained) {
      // bert, roberta, distilbert or albert: config.json as it is becomes the checkpoint's `bert`
      // field, and its model_type picks the encoder (src/nn/encoders.ts).
      const hf = readHfConfig(options.pretrained);
      const tokenizer = await loadPretrainedTokenizer(options.pretrained);
      if (tokenizer.idToToken.length > hf.vocabSize) throw new Error(`${options.pretrained}: the vocabulary has ${tokenizer.idToToken.length} tokens but config.json's vocab_size is ${hf.vocabSize}`);
      vocabulary = { kind: 'subwords', tokenizer };
      bert = { ...(hf.raw as unknown as BertConfig) };
    } else {
      const tokenizer = options.vocab
        ? await WordPieceTokenizer.load(options.vocab, { lowercase: config.lowercase }).catch((error: Error) => {
            throw new Error(`${options.vocab}: ${error.message}`);
          })
        : vocabularyFromTraining(trainData.sentences, config.lowercase);
      vocabulary = { kind: 'subwords', tokenizer };
      bert = scratchBertConfig(config, tokenizer.idToToken.length);
    }
  }
  const { model, encoder } = createModel(config, vocabulary, labels, bert);
  if (options.pretrained && !resumed) log(loadPretrainedEncoder(model, options.pretrained, backend));
  const parameterCount = model.parameters().reduce((n, p) => n + p.size, 0);
  log(`model: ${config.model}, ${parameterCount.toLocaleString('en-US')} parameters, ${labels.length} tags (${config.scheme}), backend ${backend.name}`);

  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  if (config.classWeights) {
    if (model.crf) throw new Error(`classWeights applies to the softmax head (--model bert-softmax); ${config.model} ends in a CRF`);
    const counts = countTags(trainData.sentences.map((s) => s.tags.map((t) => labelIndex.get(t)!)), labels.length);
    const weights = inverseFrequencyWeights(counts);
    model.classWeights = keep(tensor(weights, [labels.length], { backend }));
    log(`class weights: ${labels.map((l, i) => `${l} ${weights[i]!.toFixed(2)}`).join(', ')}`);
  }
  const trainChunks = chunkSentences(trainData.sentences, encoder).filter((c) => c.tokens.length > 0);
  const batchesPerEpoch = Math.ceil(trainChunks.length / config.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / config.gradAccumulation);
  const totalSteps = stepsPerEpoch * config.epochs;

  // ---- optimizer: the encoder and the rest learn at their own rates ----
  const named = model.namedParameters();
  const encoderParams = named.filter(([n]) => n.startsWith('bert.'));
  const headParams = named.filter(([n]) => !n.startsWith('bert.'));
  const groups = [
    ...(encoderParams.length ? [{ name: 'encoder', params: encoderParams, lr: options.pretrained || resumed?.checkpoint.data.pretrained ? config.encoderLr : config.lr }] : []),
    { name: 'head', params: headParams, lr: config.lr },
  ];
  const optimizer = new AdamW(groups, { lr: config.lr, weightDecay: config.weightDecay });
  const scheduler = new LrScheduler(optimizer, makeSchedule(config.schedule, { warmupSteps: Math.round(config.warmup * totalSteps), totalSteps }));
  const step: StepContext = { model, encoder, labelIndex, backend, params: named, optimizer, clip: config.clip };

  let state: TrainerState = { epochsDone: 0, bestDevF1: null, bestEpoch: 0, badEpochs: 0, history: [], scheduler: { lastStep: 0 }, optimizer: { kind: 'AdamW', groups: [] }, globalRng: [], shuffleRng: [] };
  if (resumed) {
    state = resumed.state;
    const weights = loadSafetensors(join(resumed.dir, 'model.safetensors'), { backend });
    model.loadStateDict(weights);
    for (const t of weights.values()) t.dispose();
    const tensors = loadSafetensors(join(resumed.dir, 'optimizer.safetensors'), { backend });
    await optimizer.loadStateDict({ ...state.optimizer, tensors });
    for (const t of tensors.values()) t.dispose();
    scheduler.loadStateDict(state.scheduler);
    globalRng.setState(state.globalRng);
    shuffleRng.setState(state.shuffleRng);
  }

  const checkpointConfig = (metrics: Record<string, number>): CheckpointConfig => ({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: config.model,
    labels,
    scheme: config.scheme,
    train: config,
    bert,
    vocabulary: vocabulary.kind,
    metrics,
    // File names only: a checkpoint travels, the directories it was trained from do not.
    data: Object.fromEntries(Object.entries({ train: options.train, dev: options.dev, test: options.test, pretrained: options.pretrained }).filter(([, v]) => v).map(([k, v]) => [k, basename(v!)])),
    ...(typeMap ? { type_map: typeMap } : {}),
  });

  await mkdir(outDir, { recursive: true });
  const metricsPath = join(outDir, 'metrics.jsonl');

  // ---- epochs ----
  for (let epoch = state.epochsDone + 1; epoch <= config.epochs; epoch++) {
    if (state.badEpochs >= config.patience && devData) break;
    model.train();
    const batches = makeBatches(trainChunks, config.batchSize, shuffleRng);
    const bar = options.progress === false ? null : new ProgressBar(`epoch ${epoch}/${config.epochs}`, batches.length);
    const started = performance.now();
    let tokens = 0;
    let lossSum = 0;
    let sentences = 0;
    for (let i = 0; i < batches.length; i++) {
      const chunk = batches[i]!.map((j) => trainChunks[j]!);
      const loss = backpropagate(step, chunk, config.gradAccumulation);
      const lastOfStep = (i + 1) % config.gradAccumulation === 0 || i === batches.length - 1;
      if (lastOfStep) {
        applyUpdate(step);
        scheduler.step();
      }
      // The one readback of a step: the loss, for the progress line.
      const value = (await loss.data())[0]!;
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`training diverged at epoch ${epoch}, batch ${i + 1}: loss is ${value}; lower --lr or raise --clip`);
      lossSum += value * chunk.length;
      sentences += chunk.length;
      tokens += chunk.reduce((n, c) => n + c.tokens.length, 0);
      const seconds = (performance.now() - started) / 1000;
      bar?.update(i + 1, { loss: (lossSum / sentences).toFixed(4), 'tok/s': String(Math.round(tokens / seconds)) });
    }
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = { epoch, trainLoss: lossSum / sentences, devF1: null, tokensPerSecond: tokens / seconds, seconds, learningRate: scheduler.lrs().at(-1) };
    // Dev scoring is timed on its own: tokens/s above is training throughput only.
    let devNote = '';
    if (devData) {
      const devStarted = performance.now();
      const { scores } = await evaluate(model, encoder, labels, devData.sentences, backend, config.scheme);
      const devSeconds = (performance.now() - devStarted) / 1000;
      Object.assign(record, { devF1: scores.micro.f1, devPrecision: scores.micro.precision, devRecall: scores.micro.recall, devSeconds, devSentencesPerSecond: devData.sentences.length / devSeconds });
      devNote = `; dev scored in ${formatSeconds(devSeconds)} (${Math.round(devData.sentences.length / devSeconds)} sentences/s)`;
    }
    state.history.push(record);
    const improved = record.devF1 === null || state.bestDevF1 === null || record.devF1 > state.bestDevF1;
    log(`epoch ${epoch}: train loss ${record.trainLoss.toFixed(4)}${record.devF1 === null ? '' : `, dev F1 ${record.devF1.toFixed(4)}`}, training ${Math.round(record.tokensPerSecond)} tokens/s in ${formatSeconds(seconds)}${devNote}${improved && record.devF1 !== null ? ' (best so far)' : ''}`);
    if (improved) {
      state.bestDevF1 = record.devF1;
      state.bestEpoch = epoch;
      state.badEpochs = 0;
      await saveCheckpoint(join(outDir, 'best'), checkpointConfig(record.devF1 === null ? {} : { dev_f1: record.devF1 }), model, vocabulary);
    } else {
      state.badEpochs++;
    }
    // Everything a resumed run needs, saved after each epoch.
    state.epochsDone = epoch;
    const optimizerState = optimizer.stateDict();
    state.optimizer = { kind: optimizerState.kind, groups: optimizerState.groups };
    state.scheduler = scheduler.stateDict();
    state.globalRng = globalRng.getState();
    state.shuffleRng = shuffleRng.getState();
    await saveCheckpoint(join(outDir, 'last'), checkpointConfig({}), model, vocabulary, async (tmp) => {
      await saveSafetensors(join(tmp, 'optimizer.safetensors'), optimizerState.tensors);
      await writeFile(join(tmp, 'trainer_state.json'), JSON.stringify(writeTrainerState(state), null, 2) + '\n');
    });
    for (const t of optimizerState.tensors.values()) t.dispose();
    await writeAtomically(metricsPath, state.history.map((h) => JSON.stringify(snakeKeys(h))).join('\n') + '\n');
    if (options.onEpochEnd?.(record) === 'stop') return { bestDevF1: state.bestDevF1, bestEpoch: state.bestEpoch, test: null, history: state.history, outDir };
    if (state.badEpochs >= config.patience && devData && epoch < config.epochs) log(`early stop: no dev F1 improvement for ${config.patience} epochs (best ${state.bestDevF1?.toFixed(4)} at epoch ${state.bestEpoch})`);
  }

  // ---- the best model on test ----
  const best = loadSafetensors(join(outDir, 'best', 'model.safetensors'), { backend });
  model.loadStateDict(best);
  for (const t of best.values()) t.dispose();
  let test: TrainResult['test'] = null;
  let perType: TypeScore[] = [];
  const evalData = testData ?? devData;
  if (evalData) {
    const { scores } = await evaluate(model, encoder, labels, evalData.sentences, backend, config.scheme);
    perType = typeScores(scores);
    const report = classificationReport(scores, 4);
    if (testData) {
      test = { f1: scores.micro.f1, precision: scores.micro.precision, recall: scores.micro.recall, report };
      const bestConfig = checkpointConfig({ ...(state.bestDevF1 === null ? {} : { dev_f1: state.bestDevF1 }), test_f1: scores.micro.f1, test_precision: scores.micro.precision, test_recall: scores.micro.recall });
      await saveCheckpoint(join(outDir, 'best'), bestConfig, model, vocabulary);
      await writeAtomically(metricsPath, [...state.history.map((h) => JSON.stringify(snakeKeys(h))), JSON.stringify({ split: 'test', best_epoch: state.bestEpoch, f1: scores.micro.f1, precision: scores.micro.precision, recall: scores.micro.recall, per_type: perType })].join('\n') + '\n');
    }
  }
  const html = renderReport({
    title: `medner ${config.model} on ${basename(options.train)}`,
    history: state.history,
    perType,
    summary: {
      model: config.model,
      backend: backend.name,
      'best epoch': state.bestEpoch,
      'best dev F1': state.bestDevF1 === null ? 'n/a' : state.bestDevF1.toFixed(4),
      'test F1': test ? test.f1.toFixed(4) : 'n/a',
      parameters: parameterCount,
      seed: config.seed,
    },
  });
  await writeAtomically(join(outDir, 'report.html'), html);
  model.classWeights?.dispose();
  model.dispose();
  optimizer.dispose?.();
  return { bestDevF1: state.bestDevF1, bestEpoch: state.bestEpoch, test, history: state.history, outDir };
}
