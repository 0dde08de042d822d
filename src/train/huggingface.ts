// Models that travel between medner and Hugging Face transformers.
//
// Export: a BERT-family tagger becomes a token-classification directory that
// AutoModelForTokenClassification and AutoTokenizer load: config.json with model_type,
// architectures and id2label/label2id, model.safetensors under HF's names (the encoder under
// its model prefix -- bert., roberta., distilbert., albert. -- and classifier.*), vocab.txt and
// tokenizer_config.json. What transformers has no class for -- the CRF (and a BiLSTM between
// the encoder and the classifier) -- goes into crf.safetensors, with a model card saying how to
// decode with it; config.json's "medner" entry lets medner rebuild the model exactly.
//
// Import: predict and eval take such a directory -- exported by medner or fine-tuned with
// transformers (BertForTokenClassification, RobertaFor..., DistilBertFor..., AlbertFor...) --
// as they take a medner checkpoint; labels come from id2label, the tokenizer must be WordPiece.

import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { cpuBackend } from '../backend/registry.js';
import { SafetensorsReader, saveSafetensors } from '../io/safetensors.js';
import { checkpointFiles, ignoredHeadReason, normalizeTensorName, readHfConfig, type EncoderType } from '../io/hf-config.js';
import { isValidTag } from '../data/schemes.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { BertConfig } from '../nn/bert.js';
import { fmt } from '../tensor/shape.js';
import { allowedTransitions } from '../crf/constraints.js';
import { defaultsFor, resolveConfig, snakeKeys, type ModelKind } from './config.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, loadCheckpoint, writeDirectoryAtomically, type CheckpointConfig, type LoadedCheckpoint } from './checkpoint.js';
import { createModel } from './model-factory.js';
import { loadPretrainedTokenizer } from './pretrained.js';

/** Where a task model keeps its encoder, per architecture (BertForTokenClassification: `bert.`). */
const MODEL_PREFIX: Record<EncoderType, string> = { bert: 'bert.', roberta: 'roberta.', distilbert: 'distilbert.', albert: 'albert.' };
const ARCHITECTURE: Record<EncoderType, string> = {
  bert: 'BertForTokenClassification',
  roberta: 'RobertaForTokenClassification',
  distilbert: 'DistilBertForTokenClassification',
  albert: 'AlbertForTokenClassification',
};
/** The tensors transformers has no class for: the CRF, and a BiLSTM (with its classifier) before it. */
export const HEAD_FILE = 'crf.safetensors';

/** What config.json's "medner" entry holds: enough to rebuild the tagger exactly. */
interface MednerEntry {
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
  const bert = { ...(encoder.raw as unknown as BertConfig) };
  const { model, encoder: sentenceEncoder } = createModel(train, { kind: 'subwords', tokenizer }, labels, bert);

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
    bert,
    vocabulary: 'subwords',
    metrics: {},
    data: { source: `huggingface ${ARCHITECTURE[encoder.modelType]} (${basename(dir)})` },
  };
  return { config, model, encoder: sentenceEncoder, vocabulary: { kind: 'subwords', tokenizer } };
}

/** A checkpoint tensor's name in the tagger (bert.*, classifier.*, crf.*, lstm.*), or null if the tagger has no use for it. */
function internalName(name: string, modelType: EncoderType): string | null {
  if (/^(classifier|crf|lstm)\./.test(name)) return name;
  const prefix = MODEL_PREFIX[modelType];
  if (!name.startsWith(prefix)) return null;
  const normalized = normalizeTensorName(name, modelType);
  return ignoredHeadReason(normalized) ? null : `bert.${normalized}`;
}

/** The tagger's tensor name as Hugging Face names it. */
function hfName(name: string, modelType: EncoderType): string {
  return name.startsWith('bert.') ? MODEL_PREFIX[modelType] + name.slice('bert.'.length) : name;
}

export interface ExportSummary {
  architecture: string;
  labels: number;
  /** Tensors in model.safetensors and in crf.safetensors. */
  tensors: number;
  headTensors: number;
}

/**
 * Write a medner model as a Hugging Face token-classification directory. Only the BERT-family
 * taggers have a transformers class; the BiLSTM-CRF on word embeddings is refused.
 */
export async function exportHf(modelDir: string, out: string, backend: Backend = cpuBackend): Promise<ExportSummary> {
  const loaded = await loadCheckpoint(modelDir, backend);
  try {
    const { config, model, vocabulary } = loaded;
    if (vocabulary.kind !== 'subwords' || !config.bert) {
      throw new Error(`${modelDir}: a ${config.model} has no Hugging Face architecture (transformers' token classifiers sit on a BERT-family encoder); export --format hf takes bert-softmax, bert-crf and bert-bilstm-crf models`);
    }
    const modelType = ((config.bert as unknown as { model_type?: EncoderType }).model_type ?? 'bert') as EncoderType;
    const architecture = ARCHITECTURE[modelType];
    const hasLstm = config.model === 'bert-bilstm-crf';
    const main = new Map<string, Tensor>();
    const head = new Map<string, Tensor>();
    for (const [name, t] of model.namedParameters()) {
      if (name.startsWith('bert.')) main.set(hfName(name, modelType), t);
      else if (name.startsWith('classifier.') && !hasLstm) main.set(name, t);
      else head.set(name, t);
    }
    // The scheme's hard constraints, which medner adds at decoding (-1e4 on a forbidden move), as 0/1 masks.
    const masks: Tensor[] = [];
    if (model.crf && config.train.constraints !== 'off' && config.train.crf !== 'semi-markov') {
      const allowed = allowedTransitions(config.labels, config.scheme);
      const C = config.labels.length;
      const add = (name: string, values: number[], shape: number[]) => {
        const t = tensor(Float32Array.from(values), shape, { backend });
        masks.push(t);
        head.set(name, t);
      };
      add('crf.allowed_start', allowed.start, [C]);
      add('crf.allowed_transitions', allowed.transitions.flat(), [C, C]);
      add('crf.allowed_end', allowed.end, [C]);
    }
    const tokenizer = vocabulary.tokenizer;
    const entry: MednerEntry = {
      model: config.model,
      scheme: config.scheme,
      pooling: config.train.pooling,
      constraints: config.train.constraints,
      max_length: config.train.maxLength,
      ...(hasLstm ? { lstm_hidden: config.train.lstmHidden } : {}),
      ...(config.train.crf === 'semi-markov' ? { crf: 'semi-markov' as const } : {}),
    };
    const hfConfig = {
      ...config.bert,
      model_type: modelType,
      architectures: [architecture],
      id2label: Object.fromEntries(config.labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(config.labels.map((l, i) => [l, i])),
      pad_token_id: tokenizer.padId,
      torch_dtype: 'float32',
      medner: entry,
    };
    const special = (id: number | null | undefined) => (id === null || id === undefined ? undefined : tokenizer.idToToken[id]);
    const tokenizerConfig = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: tokenizer.basic.lowercase,
      strip_accents: tokenizer.basic.stripAccents,
      model_max_length: config.train.maxLength,
      unk_token: special(tokenizer.unkId),
      cls_token: special(tokenizer.clsId),
      sep_token: special(tokenizer.sepId),
      pad_token: special(tokenizer.padId),
      ...(special(tokenizer.maskId) ? { mask_token: special(tokenizer.maskId) } : {}),
    };
    await writeDirectoryAtomically(out, async (tmp) => {
      await writeFile(join(tmp, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
      await saveSafetensors(join(tmp, 'model.safetensors'), main, { metadata: { format: 'pt' } });
      if (head.size) await saveSafetensors(join(tmp, HEAD_FILE), head, { metadata: { format: 'pt', producer: 'medner' } });
      await writeFile(join(tmp, 'vocab.txt'), tokenizer.idToToken.join('\n') + '\n');
      await writeFile(join(tmp, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
      await writeFile(join(tmp, 'special_tokens_map.json'), JSON.stringify({ unk_token: tokenizerConfig.unk_token, cls_token: tokenizerConfig.cls_token, sep_token: tokenizerConfig.sep_token, pad_token: tokenizerConfig.pad_token, ...(tokenizerConfig.mask_token ? { mask_token: tokenizerConfig.mask_token } : {}) }, null, 2) + '\n');
      await writeFile(join(tmp, 'README.md'), exportCard(config, architecture, [...head.keys()], hasLstm));
    });
    for (const t of masks) t.dispose();
    return { architecture, labels: config.labels.length, tensors: main.size, headTensors: head.size };
  } finally {
    loaded.model.dispose();
  }
}

function exportCard(config: CheckpointConfig, architecture: string, headNames: string[], hasLstm: boolean): string {
  const types = [...new Set(config.labels.filter((l) => l !== 'O').map((l) => l.slice(2)))];
  const metrics = Object.entries(config.metrics).map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`).join('\n');
  const load = `from transformers import AutoModelForTokenClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("path/to/this/directory")
model = AutoModelForTokenClassification.from_pretrained("path/to/this/directory").eval()`;
  const crfDecode = `import torch
from safetensors.torch import load_file

head = load_file("path/to/this/directory/${HEAD_FILE}")
words = ["Aspirin", "causes", "bleeding", "."]
enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
with torch.no_grad():
${hasLstm
    ? `    hidden = model.base_model(**enc).last_hidden_state              # [1, S, H]
    first = [i for i, w in enumerate(enc.word_ids()) if w is not None and (i == 0 or enc.word_ids()[i - 1] != w)]
    lstm = torch.nn.LSTM(hidden.shape[-1], ${config.train.lstmHidden}, batch_first=True, bidirectional=True)
    lstm.load_state_dict({k[len("lstm."):]: v for k, v in head.items() if k.startswith("lstm.")})
    out, _ = lstm(hidden[:, first])                                   # [1, T, 2K]
    emissions = (out @ head["classifier.weight"].T + head["classifier.bias"])[0]`
    : `    logits = model(**enc).logits[0]                                   # [S, C]
    first = [i for i, w in enumerate(enc.word_ids()) if w is not None and (i == 0 or enc.word_ids()[i - 1] != w)]
    emissions = logits[first]                                         # [T, C]: one row per word (first subword)`}
trans, start, end = head["crf.transitions"], head["crf.start_transitions"], head["crf.end_transitions"]
if "crf.allowed_transitions" in head:  # the label scheme's hard constraints, as medner decodes
    trans = trans + (1 - head["crf.allowed_transitions"]) * -1e4
    start = start + (1 - head["crf.allowed_start"]) * -1e4
    end = end + (1 - head["crf.allowed_end"]) * -1e4
# Viterbi: transitions[i, j] scores tag i followed by tag j (pytorch-crf's layout).
score, back = start + emissions[0], []
for t in range(1, len(emissions)):
    best, index = (score[:, None] + trans).max(0)
    score, back = best + emissions[t], back + [index]
tag = int((score + end).argmax())
path = [tag]
for index in reversed(back):
    tag = int(index[tag]); path.append(tag)
print([model.config.id2label[t] for t in reversed(path)])`;
  return `# ${architecture} exported by medner (${config.model})

A named-entity tagger trained with medner, in Hugging Face transformers' layout. Labels (${config.scheme}):
${config.labels.map((l) => `\`${l}\``).join(', ')}; entity types: ${types.join(', ') || '(none)'}.

| metric | value |
| --- | --- |
${metrics || '| (none recorded) | |'}

## Load it with transformers

\`\`\`python
${load}
\`\`\`

medner tags each word by its **first subword** (${config.train.pooling === 'first' ? 'as this model was trained' : `this model was trained with ${config.train.pooling} pooling, which transformers does not do: expect small differences`}); with a
\`pipeline("token-classification", model=..., aggregation_strategy="first")\` transformers does the same.
${headNames.length ? `
## Decoding with the CRF
${config.train.crf === 'semi-markov' ? '\nThis model ends in a **semi-Markov** CRF (segment scores): the linear-chain Viterbi below does not decode it; use medner (`medner predict --model <this directory>`).\n' : ''}
transformers has no CRF layer, so the ${hasLstm ? 'BiLSTM, its classifier and the CRF' : 'CRF'} are in \`${HEAD_FILE}\`
(${headNames.map((n) => `\`${n}\``).join(', ')}). ${hasLstm ? 'model.safetensors holds the encoder only: AutoModelForTokenClassification loads it and warns that `classifier.*` is newly initialized -- use the classifier in ' + HEAD_FILE + ' instead, after the BiLSTM.' : 'Argmax over the logits is the softmax reading of this model; the Viterbi path below is what medner predicts.'}

\`\`\`python
${crfDecode}
\`\`\`
` : ''}
## With medner

\`\`\`
medner predict --model path/to/this/directory "Aspirin causes bleeding."
medner eval --model path/to/this/directory --data test.tsv
\`\`\`

Training settings: \`\`\`${JSON.stringify(snakeKeys(config.train))}\`\`\`
`;
}
