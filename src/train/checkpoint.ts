// Checkpoint directories: config.json (model and training settings, labels,
// scheme), model.safetensors (Hugging Face-style names), the vocabulary, and a
// model card. A directory is written under a temporary name and renamed into
// place, so an interrupted save never leaves a half-written checkpoint.
// Loading reads a set of named files (CheckpointFiles): a directory on disk, or
// bytes a browser fetched or was handed by a file input; checkpointFileContents
// gives the files saveCheckpoint writes, in memory, so the CLI and a page share models.

import { platform } from '../platform/index.js';
import type { Backend } from '../backend/backend.js';
import { loadSafetensors, loadSafetensorsBytes, SafetensorsReader, saveSafetensors, serializeSafetensors, type HostTensor } from '../io/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkQuantized, type QuantizedMatrix } from '../ops/quantized.js';
import { setQuantizedWeights } from '../nn/quantize.js';
import { withAllocationLimit } from '../tensor/shape.js';
import { decodeUtf8 } from '../data/files.js';
import type { EncoderConfig } from '../nn/encoder-config.js';
import { fromHfConfigJson, toHfConfigJson } from '../io/hf-config.js';
import { loadTokenizerFiles } from '../text/load-tokenizer.js';
import { resolveConfig, snakeKeys, type TrainConfig } from './config.js';
import { createModel, type ModelVocabulary, type NerModel } from './model-factory.js';
import type { SentenceEncoder } from './encode.js';
import { Vocabulary } from './vocab.js';
import { isHfTokenClassifier, loadHfTokenClassifier } from './huggingface.js';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, QUANTIZED_CHECKPOINT_VERSION } from './checkpoint-format.js';

const { mkdir, readFile, rename, rm, stat, writeFile } = platform.fs;
const { join } = platform.path;

/** A checkpoint's files by name, wherever they are: a directory, files given to a page, a map in memory. */
export interface CheckpointFiles {
  /** What error messages call the set: a directory path, or a label in parentheses. */
  readonly location: string;
  /** The bytes of `name` (e.g. 'config.json'), or null when the set has no such file. */
  read(name: string): Promise<Uint8Array | null>;
  /** On disk: the path of `name`, so safetensors are read a tensor at a time, never whole. */
  path?(name: string): string;
}

/** The files of a directory on disk. */
export function directoryFiles(dir: string): CheckpointFiles {
  return {
    location: dir,
    read: (name) => readFile(join(dir, name)).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength), () => null),
    path: (name) => join(dir, name),
  };
}

/** Files already in memory, by name: what a browser fetched or read from a file input. */
export function memoryFiles(files: Map<string, Uint8Array> | Record<string, Uint8Array>, location = '(checkpoint files)'): CheckpointFiles {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return { location, read: async (name) => map.get(name) ?? null };
}

const where = (files: CheckpointFiles, name: string) => files.path?.(name) ?? `${files.location} ${name}`;
const asFiles = (source: string | CheckpointFiles): CheckpointFiles => (typeof source === 'string' ? directoryFiles(source) : source);
import { CHECKPOINT_FORMAT, QUANTIZED_CHECKPOINT_VERSION } from './checkpoint-format.js';

/**
 * How an int8 checkpoint was made (medner quantize; src/nn/quantize.ts): each listed weight is stored
 * as I8 [out, in] under its own name with its per-output-channel F32 scales under `<name>_scale`.
 */
export interface QuantizationInfo {
  method: 'dynamic-int8';
  weights: string;
  activations: string;
  /** The dotted names of the int8 weights. */
  parameters: string[];
}

/** The suffix of an int8 weight's scales in model.safetensors. */
export const SCALE_SUFFIX = '_scale';

export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  model: TrainConfig['model'];
  labels: string[];
  scheme: TrainConfig['scheme'];
  train: TrainConfig;
  /**
   * The BERT models' encoder, of any architecture (bert, roberta, distilbert, albert); null for the
   * BiLSTM-CRF. config.json holds it under "bert" in Hugging Face's field names (toHfConfigJson).
   */
  encoder: EncoderConfig | null;
  vocabulary: 'words' | 'subwords';
  /** Scores at save time, e.g. {"dev_f1": 0.81}. */
  metrics: Record<string, number>;
  /** The training data's file names, for the model card. */
  data: Record<string, string>;
  /** Entity types rewritten in the training data (label map and rare-type grouping), when any. */
  type_map?: Record<string, string | null>;
  /** Present in an int8 checkpoint (medner quantize): inference only. */
  quantization?: QuantizationInfo;
}

export interface LoadedCheckpoint {
  config: CheckpointConfig;
  model: NerModel;
  encoder: SentenceEncoder;
  vocabulary: ModelVocabulary;
}

/** Write files into `dir` atomically: build `dir.tmp`, then swap it in. */
export async function writeDirectoryAtomically(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  // A save killed between its two renames left the only complete copy in .old: put it back first, so the
  // `rm(old)` below can never delete it.
  if (!(await hasConfig(dir)) && (await hasConfig(old))) {
    await rm(dir, { recursive: true, force: true });
    await rename(old, dir);
  }
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await rm(old, { recursive: true, force: true });
  const exists = await stat(dir).then(() => true, () => false);
  if (exists) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The vocabulary's files by name: words.txt (+ chars.txt), or the tokenizer's files. */
function vocabularyFiles(vocabulary: ModelVocabulary): Map<string, string | Uint8Array> {
  if (vocabulary.kind === 'words') {
    const files = new Map([['words.txt', vocabulary.words.toText()]]);
    if (vocabulary.chars) files.set('chars.txt', vocabulary.chars.toText());
    return files;
  }
  // The tokenizer's own files: vocab.txt + tokenizer_config.json (WordPiece), or tokenizer.json (BPE, Unigram).
  return vocabulary.tokenizer.files();
}

export async function writeVocabulary(dir: string, vocabulary: ModelVocabulary): Promise<void> {
  for (const [name, text] of vocabularyFiles(vocabulary)) await writeFile(join(dir, name), text);
}

/** Every text file of a checkpoint: config.json (keys in snake_case, the training settings included), the vocabulary, the model card. */
function textFiles(config: CheckpointConfig, vocabulary: ModelVocabulary): Map<string, string | Uint8Array> {
  return new Map([['config.json', JSON.stringify(checkpointJson(config), null, 2) + '\n'], ...vocabularyFiles(vocabulary), ['README.md', modelCard(config)]]);
}

/** config.json as written: the training settings' keys in snake_case, the encoder as a Hugging Face config under "bert". */
function checkpointJson(config: CheckpointConfig): Record<string, unknown> {
  const { encoder, ...rest } = config;
  return { ...rest, train: snakeKeys(config.train), bert: encoder ? toHfConfigJson(encoder) : null };
}

const WEIGHTS_METADATA = { format: 'pt', producer: 'medner' };

function modelCard(config: CheckpointConfig): string {
  const metrics = Object.entries(config.metrics).map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`).join('\n');
  const data = Object.entries(config.data).map(([k, v]) => `- ${k}: \`${v}\``).join('\n');
  const types = [...new Set(config.labels.filter((l) => l !== 'O').map((l) => l.slice(2)))];
  return `# medner model: ${config.model}

A ${config.model} named-entity recognizer trained with medner (scheme ${config.scheme}).
Entity types: ${types.join(', ') || '(none)'}.${config.quantization ? `

int8 (dynamic quantization, \`medner quantize\`): ${config.quantization.parameters.length} Linear and LSTM weights
are int8 with one scale per output channel; activations are quantized per row at run time. For predict and
eval only; the scores below are the float model's.` : ''}

## Data
${data || '- (not recorded)'}

## Scores
| metric | value |
| --- | --- |
${metrics || '| (none yet) | |'}

## Settings
\`\`\`json
${JSON.stringify(snakeKeys(config.train), null, 2)}
\`\`\`

## Use
\`\`\`
medner predict --model <this directory> input.txt
medner eval --model <this directory> --test test.tsv
\`\`\`
Files: config.json (model, labels, settings), model.safetensors (weights, Hugging Face-style names),
${config.vocabulary === 'words' ? 'words.txt and chars.txt (vocabularies)' : 'vocab.txt and tokenizer_config.json (WordPiece)'}.
`;
}

/** The model's weights as model.safetensors holds them: the f32 parameters, and each int8 weight (I8) with its scales (F32). */
function weightTensors(model: NerModel): [string, Tensor | HostTensor][] {
  const tensors: [string, Tensor | HostTensor][] = [...model.stateDict()];
  for (const [name, q] of model.namedQuantized()) {
    tensors.push([name, { shape: [q.rows, q.cols], data: q.values }], [name + SCALE_SUFFIX, { shape: [q.rows], data: q.scales }]);
  }
  return tensors;
}

/** Save the model (and optional extra files) as a checkpoint directory. */
export async function saveCheckpoint(dir: string, config: CheckpointConfig, model: NerModel, vocabulary: ModelVocabulary, extra?: (tmp: string) => Promise<void>): Promise<void> {
  await writeDirectoryAtomically(dir, async (tmp) => {
    // The weights stream to disk a tensor at a time; the text files are small. readCheckpointConfig takes either key spelling.
    await saveSafetensors(join(tmp, 'model.safetensors'), weightTensors(model), { metadata: WEIGHTS_METADATA });
    for (const [name, text] of textFiles(config, vocabulary)) await writeFile(join(tmp, name), text);
    if (extra) await extra(tmp);
  });
}

/** The files saveCheckpoint writes, in memory (a page offers them for download): the same bytes, file by file. */
export async function checkpointFileContents(config: CheckpointConfig, model: NerModel, vocabulary: ModelVocabulary): Promise<Map<string, Uint8Array>> {
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>([['model.safetensors', await serializeSafetensors(weightTensors(model), { metadata: WEIGHTS_METADATA })]]);
  for (const [name, text] of textFiles(config, vocabulary)) files.set(name, typeof text === 'string' ? encoder.encode(text) : text);
  return files;
}

async function readText(files: CheckpointFiles, name: string): Promise<string> {
  const bytes = await files.read(name);
  if (!bytes) throw new Error(`${where(files, name)}: missing; is this a medner checkpoint directory (config.json, model.safetensors, vocabulary)?`);
  return decodeUtf8(bytes, where(files, name));
}

const hasConfig = (dir: string) => stat(join(dir, 'config.json')).then(() => true, () => false);

/**
 * `dir`, or `dir.old` when a save was killed between its two renames (the previous
 * checkpoint is then complete under .old).
 */
export async function completeCheckpoint(dir: string): Promise<string> {
  return !(await hasConfig(dir)) && (await hasConfig(`${dir}.old`)) ? `${dir}.old` : dir;
}

/** A training output directory holds the best checkpoint in best/; accept either. */
export async function resolveCheckpointDir(dir: string): Promise<string> {
  const direct = await completeCheckpoint(dir);
  if (await hasConfig(direct)) return direct;
  const best = await completeCheckpoint(join(dir, 'best'));
  return (await hasConfig(best)) ? best : dir;
}

export async function readCheckpointConfig(source: string | CheckpointFiles): Promise<CheckpointConfig> {
  const files = asFiles(source);
  const path = where(files, 'config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readText(files, 'config.json')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${path}: not a JSON object`);
  if (json.format !== CHECKPOINT_FORMAT) throw new Error(`${path}: not a medner checkpoint (format is ${JSON.stringify(json.format)}) nor a Hugging Face token-classification model (no id2label); to fine-tune a pretrained encoder use train --pretrained`);
  if ((json.version as number) > QUANTIZED_CHECKPOINT_VERSION) throw new Error(`${path}: checkpoint version ${String(json.version)} is newer than this medner (${QUANTIZED_CHECKPOINT_VERSION})`);
  const { bert, ...rest } = json;
  const config = rest as unknown as CheckpointConfig;
  config.train = resolveConfig(json.train as Record<string, unknown>, path);
  // Checkpoints of a BERT trained from scratch hold a config without model_type: BERT.
  config.encoder = bert === undefined || bert === null ? null : fromHfConfigJson(bert, `${path}: bert`, 'bert');
  if (config.quantization !== undefined) checkQuantizationInfo(config.quantization, path);
  return config;
}

function checkQuantizationInfo(info: unknown, path: string): void {
  const q = info as Partial<QuantizationInfo> | null;
  if (q === null || typeof q !== 'object' || q.method !== 'dynamic-int8' || !Array.isArray(q.parameters) || !q.parameters.every((p) => typeof p === 'string')) {
    throw new Error(`${path}: "quantization" must be {"method": "dynamic-int8", "parameters": [weight names], ...}, got ${JSON.stringify(info)}`);
  }
}

/**
 * Refuse an int8 checkpoint where a float model is needed (training, --resume, --pretrained, export):
 * `dir` holds a config.json with a `quantization` entry.
 */
export async function refuseQuantized(dir: string, use: string): Promise<void> {
  const raw = await readFile(join(dir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => null);
  if (raw && typeof raw === 'object' && raw.quantization !== undefined) {
    throw new Error(`${join(dir, 'config.json')}: an int8 checkpoint (medner quantize) is for predict and eval only, not ${use}; use the float checkpoint it was made from`);
  }
}

export async function readVocabulary(source: string | CheckpointFiles, config: CheckpointConfig): Promise<ModelVocabulary> {
  const files = asFiles(source);
  if (config.vocabulary === 'words') {
    const words = Vocabulary.fromText(await readText(files, 'words.txt'), where(files, 'words.txt'));
    const chars = config.train.charFeatures === 'cnn' ? Vocabulary.fromText(await readText(files, 'chars.txt'), where(files, 'chars.txt')) : null;
    return { kind: 'words', words, chars };
  }
  try {
    return { kind: 'subwords', tokenizer: await loadTokenizerFiles({ read: (name) => files.read(name), where: (name) => where(files, name) }) };
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.includes(files.location) ? message : `${where(files, 'vocab.txt')}: ${message}`);
  }
}

/** Float dtypes a model's weights may be stored in (converted to f32 on reading); an int8 checkpoint's listed weights are I8. */
const WEIGHT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Load a checkpoint directory (or a training output directory, via its best/), or a Hugging Face
 * token-classification directory (config.json with id2label; see huggingface.ts). Nothing in config.json, the
 * vocabularies or the weights header is trusted for sizes: the weights file's header is read first, the model
 * is built under an allocation limit of what that file holds, and names, shapes and dtypes are compared
 * before any weight is read, so a wrong or hostile checkpoint is refused before memory is spent on it.
 */
export async function loadCheckpoint(dirIn: string, backend: Backend): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpointDir(dirIn);
  const raw = await readFile(join(dir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => null);
  if (raw && isHfTokenClassifier(raw)) return loadHfTokenClassifier(dir, backend);
  return loadCheckpointFromFiles(directoryFiles(dir), backend);
}

/**
 * Load a medner checkpoint from its files wherever they are: memoryFiles(...) in a browser, directoryFiles(dir)
 * on disk (read a tensor at a time). The same checks as loadCheckpoint, before any weight is read.
 */
export async function loadCheckpointFromFiles(files: CheckpointFiles, backend: Backend): Promise<LoadedCheckpoint> {
  const config = await readCheckpointConfig(files);
  const vocabulary = await readVocabulary(files, config);
  const weightsPath = where(files, 'model.safetensors');
  const configPath = where(files, 'config.json');
  const bytes = files.path ? null : await files.read('model.safetensors');
  if (!files.path && !bytes) throw new Error(`${weightsPath}: missing; is this a medner checkpoint directory (config.json, model.safetensors, vocabulary)?`);
  const reader = bytes ? SafetensorsReader.fromBytes(bytes, weightsPath) : SafetensorsReader.open(weightsPath);
  const entries = reader.header.entries;
  reader.close();
  const int8Names = new Set(config.quantization?.parameters ?? []);
  const scaleNames = new Set([...int8Names].map((n) => n + SCALE_SUFFIX));
  let stored = 0;
  for (const entry of entries.values()) {
    if (int8Names.has(entry.name)) {
      if (entry.dtype !== 'I8') throw new Error(`${weightsPath}: tensor '${entry.name}' has dtype ${entry.dtype}; config.json lists it as an int8 weight (I8)`);
    } else if (!WEIGHT_DTYPES.has(entry.dtype)) {
      throw new Error(`${weightsPath}: tensor '${entry.name}' has dtype ${entry.dtype}; weights are F32, F16, BF16 or F64${entry.dtype === 'I8' ? ' (I8 only for the int8 weights config.json lists under "quantization")' : ''}`);
    }
    if (!scaleNames.has(entry.name)) stored += entry.shape.reduce((a, b) => a * b, 1);
  }
  // Slack for the few buffers a model holds beside its parameters (CRF constraint masks, position tables).
  const limit = Math.ceil(stored * 1.125) + (1 << 20);
  const refuse = (wanted: number) =>
    new Error(`${configPath}: describes a model larger than the ${stored.toLocaleString('en-US')} values in model.safetensors (a tensor of ${wanted.toLocaleString('en-US')} values is past that); a size in config.json or a vocabulary file is wrong, or tensors are missing`);
  const { model, encoder } = withAllocationLimit(limit, refuse, () => {
    try {
      return createModel(config.train, vocabulary, config.labels, config.encoder);
    } catch (error) {
      const message = (error as Error).message;
      throw message.startsWith(`${files.location}/`) ? error : new Error(`${configPath}: ${message}`);
    }
  });
  try {
    const own = model.stateDict();
    const missing = [...own.keys(), ...scaleNames].filter((name) => !entries.has(name));
    const unexpected = [...entries.keys()].filter((name) => !own.has(name) && !scaleNames.has(name));
    const notQuantizable = [...int8Names].filter((name) => !own.has(name));
    if (missing.length || unexpected.length) {
      const list = (names: string[]) => names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length})` : '');
      throw new Error(`${weightsPath}: ${missing.length ? `missing ${list(missing)}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${list(unexpected)}` : ''} for the model config.json describes`);
    }
    if (notQuantizable.length) throw new Error(`${configPath}: "quantization" lists ${notQuantizable.slice(0, 5).join(', ')}, not weights of this model`);
    for (const [name, t] of own) {
      const shape = entries.get(name)!.shape;
      if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`${weightsPath}: tensor '${name}' has shape [${shape.join(', ')}] but config.json and the vocabulary give [${t.shape.join(', ')}]`);
      }
    }
    if (int8Names.size) setQuantizedWeights(model, readInt8Weights(bytes ? SafetensorsReader.fromBytes(bytes, weightsPath) : SafetensorsReader.open(weightsPath), int8Names));
    const float = (name: string) => !int8Names.has(name) && !scaleNames.has(name);
    const weights: Map<string, Tensor> = bytes ? loadSafetensorsBytes(bytes, { backend, filter: float }, weightsPath) : loadSafetensors(weightsPath, { backend, filter: float });
    try {
      model.loadStateDict(weights);
    } finally {
      for (const t of weights.values()) t.dispose();
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { config, model, encoder, vocabulary };
}

/** The int8 weights and their scales, checked (scales [rows], finite, >= 0); the reader is closed. */
function readInt8Weights(reader: SafetensorsReader, names: Set<string>): Map<string, QuantizedMatrix> {
  const weights = new Map<string, QuantizedMatrix>();
  try {
    for (const name of names) {
      const shape = reader.entry(name).shape;
      const scaleShape = reader.entry(name + SCALE_SUFFIX).shape;
      if (shape.length !== 2) throw new Error(`${reader.file}: int8 tensor '${name}' has shape [${shape.join(', ')}]; int8 weights are matrices`);
      if (scaleShape.length !== 1 || scaleShape[0] !== shape[0]) throw new Error(`${reader.file}: tensor '${name}${SCALE_SUFFIX}' has shape [${scaleShape.join(', ')}]; '${name}' [${shape.join(', ')}] needs [${shape[0]}]`);
      const q = { rows: shape[0]!, cols: shape[1]!, values: reader.readInt8(name), scales: reader.readFloat32(name + SCALE_SUFFIX) };
      checkQuantized(q, `${reader.file}: tensor '${name}${SCALE_SUFFIX}'`);
      weights.set(name, q);
    }
  } finally {
    reader.close();
  }
  return weights;
}
