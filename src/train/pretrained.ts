// Load a Hugging Face checkpoint directory -- BERT (BioBERT, BiomedBERT, Bioformer, bert-base-*),
// RoBERTa, DistilBERT or ALBERT -- into a tagger's `bert.` encoder by name: model prefixes
// (bert., roberta., distilbert., albert.) stripped, unused heads skipped with a note, and a
// missing or mis-shaped tensor an error naming it and both shapes. Also the directory's
// tokenizer: WordPiece, byte-level BPE or SentencePiece unigram.

import { platform } from '../platform/index.js';
import type { Backend } from '../backend/backend.js';
import { SafetensorsReader } from '../io/safetensors.js';
import { checkpointFiles, checkTensorShapes, mapCheckpointNames, readHfConfig, type EncoderConfig } from '../io/hf-config.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import type { Module } from '../nn/module.js';
import { loadTokenizer } from '../text/load-tokenizer.js';
import type { SubwordTokenizer } from '../text/subword-tokenizer.js';

const { join } = platform.path;

/** The prefix under which a tagger holds its encoder (HF's BertForTokenClassification `bert.`), for every architecture. */
export const ENCODER_PREFIX = 'bert.';

export interface PretrainedLoad {
  config: EncoderConfig;
  /** Encoder tensors copied in. */
  loaded: number;
  /** Checkpoint tensors skipped as heads token tagging does not use, with why. */
  ignored: { name: string; reason: string }[];
  /** Checkpoint tensors that are neither the model's nor a known head (reported, as transformers warns). */
  unused: string[];
  /** One line for the training log. */
  summary: string;
}

/**
 * Copies a checkpoint's encoder weights into model.bert.* and describes what happened. The
 * model's encoder must be of the architecture config.json names (build it from that config);
 * every encoder tensor must be in the checkpoint with the model's shape.
 */
export function loadPretrainedWeights(model: Module, dir: string, backend: Backend): PretrainedLoad {
  const config = readHfConfig(dir);
  const encoderType = (model as { bert?: { modelType?: unknown } }).bert?.modelType;
  if (encoderType !== undefined && encoderType !== config.modelType) {
    throw new Error(`${join(dir, 'config.json')}: model_type is '${config.modelType}' but the model's encoder is '${String(encoderType)}'; build the model from this config.json`);
  }
  const targets = new Map(model.namedParameters().filter(([n]) => n.startsWith(ENCODER_PREFIX)).map(([n, t]) => [n.slice(ENCODER_PREFIX.length), t] as [string, Tensor]));
  if (targets.size === 0) throw new Error(`loadPretrainedWeights: the model has no '${ENCODER_PREFIX}' parameters to load ${dir} into`);
  const files = checkpointFiles(dir);
  const readers: SafetensorsReader[] = [];
  try {
    for (const f of files) readers.push(SafetensorsReader.open(f));
    const owner = new Map<string, SafetensorsReader>();
    for (const r of readers) for (const name of r.names()) owner.set(name, r);
    const { mapping, ignored, note } = mapCheckpointNames(owner.keys(), config.modelType);
    const source = (name: string) => mapping.get(name)!;
    const shapeOf = (name: string) => owner.get(source(name))!.entry(source(name)).shape;

    const expected = new Map([...targets].map(([n, t]) => [n, t.shape] as [string, readonly number[]]));
    const actual = new Map([...mapping.keys()].map((n) => [n, shapeOf(n)] as [string, readonly number[]]));
    const check = checkTensorShapes(expected, actual);
    // A bare ModernBertModel checkpoint has no prediction head: it keeps its initialisation, as
    // ModernBertForTokenClassification.from_pretrained does (checkpoints of the masked-LM and
    // token-classification models carry it and it loads).
    const fresh = config.modelType === 'modernbert' && check.missing.length > 0 && check.missing.every((n) => n.startsWith('head.')) ? check.missing.splice(0) : [];
    if (check.missing.length > 0 || check.mismatched.length > 0) {
      const where = files.length === 1 ? files[0]! : dir;
      const lines = [
        ...check.mismatched.map((m) => `  ${source(m.name)}: the checkpoint has ${fmt(m.actual)}, the model expects ${fmt(m.expected)} (${ENCODER_PREFIX}${m.name})`),
        ...check.missing.map((n) => `  ${n}: missing from the checkpoint (the model expects ${fmt(expected.get(n)!)}; looked for it with and without the '${config.modelType}.' prefix)`),
      ];
      throw new Error(
        `${where}: does not fit config.json (model_type ${config.modelType}): ${check.mismatched.length} tensor(s) with the wrong shape, ${check.missing.length} missing:\n${lines.join('\n')}`,
      );
    }

    for (const [name, target] of targets) {
      if (fresh.includes(name)) continue;
      const reader = owner.get(source(name))!;
      // readFloat32 converts F16/BF16/F64 and rejects integer dtypes, naming the file and tensor.
      const loaded = tensor(reader.readFloat32(source(name)), target.shape, { backend });
      target.assign(loaded);
      loaded.dispose();
    }
    const unused = check.unexpected.map(source);
    const loaded = targets.size - fresh.length;
    const freshNote = fresh.length ? `; ${fresh.length} not in the checkpoint, newly initialised: ${fresh.join(', ')}` : '';
    const summary = `pretrained ${config.modelType}: loaded ${loaded} encoder tensors from ${dir}; ${note}${freshNote}${unused.length ? `; ${unused.length} unused: ${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''}` : ''}`;
    return { config, loaded, ignored, unused, summary };
  } finally {
    for (const r of readers) r.close();
  }
}

/** Copies the encoder weights into model.bert.*; returns a one-line summary for the log. */
export function loadPretrainedEncoder(model: Module, dir: string, backend: Backend): string {
  return loadPretrainedWeights(model, dir, backend).summary;
}

// ---------- tokenizer ----------

/**
 * The tokenizer of a model directory, picked from its files as transformers' fast tokenizers do:
 * tokenizer.json (WordPiece, byte-level BPE or Unigram), else vocab.json + merges.txt (RoBERTa,
 * GPT-2, GPT-Neo), else spiece.model (ALBERT), else vocab.txt (BERT); tokenizer_config.json and
 * special_tokens_map.json name the special tokens and settings (src/text/load-tokenizer.ts).
 */
export function loadPretrainedTokenizer(dir: string): Promise<SubwordTokenizer> {
  return loadTokenizer(dir);
}
