// Models that travel between medner and Hugging Face transformers.
//
// Export: a BERT-family tagger becomes a token-classification directory that
// AutoModelForTokenClassification and AutoTokenizer load: config.json with model_type,
// architectures and id2label/label2id, model.safetensors under HF's names (the encoder under
// its model prefix -- bert., roberta., distilbert., albert., transformer. (GPT-Neo) -- and classifier.*), vocab.txt and
// tokenizer_config.json. What transformers has no class for -- the CRF (and a BiLSTM between
// the encoder and the classifier) -- goes into crf.safetensors, with a model card saying how to
// decode with it; config.json's "medner" entry lets medner rebuild the model exactly.
//
// Import: predict and eval take such a directory -- exported by medner or fine-tuned with
// transformers (BertForTokenClassification, RobertaFor..., DistilBertFor..., AlbertFor..., GPTNeoFor...) --
// as they take a medner checkpoint; labels come from id2label, the tokenizer must be WordPiece.

import { platform } from '../platform/index.js';
import type { Backend } from '../backend/backend.js';
import { SafetensorsReader } from '../io/safetensors.js';
import { checkpointFiles, ignoredHeadReason, normalizeTensorName, readHfConfig, type EncoderType } from '../io/hf-config.js';
import { isValidTag } from '../data/schemes.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { defaultsFor, resolveConfig, type ModelKind } from './config.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoint-format.js';
import type { CheckpointConfig, LoadedCheckpoint } from './checkpoint.js';
import { createModel } from './model-factory.js';
import { loadPretrainedTokenizer } from './pretrained.js';

const { existsSync, readFileSync } = platform.fsSync;
const { writeFile } = platform.fs;
const { basename, join } = platform.path;

/** Where a task model keeps its encoder, per architecture (BertForTokenClassification: `bert.`). */
export const MODEL_PREFIX: Record<EncoderType, string> = { bert: 'bert.', roberta: 'roberta.', distilbert: 'distilbert.', albert: 'albert.', modernbert: 'model.', gpt_neo: 'transformer.' };
export const ARCHITECTURE: Record<EncoderType, string> = {
  bert: 'BertForTokenClassification',
  roberta: 'RobertaForTokenClassification',
  distilbert: 'DistilBertForTokenClassification',
  albert: 'AlbertForTokenClassification',
  modernbert: 'ModernBertForTokenClassification',
  gpt_neo: 'GPTNeoForTokenClassification',
};
/** Encoder tensors the HF task model holds outside its model prefix: ModernBERT's prediction head (`head.dense`, `head.norm`), which medner keeps in the encoder. */
const OUTSIDE_PREFIX = /^head\./;
/** The tensors transformers has no class for: the CRF, and a BiLSTM (with its classifier) before it. */
export const HEAD_FILE = 'crf.safetensors';

/** What config.json's "medner" entry holds: enough to rebuild the tagger exactly. */
export interface MednerEntry {
  model: ModelKind;
  scheme: 'BIO' | 'BIOES';
  pooling: 'first' | 'mean';
  constraints: 'off' | 'decode' | 'train+decode';
  max_length: number;
  lstm_hidden?: number;
  /** 'semi-markov' for the semi-Markov CRF (decoding it needs medner). */
  crf?: 'linear' | 'semi-markov';
}

/** True when a config.json describes a Hugging Face token-classification model (not a medner checkpoint). */
export function isHfTokenClassifier(config: Record<string, unknown>): boolean {
  if (config.format === CHECKPOINT_FORMAT) return false;
  const architectures = Array.isArray(config.architectures) ? (config.architectures as unknown[]) : [];
  return architectures.some((a) => typeof a === 'string' && a.endsWith('ForTokenClassification')) || (typeof config.model_type === 'string' && typeof config.id2label === 'object' && config.id2label !== null);
}

/** Labels in id order from id2label; each must be a tag medner reads (O, B-X, I-X, E-X, S-X). */
function labelsFromId2label(config: Record<string, unknown>, file: string): string[] {
  const id2label = config.id2label as Record<string, unknown> | undefined;
  if (!id2label || typeof id2label !== 'object') throw new Error(`${file}: no id2label; a token-classification config names its labels there`);
  const entries = Object.entries(id2label);
  const labels: string[] = [];
  for (const [id, name] of entries) {
    const i = Number(id);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length) throw new Error(`${file}: id2label key "${id}" is not an id 0..${entries.length - 1}`);
    if (typeof name !== 'string' || !isValidTag(name)) {
      throw new Error(`${file}: id2label ${id} is ${JSON.stringify(name)}; medner needs tag names (O, B-TYPE, I-TYPE, E-/S-TYPE)${typeof name === 'string' && /^LABEL_\d+$/.test(name) ? ' -- LABEL_n are transformers\' placeholders: set id2label to the real tags' : ''}`);
    }
    labels[i] = name;
  }
  return labels;
}

/** Load a Hugging Face token-classification directory as a tagger, ready for predict and eval. */
export async function loadHfTokenClassifier(dir: string, backend: Backend): Promise<LoadedCheckpoint> {
  const file = join(dir, 'config.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const encoder = readHfConfig(dir);
  const labels = labelsFromId2label(raw, file);
  const entry = (raw.medner ?? {}) as Partial<MednerEntry>;
  const hasHead = existsSync(join(dir, HEAD_FILE));
  const kind: ModelKind = entry.model ?? (hasHead ? 'bert-crf' : 'bert-softmax');
  const train = resolveConfig(
    {
      model: kind,
      scheme: entry.scheme ?? (labels.some((l) => /^[ES]-/.test(l)) ? 'BIOES' : 'BIO'),
      pooling: entry.pooling ?? 'first',
      constraints: entry.constraints ?? 'decode',
      maxLength: entry.max_length ?? Math.min(512, encoder.maxPositions - encoder.positionOffset),
      lstmHidden: entry.lstm_hidden,
      crf: entry.crf,
    },
    `${file} ("medner" entry)`,
    defaultsFor(kind),
  );
  const tokenizer = await loadPretrainedTokenizer(dir);
  const { model, encoder: sentenceEncoder } = createModel(train, { kind: 'subwords', tokenizer }, labels, encoder);

  // Every model tensor from the checkpoint: the encoder under its prefix, classifier.*, and the head file.
  const readers: SafetensorsReader[] = [];
  const owner = new Map<string, { reader: SafetensorsReader; name: string }>();
  try {
    for (const path of [...checkpointFiles(dir), ...(hasHead ? [join(dir, HEAD_FILE)] : [])]) {
      const reader = SafetensorsReader.open(path);
      readers.push(reader);
      for (const name of reader.names()) {
        const own = internalName(name, encoder.modelType);
        if (own) owner.set(own, { reader, name });
      }
    }
    const state = new Map<string, Tensor>();
    const problems: string[] = [];
    for (const [name, parameter] of model.namedParameters()) {
      const source = owner.get(name);
      if (!source) {
        problems.push(`${hfName(name, encoder.modelType)}: missing (the model expects ${fmt(parameter.shape)})`);
        continue;
      }
      const shape = source.reader.entry(source.name).shape;
      if (shape.length !== parameter.shape.length || shape.some((d, i) => d !== parameter.shape[i])) {
        problems.push(`${source.name}: the checkpoint has ${fmt(shape)}, the model expects ${fmt(parameter.shape)}`);
        continue;
      }
      state.set(name, tensor(source.reader.readFloat32(source.name), parameter.shape, { backend }));
    }
    if (problems.length) {
      for (const t of state.values()) t.dispose();
      model.dispose();
      throw new Error(`${dir}: not a ${ARCHITECTURE[encoder.modelType]} medner can use (${labels.length} labels): ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`);
    }
    model.loadStateDict(state);
    for (const t of state.values()) t.dispose();
  } finally {
    for (const r of readers) r.close();
  }
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: kind,
    labels,
    scheme: train.scheme,
    train,
    encoder,
    vocabulary: 'subwords',
    metrics: {},
    data: { source: `huggingface ${ARCHITECTURE[encoder.modelType]} (${basename(dir)})` },
  };
  return { config, model, encoder: sentenceEncoder, vocabulary: { kind: 'subwords', tokenizer } };
}

/** A checkpoint tensor's name in the tagger (bert.*, classifier.*, crf.*, lstm.*), or null if the tagger has no use for it. */
function internalName(name: string, modelType: EncoderType): string | null {
  if (/^(classifier|crf|lstm)\./.test(name)) return name;
  if (modelType === 'modernbert' && OUTSIDE_PREFIX.test(name)) return `bert.${name}`;
  const prefix = MODEL_PREFIX[modelType];
  if (!name.startsWith(prefix)) return null;
  const normalized = normalizeTensorName(name, modelType);
  return ignoredHeadReason(normalized) ? null : `bert.${normalized}`;
}

/** The tagger's tensor name as Hugging Face names it. */
export function hfName(name: string, modelType: EncoderType): string {
  if (!name.startsWith('bert.')) return name;
  const own = name.slice('bert.'.length);
  return modelType === 'modernbert' && OUTSIDE_PREFIX.test(own) ? own : MODEL_PREFIX[modelType] + own;
}

