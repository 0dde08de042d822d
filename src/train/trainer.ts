// The training loop: epochs of shuffled, length-bucketed batches; AdamW with an
// encoder and a head learning rate, warmup and decay, gradient clipping and
// accumulation; dev evaluation after each epoch, early stopping on patience,
// the best checkpoint kept in out/best, everything needed to resume in out/last,
// metrics.jsonl and report.html. The same seed gives the same model, and a
// resumed run ends exactly where an uninterrupted one does.

import { platform } from '../platform/index.js';
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
import { createModel, isBertModel, scratchEncoderConfig, type ModelVocabulary, type NerModel } from './model-factory.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, completeCheckpoint, readCheckpointConfig, readVocabulary, refuseQuantized, saveCheckpoint, type CheckpointConfig } from './checkpoint.js';
import { ProgressBar, formatSeconds } from './progress.js';
import { applyUpdate, backpropagate, type StepContext } from './step.js';
import { renderReport, type EpochRecord, type TypeScore } from './report.js';
import { buildCharVocabulary, buildLabelList, buildWordVocabulary, Vocabulary } from './vocab.js';
import { loadPretrainedEncoder, loadPretrainedTokenizer } from './pretrained.js';
import type { EncoderConfig } from '../nn/encoder-config.js';

const { readFile, readdir, writeFile, rename, mkdir, stat } = platform.fs;
const { basename, join, resolve } = platform.path;

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
export function makeBatches(chunks: readonly Chunk[], batchSize: number, rng: Rng): number[][] {
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

type Loaded = Awaited<ReturnType<typeof loadSentences>>;
interface Resumed {
  state: TrainerState;
  checkpoint: CheckpointConfig;
  dir: string;
}

/** Everything the phases of a run share, built by the first ones and read by the rest. */
interface Run {
  options: TrainOptions;
  config: TrainConfig;
  outDir: string;
  backend: Backend;
  log: (line: string) => void;
  data: { train: Loaded; dev: Loaded | null; test: Loaded | null };
  /** Entity types rewritten in every split (label map, rare types grouped), kept in the checkpoint. */
  typeMap: Record<string, string | null> | null;
  labels: string[];
  vocabulary: ModelVocabulary;
  /** The BERT models' encoder config (null for the BiLSTM-CRF). */
  encoderConfig: EncoderConfig | null;
  model: NerModel;
  encoder: SentenceEncoder;
  parameterCount: number;
  trainChunks: Chunk[];
  optimizer: AdamW;
  scheduler: LrScheduler;
  step: StepContext;
  shuffleRng: Rng;
  metricsPath: string;
}

/**
 * Train a tagger. The phases, in order: resume (or start fresh), prepare the data, build the
 * vocabulary and model, build the optimizer (and restore its state when resuming), run the
 * epochs (each: train, score on dev, checkpoint), and finish (the best model on test, report.html).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.pretrained) await refuseQuantized(options.pretrained, 'training (--pretrained)');
  if (options.resume) await refuseQuantized(options.resume, 'training (--resume)');
  setBackend(options.backend);
  if (!options.resume && !options.overwrite) {
    const existing = await readdir(resolve(options.out)).catch(() => [] as string[]);
    if (existing.length > 0) throw new Error(`${options.out}: the output directory is not empty; pass --overwrite to replace its run, --resume ${options.out} to continue it, or another --out`);
  }
  const resumed = options.resume ? await readResumeState(options.resume, log) : null;
  const config = resumed?.checkpoint.train ?? options.config;
  manualSeed(config.seed);
  const { typeMap, ...data } = await prepareData(options, config, resumed, log);
  const run = await buildRun(options, config, data, typeMap, resumed, log);
  const state = await restoreState(run, resumed);
  await mkdir(run.outDir, { recursive: true });
  for (let epoch = state.epochsDone + 1; epoch <= config.epochs; epoch++) {
    if (state.badEpochs >= config.patience && data.dev) break;
    const record = await runEpoch(run, epoch);
    await checkpointEpoch(run, state, record);
    if (options.onEpochEnd?.(record) === 'stop') return { bestDevF1: state.bestDevF1, bestEpoch: state.bestEpoch, test: null, history: state.history, outDir: run.outDir };
    if (state.badEpochs >= config.patience && data.dev && epoch < config.epochs) {
      log(`early stop: no dev F1 improvement for ${config.patience} epochs (best ${state.bestDevF1?.toFixed(4)} at epoch ${state.bestEpoch})`);
    }
  }
  return finish(run, state);
}

// ---------- phase: resume ----------

/**
 * The state saved in `resume`/last, or null when the directory holds no finished epoch yet (a run killed
 * before its first epoch ended): resuming it means starting over. A directory that does not exist is an error.
 */
async function readResumeState(resume: string, log: (line: string) => void): Promise<Resumed | null> {
  const info = await stat(resume).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`${resume}: no such directory; --resume needs the output directory of an earlier medner train`);
  const dir = await completeCheckpoint(join(resolve(resume), 'last'));
  if (!(await stat(join(dir, 'trainer_state.json')).then(() => true, () => false)) && !(await stat(join(dir, 'config.json')).then(() => true, () => false))) {
    log(`resuming ${resume}: no epoch was saved there yet, starting from the beginning`);
    return null;
  }
  const checkpoint = await readCheckpointConfig(dir);
  const state = readTrainerState(await readFile(join(dir, 'trainer_state.json'), 'utf8').catch(() => {
    throw new Error(`${join(dir, 'trainer_state.json')}: missing; --resume needs the output directory of an earlier medner train`);
  }));
  log(`resuming ${resume}: ${state.epochsDone} of ${checkpoint.train.epochs} epochs done`);
  return { state, checkpoint, dir };
}

// ---------- phase: data ----------

/** The three splits, read and checked; entity types mapped the same way in each (counted on train, or the resumed run's map). */
async function prepareData(options: TrainOptions, config: TrainConfig, resumed: Resumed | null, log: (line: string) => void): Promise<Run['data'] & Pick<Run, 'typeMap'>> {
  const read = { strict: options.strict, jsonl: options.jsonl };
  const train = await loadSentences(options.train, config.format, config.scheme, read);
  const scheme = config.scheme;
  let typeMap: Record<string, string | null> | null = resumed?.checkpoint.type_map ?? null;
  if (options.typeMap && (options.typeMap.labelMap || options.typeMap.minTypeCount)) {
    typeMap = effectiveTypeMap(countEntityTypes(train.sentences, scheme), options.typeMap);
  }
  if (typeMap) {
    train.sentences = mapEntityTypes(train.sentences, typeMap, scheme);
    const changed = Object.entries(typeMap).map(([from, to]) => `${from} -> ${to ?? '(dropped)'}`);
    log(`entity types mapped: ${changed.join(', ') || '(none)'}`);
  }
  const mapped = { ...read, typeMap: typeMap ?? undefined };
  const load = (path: string | undefined) => (path ? loadSentences(path, config.format, config.scheme, mapped) : Promise.resolve(null));
  const data = { train, dev: await load(options.dev), test: await load(options.test) };
  for (const [name, d] of Object.entries(data)) {
    if (!d) continue;
    const tokens = d.sentences.reduce((n, s) => n + s.tokens.length, 0);
    log(`${name}: ${d.sentences.length} sentences, ${tokens} tokens; ${summarizeReport(d.report)}`);
  }
  return { ...data, typeMap };
}

// ---------- phase: vocabulary, model, optimizer ----------

/** Labels, the word or subword vocabulary and the BERT config: from the checkpoint when resuming, else from the data. */
async function buildVocabulary(options: TrainOptions, config: TrainConfig, train: Loaded, resumed: Resumed | null): Promise<Pick<Run, 'labels' | 'vocabulary' | 'encoderConfig'>> {
  if (resumed) return { labels: resumed.checkpoint.labels, vocabulary: await readVocabulary(resumed.dir, resumed.checkpoint), encoderConfig: resumed.checkpoint.encoder };
  const labels = buildLabelList(train.sentences);
  if (labels.length === 1) throw new Error(`${options.train}: no entities found (every tag is O); check --format and the tag column`);
  if (!isBertModel(config.model)) {
    const chars = config.charFeatures === 'cnn' ? buildCharVocabulary(train.sentences) : null;
    return { labels, vocabulary: { kind: 'words', words: buildWordVocabulary(train.sentences, config.minWordCount, config.lowercase), chars }, encoderConfig: null };
  }
  if (options.pretrained) {
    // bert, roberta, distilbert or albert: config.json's model_type picks the encoder (src/nn/encoders.ts),
    // and its other fields travel in the checkpoint (EncoderConfig.raw).
    const hf = readHfConfig(options.pretrained);
    const tokenizer = await loadPretrainedTokenizer(options.pretrained);
    if (tokenizer.idToToken.length > hf.vocabSize) throw new Error(`${options.pretrained}: the vocabulary has ${tokenizer.idToToken.length} tokens but config.json's vocab_size is ${hf.vocabSize}`);
    return { labels, vocabulary: { kind: 'subwords', tokenizer }, encoderConfig: hf };
  }
  const tokenizer = options.vocab
    ? await WordPieceTokenizer.load(options.vocab, { lowercase: config.lowercase }).catch((error: Error) => {
        throw new Error(`${options.vocab}: ${error.message}`);
      })
    : vocabularyFromTraining(train.sentences, config.lowercase);
  return { labels, vocabulary: { kind: 'subwords', tokenizer }, encoderConfig: scratchEncoderConfig(config, tokenizer.idToToken.length) };
}

/** The model (pretrained weights loaded, class weights set) and the training chunks its encoder makes. */
function buildModel(run: Pick<Run, 'options' | 'config' | 'backend' | 'log' | 'data' | 'labels' | 'vocabulary' | 'encoderConfig'>, resumed: Resumed | null) {
  const { options, config, backend, log, labels } = run;
  const { model, encoder } = createModel(config, run.vocabulary, labels, run.encoderConfig);
  if (options.pretrained && !resumed) log(loadPretrainedEncoder(model, options.pretrained, backend));
  const parameterCount = model.parameters().reduce((n, p) => n + p.size, 0);
  log(`model: ${config.model}, ${parameterCount.toLocaleString('en-US')} parameters, ${labels.length} tags (${config.scheme}), backend ${backend.name}`);
  if (config.classWeights) {
    if (model.crf) throw new Error(`classWeights applies to the softmax head (--model bert-softmax); ${config.model} ends in a CRF`);
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const counts = countTags(run.data.train.sentences.map((s) => s.tags.map((t) => labelIndex.get(t)!)), labels.length);
    const weights = inverseFrequencyWeights(counts);
    model.classWeights = keep(tensor(weights, [labels.length], { backend }));
    log(`class weights: ${labels.map((l, i) => `${l} ${weights[i]!.toFixed(2)}`).join(', ')}`);
  }
  const trainChunks = chunkSentences(run.data.train.sentences, encoder).filter((c) => c.tokens.length > 0);
  return { model, encoder, parameterCount, trainChunks };
}

/** AdamW with the encoder and the rest at their own learning rates, and the warmup + decay schedule. */
function buildOptimizer(config: TrainConfig, model: NerModel, trainChunks: readonly Chunk[], pretrained: boolean) {
  const stepsPerEpoch = Math.ceil(Math.ceil(trainChunks.length / config.batchSize) / config.gradAccumulation);
  const totalSteps = stepsPerEpoch * config.epochs;
  const named = model.namedParameters();
  const encoderParams = named.filter(([n]) => n.startsWith('bert.'));
  const headParams = named.filter(([n]) => !n.startsWith('bert.'));
  const groups = [
    ...(encoderParams.length ? [{ name: 'encoder', params: encoderParams, lr: pretrained ? config.encoderLr : config.lr }] : []),
    { name: 'head', params: headParams, lr: config.lr },
  ];
  const optimizer = new AdamW(groups, { lr: config.lr, weightDecay: config.weightDecay });
  const scheduler = new LrScheduler(optimizer, makeSchedule(config.schedule, { warmupSteps: Math.round(config.warmup * totalSteps), totalSteps }));
  return { optimizer, scheduler, named };
}

async function buildRun(options: TrainOptions, config: TrainConfig, data: Run['data'], typeMap: Run['typeMap'], resumed: Resumed | null, log: (line: string) => void): Promise<Run> {
  const base = { options, config, backend: options.backend, log, data, typeMap, ...(await buildVocabulary(options, config, data.train, resumed)) };
  const { model, encoder, parameterCount, trainChunks } = buildModel(base, resumed);
  const pretrained = Boolean(options.pretrained || resumed?.checkpoint.data.pretrained);
  const { optimizer, scheduler, named } = buildOptimizer(config, model, trainChunks, pretrained);
  const labelIndex = new Map(base.labels.map((l, i) => [l, i]));
  const step: StepContext = { model, encoder, labelIndex, backend: options.backend, params: named, optimizer, clip: config.clip };
  const outDir = resolve(options.out);
  return { ...base, outDir, model, encoder, parameterCount, trainChunks, optimizer, scheduler, step, shuffleRng: new Rng(config.seed + 1), metricsPath: join(outDir, 'metrics.jsonl') };
}

/** A fresh state, or the saved one with the model, optimizer, schedule and generators put back where they were. */
async function restoreState(run: Run, resumed: Resumed | null): Promise<TrainerState> {
  if (!resumed) return { epochsDone: 0, bestDevF1: null, bestEpoch: 0, badEpochs: 0, history: [], scheduler: { lastStep: 0 }, optimizer: { kind: 'AdamW', groups: [] }, globalRng: [], shuffleRng: [] };
  const { state, dir } = resumed;
  const weights = loadSafetensors(join(dir, 'model.safetensors'), { backend: run.backend });
  run.model.loadStateDict(weights);
  for (const t of weights.values()) t.dispose();
  const tensors = loadSafetensors(join(dir, 'optimizer.safetensors'), { backend: run.backend });
  await run.optimizer.loadStateDict({ ...state.optimizer, tensors });
  for (const t of tensors.values()) t.dispose();
  run.scheduler.loadStateDict(state.scheduler);
  globalRng.setState(state.globalRng);
  run.shuffleRng.setState(state.shuffleRng);
  return state;
}

// ---------- phase: one epoch ----------

/** One pass over the shuffled batches (an update every gradAccumulation batches), then the dev score. */
async function runEpoch(run: Run, epoch: number): Promise<EpochRecord> {
  const { config, model, step, scheduler, trainChunks } = run;
  model.train();
  const batches = makeBatches(trainChunks, config.batchSize, run.shuffleRng);
  const bar = run.options.progress === false ? null : new ProgressBar(`epoch ${epoch}/${config.epochs}`, batches.length);
  const started = performance.now();
  let tokens = 0;
  let lossSum = 0;
  let sentences = 0;
  for (let i = 0; i < batches.length; i++) {
    const chunk = batches[i]!.map((j) => trainChunks[j]!);
    const loss = backpropagate(step, chunk, config.gradAccumulation);
    if ((i + 1) % config.gradAccumulation === 0 || i === batches.length - 1) {
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
    bar?.update(i + 1, { loss: (lossSum / sentences).toFixed(4), 'tok/s': String(Math.round(tokens / ((performance.now() - started) / 1000))) });
  }
  const seconds = (performance.now() - started) / 1000;
  const record: EpochRecord = { epoch, trainLoss: lossSum / sentences, devF1: null, tokensPerSecond: tokens / seconds, seconds, learningRate: scheduler.lrs().at(-1) };
  if (run.data.dev) {
    // Dev scoring is timed on its own: tokens/s above is training throughput only.
    const devStarted = performance.now();
    const { scores } = await evaluate(model, run.encoder, run.labels, run.data.dev.sentences, run.backend, config.scheme);
    const devSeconds = (performance.now() - devStarted) / 1000;
    Object.assign(record, { devF1: scores.micro.f1, devPrecision: scores.micro.precision, devRecall: scores.micro.recall, devSeconds, devSentencesPerSecond: run.data.dev.sentences.length / devSeconds });
  }
  return record;
}

// ---------- phase: checkpoint ----------

function checkpointConfig(run: Run, metrics: Record<string, number>): CheckpointConfig {
  const { options, config } = run;
  const data = { train: options.train, dev: options.dev, test: options.test, pretrained: options.pretrained };
  return {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: config.model, labels: run.labels, scheme: config.scheme, train: config,
    encoder: run.encoderConfig, vocabulary: run.vocabulary.kind, metrics,
    // File names only: a checkpoint travels, the directories it was trained from do not.
    data: Object.fromEntries(Object.entries(data).filter(([, v]) => v).map(([k, v]) => [k, basename(v!)])),
    ...(run.typeMap ? { type_map: run.typeMap } : {}),
  };
}

/** Log the epoch; keep the model in out/best when dev F1 improved; save everything a resumed run needs in out/last. */
async function checkpointEpoch(run: Run, state: TrainerState, record: EpochRecord): Promise<void> {
  const { outDir, model, vocabulary, optimizer } = run;
  state.history.push(record);
  const improved = record.devF1 === null || state.bestDevF1 === null || record.devF1 > state.bestDevF1;
  const dev = record.devF1 === null ? '' : `, dev F1 ${record.devF1.toFixed(4)}`;
  const devTime = record.devSeconds === undefined ? '' : `; dev scored in ${formatSeconds(record.devSeconds)} (${Math.round(record.devSentencesPerSecond!)} sentences/s)`;
  const best = improved && record.devF1 !== null ? ' (best so far)' : '';
  run.log(`epoch ${record.epoch}: train loss ${record.trainLoss.toFixed(4)}${dev}, training ${Math.round(record.tokensPerSecond)} tokens/s in ${formatSeconds(record.seconds)}${devTime}${best}`);
  if (improved) {
    Object.assign(state, { bestDevF1: record.devF1, bestEpoch: record.epoch, badEpochs: 0 });
    await saveCheckpoint(join(outDir, 'best'), checkpointConfig(run, record.devF1 === null ? {} : { dev_f1: record.devF1 }), model, vocabulary);
  } else {
    state.badEpochs++;
  }
  state.epochsDone = record.epoch;
  const optimizerState = optimizer.stateDict();
  state.optimizer = { kind: optimizerState.kind, groups: optimizerState.groups };
  state.scheduler = run.scheduler.stateDict();
  state.globalRng = globalRng.getState();
  state.shuffleRng = run.shuffleRng.getState();
  await saveCheckpoint(join(outDir, 'last'), checkpointConfig(run, {}), model, vocabulary, async (tmp) => {
    await saveSafetensors(join(tmp, 'optimizer.safetensors'), optimizerState.tensors);
    await writeFile(join(tmp, 'trainer_state.json'), JSON.stringify(writeTrainerState(state), null, 2) + '\n');
  });
  for (const t of optimizerState.tensors.values()) t.dispose();
  await writeAtomically(run.metricsPath, state.history.map((h) => JSON.stringify(snakeKeys(h))).join('\n') + '\n');
}

// ---------- phase: finish ----------

/** The best model on test (dev when there is no test set), its scores in out/best and metrics.jsonl, report.html; then free the model. */
async function finish(run: Run, state: TrainerState): Promise<TrainResult> {
  const { config, model, backend, outDir } = run;
  const best = loadSafetensors(join(outDir, 'best', 'model.safetensors'), { backend });
  model.loadStateDict(best);
  for (const t of best.values()) t.dispose();
  let test: TrainResult['test'] = null;
  let perType: TypeScore[] = [];
  const evalData = run.data.test ?? run.data.dev;
  if (evalData) {
    const { scores } = await evaluate(model, run.encoder, run.labels, evalData.sentences, backend, config.scheme);
    perType = typeScores(scores);
    if (run.data.test) {
      const { f1, precision, recall } = scores.micro;
      test = { f1, precision, recall, report: classificationReport(scores, 4) };
      const bestConfig = checkpointConfig(run, { ...(state.bestDevF1 === null ? {} : { dev_f1: state.bestDevF1 }), test_f1: f1, test_precision: precision, test_recall: recall });
      await saveCheckpoint(join(outDir, 'best'), bestConfig, model, run.vocabulary);
      const testLine = JSON.stringify({ split: 'test', best_epoch: state.bestEpoch, f1, precision, recall, per_type: perType });
      await writeAtomically(run.metricsPath, [...state.history.map((h) => JSON.stringify(snakeKeys(h))), testLine].join('\n') + '\n');
    }
  }
  const summary = {
    model: config.model, backend: backend.name, 'best epoch': state.bestEpoch,
    'best dev F1': state.bestDevF1 === null ? 'n/a' : state.bestDevF1.toFixed(4), 'test F1': test ? test.f1.toFixed(4) : 'n/a',
    parameters: run.parameterCount, seed: config.seed,
  };
  await writeAtomically(join(outDir, 'report.html'), renderReport({ title: `medner ${config.model} on ${basename(run.options.train)}`, history: state.history, perType, summary }));
  model.classWeights?.dispose();
  model.dispose();
  run.optimizer.dispose?.();
  return { bestDevF1: state.bestDevF1, bestEpoch: state.bestEpoch, test, history: state.history, outDir };
}
