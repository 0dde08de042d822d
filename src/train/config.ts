// Training configuration: every hyperparameter with its documented default.
// Precedence: defaults < --config file.json < command-line flags.

import { platform } from '../platform/index.js';
import { parseScheme, type TaggingScheme } from '../data/schemes.js';

/** bilstm-semicrf and bert-semicrf are bilstm-crf and bert-crf with crf: 'semi-markov'. */
export type ModelKind = 'bilstm-crf' | 'bert-bilstm-crf' | 'bert-crf' | 'bert-softmax' | 'bilstm-semicrf' | 'bert-semicrf';
/** 'auto': from each file's name (and first line), see src/data/formats.ts. */
export type CorpusFormat = 'auto' | 'conll' | 'brat' | 'pubtator' | 'jsonl';

export interface TrainConfig {
  model: ModelKind;
  format: CorpusFormat;
  /** Tagging scheme the model predicts: BIO or BIOES (config files and older checkpoints may say iob2, iobes). */
  scheme: TaggingScheme;
  epochs: number;
  batchSize: number;
  /** Learning rate of everything but the BERT encoder (embeddings, BiLSTM, Linear, CRF). */
  lr: number;
  /** Learning rate of a pretrained BERT encoder (fine-tuning wants a small one); an encoder trained from scratch uses lr. */
  encoderLr: number;
  /** Fraction of all optimizer steps spent in linear warmup. */
  warmup: number;
  schedule: 'linear' | 'cosine' | 'constant';
  weightDecay: number;
  /** Global gradient-norm clipping; 0 disables. */
  clip: number;
  /** Dropout of the BiLSTM-CRF and of every tagger head. */
  dropout: number;
  /** Dropout inside BERT (hidden and attention), when training one from scratch. */
  bertDropout: number;
  /** Epochs without a dev-F1 improvement before stopping. */
  patience: number;
  /** CRF transition constraints from the scheme: 'off', 'decode' only, or 'train+decode'. */
  constraints: 'off' | 'decode' | 'train+decode';
  /** The CRF variant of the CRF models (src/crf/variant.ts): linear-chain or semi-Markov. */
  crf: 'linear' | 'semi-markov';
  /** Longest segment, in words, of the semi-Markov CRF (longer gold entities are cut in training). */
  maxSegmentLength: number;
  /** Weight the loss by inverse tag frequency (softmax head only). */
  classWeights: boolean;
  /** Optimizer steps accumulate gradients over this many batches. */
  gradAccumulation: number;
  seed: number;
  // BiLSTM-CRF from word (+char) embeddings
  wordDim: number;
  charDim: number;
  /** Character features per word: a char-CNN or none. */
  charFeatures: 'cnn' | 'none';
  charFilters: number;
  lstmHidden: number;
  minWordCount: number;
  lowercase: boolean;
  // BERT variants
  /** Subword-to-word pooling before the BiLSTM/CRF. */
  pooling: 'first' | 'mean';
  /** Encoder shape when training from scratch (ignored with --pretrained). */
  bertLayers: number;
  bertHidden: number;
  bertHeads: number;
  bertIntermediate: number;
  /** Longest subword sequence fed to BERT; longer sentences are split into windows. */
  maxLength: number;
}

export const DEFAULTS: TrainConfig = {
  model: 'bilstm-crf',
  format: 'auto',
  scheme: 'BIO',
  epochs: 10,
  batchSize: 16,
  lr: 1e-2,
  encoderLr: 5e-5,
  warmup: 0.1,
  schedule: 'linear',
  weightDecay: 0.01,
  clip: 5,
  dropout: 0.5,
  bertDropout: 0.1,
  patience: 3,
  constraints: 'train+decode',
  crf: 'linear',
  maxSegmentLength: 6,
  classWeights: false,
  gradAccumulation: 1,
  seed: 42,
  wordDim: 64,
  charDim: 16,
  charFeatures: 'cnn',
  charFilters: 32,
  lstmHidden: 64,
  minWordCount: 1,
  lowercase: false,
  pooling: 'first',
  bertLayers: 2,
  bertHidden: 128,
  bertHeads: 2,
  bertIntermediate: 512,
  maxLength: 128,
};

/** Settings whose good default depends on the model: a BiLSTM from scratch wants a larger step and more dropout than a head on BERT. */
export const MODEL_DEFAULTS: Record<ModelKind, Partial<TrainConfig>> = {
  'bilstm-crf': { lr: 1e-2, dropout: 0.5 },
  'bert-bilstm-crf': { lr: 1e-3, dropout: 0.1 },
  'bert-crf': { lr: 1e-3, dropout: 0.1 },
  'bert-softmax': { lr: 1e-3, dropout: 0.1 },
  'bilstm-semicrf': { lr: 1e-2, dropout: 0.5, crf: 'semi-markov' },
  'bert-semicrf': { lr: 1e-3, dropout: 0.1, crf: 'semi-markov' },
};

/** The defaults for one model kind. */
export function defaultsFor(model: ModelKind): TrainConfig {
  return { ...DEFAULTS, ...MODEL_DEFAULTS[model], model };
}

const CHOICES: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  model: ['bilstm-crf', 'bert-bilstm-crf', 'bert-crf', 'bert-softmax', 'bilstm-semicrf', 'bert-semicrf'],
  crf: ['linear', 'semi-markov'],
  format: ['auto', 'conll', 'brat', 'pubtator', 'jsonl'],
  scheme: ['BIO', 'BIOES'],
  schedule: ['linear', 'cosine', 'constant'],
  constraints: ['off', 'decode', 'train+decode'],
  charFeatures: ['cnn', 'none'],
  pooling: ['first', 'mean'],
};

/** BIO or BIOES from any accepted spelling; other names pass through for the choices check to report. */
function schemeName(name: string): string {
  try {
    return parseScheme(name, ['BIO', 'BIOES']);
  } catch {
    return name;
  }
}

/** Merge overrides into the defaults, checking names, types and ranges; `source` names where they came from. */
export function resolveConfig(overrides: Partial<Record<string, unknown>>, source: string, base: TrainConfig = DEFAULTS): TrainConfig {
  const config: Record<string, unknown> = { ...base };
  for (const [given, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    // Files may spell keys in snake_case (as medner writes them) or camelCase.
    const key = given.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in DEFAULTS)) throw new Error(`${source}: unknown setting "${given}" (known: ${Object.keys(DEFAULTS).map(snakeCase).join(', ')})`);
    const expected = typeof DEFAULTS[key as keyof TrainConfig];
    let v = value;
    if (expected === 'number' && typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) v = Number(v);
    if (expected === 'boolean' && typeof v === 'string') v = v === 'true' ? true : v === 'false' ? false : v;
    if (typeof v !== expected) throw new Error(`${source}: "${key}" must be a ${expected}, got ${JSON.stringify(value)}`);
    // The scheme's other spellings (iob2, iobes, any case), from config files and the command line, become BIO and BIOES here.
    if (key === 'scheme' && typeof v === 'string') v = schemeName(v);
    const choices = CHOICES[key as keyof TrainConfig];
    if (choices && !choices.includes(v as string)) throw new Error(`${source}: "${key}" must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    config[key] = v;
  }
  const c = config as unknown as TrainConfig;
  // bilstm-semicrf and bert-semicrf name the semi-Markov CRF; the crf key follows the model.
  if (c.model.endsWith('-semicrf')) {
    if (overrides.crf === 'linear') throw new Error(`${source}: "model" ${c.model} is a semi-Markov CRF model; "crf" cannot be linear`);
    c.crf = 'semi-markov';
  }
  const positive: (keyof TrainConfig)[] = ['epochs', 'batchSize', 'gradAccumulation', 'wordDim', 'lstmHidden', 'charDim', 'charFilters', 'bertLayers', 'bertHidden', 'bertHeads', 'bertIntermediate', 'maxLength', 'maxSegmentLength'];
  for (const key of positive) if (!Number.isInteger(c[key]) || (c[key] as number) < 1) throw new Error(`${source}: "${key}" must be a positive integer, got ${c[key]}`);
  if (c.dropout < 0 || c.dropout >= 1) throw new Error(`${source}: "dropout" must be in [0, 1), got ${c.dropout}`);
  if (c.warmup < 0 || c.warmup > 1) throw new Error(`${source}: "warmup" is a fraction of the steps in [0, 1], got ${c.warmup}`);
  if (c.bertHidden % c.bertHeads !== 0) throw new Error(`${source}: bertHidden ${c.bertHidden} is not divisible by bertHeads ${c.bertHeads}`);
  return c;
}

/** snake_case of a camelCase name: the spelling of every key medner writes. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** An object's keys in snake_case (one level deep). */
export function snakeKeys<T extends object>(object: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [snakeCase(k), v]));
}

/** An object's snake_case keys in camelCase (one level deep): reading back what snakeKeys wrote. */
export function camelKeys(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

/** Read a JSON config file; errors name the file. */
export function readConfigFile(path: string): Partial<TrainConfig> {
  let text: string;
  try {
    text = platform.fsSync.readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the config file`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Partial<TrainConfig>;
  } catch (error) {
    throw new Error(`${path}: invalid JSON config (${(error as Error).message})`);
  }
}
