// Hugging Face checkpoint directories: config.json -> a typed encoder config for
// bert (BioBERT, BiomedBERT, Bioformer, bert-base-*), distilbert, roberta, albert, modernbert and gpt_neo;
// the checkpoint's tensor names mapped onto the encoder's (prefixes stripped,
// unused heads listed); and a shape check whose errors name the tensor and both shapes.

import { platform } from '../platform/index.js';
import { ENCODER_DEFAULTS, encoderConfig, everyNthGlobal, type EncoderConfig, type EncoderType, type GptNeoAttention, type ModernBertEncoderConfig, type ModernBertFields } from '../nn/encoder-config.js';

const { existsSync, readFileSync } = platform.fsSync;
const { join } = platform.path;

export type { EncoderConfig, EncoderType, ModernBertFields, GptNeoFields, GptNeoAttention } from '../nn/encoder-config.js';

const MODEL_TYPES = Object.keys(ENCODER_DEFAULTS) as EncoderType[];

/** EncoderConfig field -> config.json key, per architecture (DistilBERT names its fields its own way). */
const BERT_NAMES: Record<string, string> = {
  vocabSize: 'vocab_size', hiddenSize: 'hidden_size', numLayers: 'num_hidden_layers', numHeads: 'num_attention_heads', intermediateSize: 'intermediate_size',
  maxPositions: 'max_position_embeddings', typeVocabSize: 'type_vocab_size', layerNormEps: 'layer_norm_eps', hiddenAct: 'hidden_act', hiddenDropout: 'hidden_dropout_prob',
  attentionDropout: 'attention_probs_dropout_prob', padTokenId: 'pad_token_id', initializerRange: 'initializer_range',
};
const HF_NAMES: { readonly [T in EncoderType]: Record<string, string> } = {
  bert: BERT_NAMES,
  roberta: BERT_NAMES,
  distilbert: {
    ...BERT_NAMES, hiddenSize: 'dim', numLayers: 'n_layers', numHeads: 'n_heads', intermediateSize: 'hidden_dim', hiddenAct: 'activation', hiddenDropout: 'dropout',
    attentionDropout: 'attention_dropout', sinusoidalPositions: 'sinusoidal_pos_embds',
  },
  albert: { ...BERT_NAMES, embeddingSize: 'embedding_size', numHiddenGroups: 'num_hidden_groups', innerGroupNum: 'inner_group_num' },
  modernbert: {
    ...BERT_NAMES, layerNormEps: 'norm_eps', hiddenAct: 'hidden_activation', hiddenDropout: 'classifier_dropout', attentionDropout: 'attention_dropout',
    layerTypes: 'layer_types', localAttention: 'local_attention',
  },
  gpt_neo: {
    ...BERT_NAMES, numLayers: 'num_layers', numHeads: 'num_heads', layerNormEps: 'layer_norm_epsilon', hiddenAct: 'activation_function', hiddenDropout: 'resid_dropout',
    attentionDropout: 'attention_dropout', attentionLayers: 'attention_types', windowSize: 'window_size', embedDropout: 'embed_dropout', classifierDropout: 'classifier_dropout',
  },
};

/** Parse config.json text; errors name the file and the key. */
export function parseHfConfig(text: string, file = 'config.json'): EncoderConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return fromHfConfigJson(raw, file);
}

/**
 * The EncoderConfig of a parsed config.json (HF's snake_case names; defaults as transformers'
 * config classes). `defaultModelType` is for JSON without model_type: medner checkpoints before
 * model_type was written there hold a BERT config without one.
 */
export function fromHfConfigJson(json: unknown, file = 'config.json', defaultModelType?: EncoderType): EncoderConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: not a JSON object`);
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type ?? defaultModelType;
  if (typeof modelType !== 'string' || !MODEL_TYPES.includes(modelType as EncoderType)) {
    throw new Error(`${file}: model_type ${JSON.stringify(modelType)} is not supported (supported: ${MODEL_TYPES.join(', ')}; BioBERT, BiomedBERT and Bioformer are 'bert')`);
  }
  const type = modelType as EncoderType;
  const names = HF_NAMES[type];
  // Each reader takes an EncoderConfig field, reads its config.json key and returns undefined when
  // the key is absent, so that transformers' default applies (ENCODER_DEFAULTS, via encoderConfig).
  const present = (field: string): [string, unknown] | null => {
    const key = names[field]!;
    const value = raw[key];
    return value === undefined || value === null ? null : [key, value];
  };
  const integer = (field: string, min = 1): number | undefined => {
    const [key, value] = present(field) ?? [];
    if (key === undefined) return undefined;
    if (!Number.isSafeInteger(value) || (value as number) < min) throw new Error(`${file}: ${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return value as number;
  };
  const number = (field: string): number | undefined => {
    const [key, value] = present(field) ?? [];
    if (key === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${file}: ${key} must be a non-negative number, got ${JSON.stringify(value)}`);
    return value;
  };
  const string = (field: string): string | undefined => {
    const [key, value] = present(field) ?? [];
    if (key === undefined) return undefined;
    if (typeof value !== 'string') throw new Error(`${file}: ${key} must be a string, got ${JSON.stringify(value)}`);
    return value;
  };

  const common = {
    vocabSize: integer('vocabSize'), hiddenSize: integer('hiddenSize'), numLayers: integer('numLayers'), numHeads: integer('numHeads'), intermediateSize: integer('intermediateSize'),
    maxPositions: integer('maxPositions'), padTokenId: integer('padTokenId', 0), hiddenAct: string('hiddenAct'), hiddenDropout: number('hiddenDropout'),
    attentionDropout: number('attentionDropout'), initializerRange: number('initializerRange'), raw,
  };
  if (type === 'distilbert') return encoderConfig({ ...common, modelType: type, sinusoidalPositions: raw.sinusoidal_pos_embds === true }, file, names);
  if (type === 'modernbert') {
    const numLayers = common.numLayers ?? ENCODER_DEFAULTS.modernbert.numLayers;
    return encoderConfig({ ...common, modelType: type, layerNormEps: number('layerNormEps'), ...modernBertFields(raw, file, numLayers) }, file, names);
  }
  if (type === 'gpt_neo') {
    // No pad token of its own: a token-classification batch pads with eos (GPT-2's tokenizer has no pad).
    const eos = raw.eos_token_id;
    if (eos !== undefined && eos !== null && (!Number.isSafeInteger(eos) || (eos as number) < 0)) throw new Error(`${file}: eos_token_id must be an integer >= 0, got ${JSON.stringify(eos)}`);
    const numLayers = common.numLayers ?? ENCODER_DEFAULTS.gpt_neo.numLayers;
    return encoderConfig({
      ...common, modelType: type, padTokenId: common.padTokenId ?? (eos as number | undefined), layerNormEps: number('layerNormEps'),
      attentionLayers: gptNeoAttentionLayers(raw.attention_types ?? [[['global', 'local'], 12]], numLayers, file), windowSize: integer('windowSize'),
      embedDropout: number('embedDropout'), classifierDropout: number('classifierDropout'),
    }, file, names);
  }
  const positionType = raw.position_embedding_type ?? 'absolute';
  if (positionType !== 'absolute') throw new Error(`${file}: position_embedding_type ${JSON.stringify(positionType)} is not supported (only "absolute")`);
  const bert = { ...common, typeVocabSize: integer('typeVocabSize'), layerNormEps: number('layerNormEps') };
  if (type === 'albert') {
    return encoderConfig({ ...bert, modelType: type, embeddingSize: integer('embeddingSize'), numHiddenGroups: integer('numHiddenGroups'), innerGroupNum: integer('innerGroupNum') }, file, names);
  }
  return encoderConfig({ ...bert, modelType: type }, file, names);
}

/**
 * ModernBERT's own fields from its config.json: layer_types (else global_attn_every_n_layers), the
 * rope thetas (rope_parameters, transformers >= 4.57, else global_rope_theta / local_rope_theta), biases,
 * dropouts and the prediction head's settings; absent ones are left to ENCODER_DEFAULTS.
 */
function modernBertFields(raw: Record<string, unknown>, file: string, numLayers: number): Partial<ModernBertFields> {
  const flag = (key: string): boolean | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new Error(`${file}: ${key} must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  const positive = (key: string, value: unknown): number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !(value > 0)) throw new Error(`${file}: ${key} must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  };
  const nonNegative = (key: string): number | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${file}: ${key} must be a non-negative number, got ${JSON.stringify(value)}`);
    return value;
  };
  const every = raw.global_attn_every_n_layers ?? 3;
  if (!Number.isSafeInteger(every) || (every as number) < 1) throw new Error(`${file}: global_attn_every_n_layers must be an integer >= 1, got ${JSON.stringify(every)}`);
  // Layer i is global when i % global_attn_every_n_layers == 0; layer_types, where given, must agree.
  const layerTypes = everyNthGlobal(numLayers, every as number);
  if (raw.layer_types !== undefined && raw.layer_types !== null) {
    const types = raw.layer_types;
    if (!Array.isArray(types) || types.length !== numLayers || types.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
      throw new Error(`${file}: layer_types must list 'full_attention' or 'sliding_attention' for each of the ${numLayers} layers, got ${JSON.stringify(types)}`);
    }
    // transformers windows a layer by layer_id % global_attn_every_n_layers but picks its rope theta by
    // layer_types: where they disagree the model mixes the two, so ask for a config that says one thing.
    const differs = types.findIndex((t, i) => (t === 'full_attention' ? 'global' : 'local') !== layerTypes[i]);
    if (differs >= 0) {
      throw new Error(`${file}: layer_types[${differs}] is '${types[differs]}' but global_attn_every_n_layers ${every} makes layer ${differs} ${layerTypes[differs]}; transformers windows by global_attn_every_n_layers and picks the rope theta by layer_types, so make them agree`);
    }
  }
  const rope = (raw.rope_parameters ?? {}) as Record<string, { rope_theta?: unknown; rope_type?: unknown } | undefined>;
  const theta = (kind: 'full_attention' | 'sliding_attention', legacy: string): number | undefined => {
    const entry = rope[kind];
    if (entry?.rope_type !== undefined && entry.rope_type !== 'default') throw new Error(`${file}: rope_parameters.${kind}.rope_type ${JSON.stringify(entry.rope_type)} is not supported (only "default")`);
    return positive(legacy, entry?.rope_theta ?? raw[legacy]);
  };
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) throw new Error(`${file}: rope_scaling is not supported`);
  const localAttention = raw.local_attention;
  if (localAttention !== undefined && localAttention !== null && (!Number.isSafeInteger(localAttention) || (localAttention as number) < 1)) {
    throw new Error(`${file}: local_attention must be an integer >= 1, got ${JSON.stringify(localAttention)}`);
  }
  const classifierActivation = raw.classifier_activation;
  if (classifierActivation !== undefined && classifierActivation !== null && typeof classifierActivation !== 'string') {
    throw new Error(`${file}: classifier_activation must be a string, got ${JSON.stringify(classifierActivation)}`);
  }
  return {
    layerTypes, localAttention: (localAttention ?? undefined) as number | undefined,
    globalRopeTheta: theta('full_attention', 'global_rope_theta'), localRopeTheta: theta('sliding_attention', 'local_rope_theta'),
    normBias: flag('norm_bias'), attentionBias: flag('attention_bias'), mlpBias: flag('mlp_bias'),
    embeddingDropout: nonNegative('embedding_dropout'), mlpDropout: nonNegative('mlp_dropout'),
    classifierActivation: (classifierActivation ?? undefined) as string | undefined, classifierBias: flag('classifier_bias'),
  };
}

export function readHfConfig(dir: string): EncoderConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${dir}: no config.json (a Hugging Face model directory has config.json, vocab.txt or tokenizer.json, and model.safetensors)`);
  return parseHfConfig(readFileSync(file, 'utf8'), file);
}

/** config.json for an encoder we save, in Hugging Face's field names, so transformers can load it. */
export function toHfConfigJson(config: EncoderConfig): Record<string, unknown> {
  const common = {
    ...config.raw, model_type: config.modelType, vocab_size: config.vocabSize, max_position_embeddings: config.maxPositions, pad_token_id: config.padTokenId,
    initializer_range: config.initializerRange,
  };
  if (config.modelType === 'distilbert') {
    return {
      ...common, architectures: ['DistilBertModel'], dim: config.hiddenSize, n_layers: config.numLayers, n_heads: config.numHeads, hidden_dim: config.intermediateSize,
      activation: config.hiddenAct, dropout: config.hiddenDropout, attention_dropout: config.attentionDropout, sinusoidal_pos_embds: config.sinusoidalPositions,
    };
  }
  if (config.modelType === 'modernbert') {
    const m = config;
    return {
      ...common, architectures: ['ModernBertModel'], hidden_size: config.hiddenSize, num_hidden_layers: config.numLayers, num_attention_heads: config.numHeads,
      intermediate_size: config.intermediateSize, norm_eps: config.layerNormEps, hidden_activation: config.hiddenAct, classifier_dropout: config.hiddenDropout,
      attention_dropout: config.attentionDropout, local_attention: m.localAttention, global_rope_theta: m.globalRopeTheta, local_rope_theta: m.localRopeTheta,
      layer_types: m.layerTypes.map((t) => (t === 'global' ? 'full_attention' : 'sliding_attention')), global_attn_every_n_layers: config.raw?.global_attn_every_n_layers ?? 3,
      norm_bias: m.normBias, attention_bias: m.attentionBias, mlp_bias: m.mlpBias, embedding_dropout: m.embeddingDropout, mlp_dropout: m.mlpDropout,
      classifier_activation: m.classifierActivation, classifier_bias: m.classifierBias,
    };
  }
  if (config.modelType === 'gpt_neo') {
    return {
      ...common, architectures: ['GPTNeoModel'], hidden_size: config.hiddenSize, num_layers: config.numLayers, num_heads: config.numHeads,
      intermediate_size: config.intermediateSize, attention_types: attentionTypes(config), attention_layers: config.attentionLayers,
      window_size: config.windowSize, layer_norm_epsilon: config.layerNormEps, activation_function: config.hiddenAct,
      resid_dropout: config.hiddenDropout, attention_dropout: config.attentionDropout, embed_dropout: config.embedDropout, classifier_dropout: config.classifierDropout,
    };
  }
  const architecture = { bert: 'BertModel', roberta: 'RobertaModel', albert: 'AlbertModel' }[config.modelType];
  return {
    ...common, architectures: [architecture], hidden_size: config.hiddenSize, num_hidden_layers: config.numLayers, num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize, type_vocab_size: config.typeVocabSize, layer_norm_eps: config.layerNormEps, hidden_act: config.hiddenAct,
    hidden_dropout_prob: config.hiddenDropout, attention_probs_dropout_prob: config.attentionDropout, position_embedding_type: 'absolute',
    ...(config.modelType === 'albert' ? { embedding_size: config.embeddingSize, num_hidden_groups: config.numHiddenGroups, inner_group_num: config.innerGroupNum } : {}),
  };
}

/**
 * GPT-Neo's attention_types, [[kinds, repeat], ...], expanded as GPTNeoConfig does (each kinds list
 * repeated `repeat` times) into one kind per layer; there must be exactly num_layers (GPTNeoConfig's
 * default, [[["global", "local"], 12]], is 24).
 */
function gptNeoAttentionLayers(value: unknown, numLayers: number, file: string): GptNeoAttention[] {
  const bad = (why: string) => new Error(`${file}: attention_types ${why} (expected [[["global", "local"], n], ...])`);
  if (!Array.isArray(value)) throw bad(`is ${JSON.stringify(value)}`);
  const layers: GptNeoAttention[] = [];
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[0]) || !Number.isSafeInteger(item[1]) || (item[1] as number) < 0) throw bad(`has the entry ${JSON.stringify(item)}`);
    for (const kind of item[0] as unknown[]) if (kind !== 'global' && kind !== 'local') throw bad(`names the attention ${JSON.stringify(kind)}; only "global" and "local" exist`);
    for (let i = 0; i < (item[1] as number); i++) layers.push(...(item[0] as GptNeoAttention[]));
  }
  if (layers.length !== numLayers) throw bad(`gives ${layers.length} layers but num_layers is ${numLayers}`);
  return layers;
}

/** attention_types for config.json: as the source config.json spelled it when that still describes the layers, else compressed. */
function attentionTypes(config: Extract<EncoderConfig, { modelType: 'gpt_neo' }>): unknown {
  const given = config.raw?.attention_types;
  if (given !== undefined) {
    try {
      const layers = gptNeoAttentionLayers(given, config.numLayers, '');
      if (layers.every((kind, i) => kind === config.attentionLayers[i])) return given;
    } catch {
      // The raw field no longer fits (the layers were changed): write them anew.
    }
  }
  return compressAttentionLayers(config.attentionLayers);
}

/** Per-layer kinds back to attention_types: runs of the same kind, [["global"], 2], ...; [["global", "local"], n] when it alternates so. */
function compressAttentionLayers(layers: readonly GptNeoAttention[]): [GptNeoAttention[], number][] {
  if (layers.length % 2 === 0 && layers.every((kind, i) => kind === (i % 2 === 0 ? 'global' : 'local'))) return [[['global', 'local'], layers.length / 2]];
  const runs: [GptNeoAttention[], number][] = [];
  for (const kind of layers) {
    const last = runs[runs.length - 1];
    if (last && last[0][0] === kind) last[1]++;
    else runs.push([[kind], 1]);
  }
  return runs;
}

// ---------- checkpoint files ----------

/** How to turn a pickle checkpoint into safetensors with the reference library (we never unpickle). */
export function conversionHint(dir: string): string {
  return [
    'Convert it to safetensors once, in Python (pip install torch safetensors):',
    '  import torch; from safetensors.torch import save_file',
    `  state = torch.load("${join(dir, 'pytorch_model.bin')}", map_location="cpu")`,
    `  save_file({k: v.clone().contiguous() for k, v in state.items()}, "${join(dir, 'model.safetensors')}", metadata={"format": "pt"})`,
  ].join('\n');
}

/**
 * The safetensors files of a model directory: model.safetensors, or the shards a
 * model.safetensors.index.json lists. A directory with only pytorch_model.bin
 * (a pickle, which can run code when loaded) gets instructions to convert it.
 */
export function checkpointFiles(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let weightMap: unknown;
    try {
      weightMap = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new Error(`${index}: not valid JSON (${(e as Error).message})`);
    }
    if (weightMap === null || typeof weightMap !== 'object') throw new Error(`${index}: weight_map is missing`);
    const shards = [...new Set(Object.values(weightMap as Record<string, string>))].map((f) => join(dir, f));
    for (const shard of shards) if (!existsSync(shard)) throw new Error(`${index}: lists ${shard}, which does not exist`);
    return shards;
  }
  for (const pickle of ['pytorch_model.bin', 'pytorch_model.bin.index.json']) {
    if (existsSync(join(dir, pickle))) {
      throw new Error(`${dir}: has ${pickle} but no model.safetensors; medner reads only safetensors (pickle files can run code when loaded).\n${conversionHint(dir)}`);
    }
  }
  throw new Error(`${dir}: no model.safetensors (nor model.safetensors.index.json) found`);
}

// ---------- tensor names ----------

/** Prefixes a task model puts before the encoder's own names (BertForTokenClassification -> `bert.`). */
const MODEL_PREFIXES: Record<EncoderType, string> = { bert: 'bert.', distilbert: 'distilbert.', roberta: 'roberta.', albert: 'albert.', modernbert: 'model.', gpt_neo: 'transformer.' };

/** Heads that token classification does not use: pretraining heads and poolers, with why. */
const IGNORED_HEADS: [RegExp, string][] = [
  [/^(.*\.)?pooler\./, 'pooler (sentence-level head; NER uses the token states)'],
  [/^cls\./, 'BERT pretraining head (masked LM / next sentence)'],
  [/^lm_head\./, 'language-model head (RoBERTa masked LM, GPT-Neo causal LM)'],
  [/^(vocab_transform|vocab_layer_norm|vocab_projector)\./, 'DistilBERT masked-LM head'],
  [/^predictions\./, 'ALBERT masked-LM head'],
  [/^sop_classifier\./, 'ALBERT sentence-order head'],
  [/^decoder\./, 'ModernBERT masked-LM decoder'],
  [/^(classifier|qa_outputs|score)\./, 'a task head trained for other labels'],
  [/(^|\.)attn\.(attention\.)?(bias|masked_bias)$/, 'GPT-Neo causal-mask buffers (recomputed, not weights)'],
  [/(^|\.)embeddings\.position_ids$/, 'position_ids buffer (recomputed, not a weight)'],
];

/** Why `name` (already without its model prefix) is not loaded, or null if it is a weight of the encoder. */
export function ignoredHeadReason(name: string): string | null {
  for (const [pattern, reason] of IGNORED_HEADS) if (pattern.test(name)) return reason;
  return null;
}

/**
 * A checkpoint name as the encoder names it: model prefix removed, and the old
 * TensorFlow-converted LayerNorm names (gamma, beta) renamed as transformers does.
 */
export function normalizeTensorName(name: string, modelType: EncoderType): string {
  const prefix = MODEL_PREFIXES[modelType];
  let normalized = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  normalized = normalized.replace(/(LayerNorm|layer_norm)\.gamma$/, '$1.weight').replace(/(LayerNorm|layer_norm)\.beta$/, '$1.bias');
  return normalized;
}

export interface NameMapping {
  /** Encoder name -> checkpoint name. */
  mapping: Map<string, string>;
  /** Checkpoint tensors that are not loaded, each with the reason. */
  ignored: { name: string; reason: string }[];
  /** One line for logs: how many were ignored and which kinds. */
  note: string;
}

export function mapCheckpointNames(checkpointNames: Iterable<string>, modelType: EncoderType): NameMapping {
  const mapping = new Map<string, string>();
  const ignored: { name: string; reason: string }[] = [];
  for (const name of checkpointNames) {
    const normalized = normalizeTensorName(name, modelType);
    const reason = ignoredHeadReason(normalized);
    if (reason) {
      ignored.push({ name, reason });
      continue;
    }
    const previous = mapping.get(normalized);
    if (previous !== undefined) throw new Error(`checkpoint: tensors '${previous}' and '${name}' both map to '${normalized}'`);
    mapping.set(normalized, name);
  }
  const reasons = [...new Set(ignored.map((i) => i.reason))];
  const note = ignored.length === 0 ? 'no checkpoint tensors ignored' : `ignored ${ignored.length} checkpoint tensors not used for token classification: ${reasons.join('; ')}`;
  return { mapping, ignored, note };
}

/** The encoder's tensor names and shapes under Hugging Face's names (without the model prefix). */
export function expectedEncoderShapes(config: EncoderConfig): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V, maxPositions: P, typeVocabSize: T } = config;
  const E = config.modelType === 'albert' ? config.embeddingSize : H;
  const shapes = new Map<string, number[]>();
  if (config.modelType === 'modernbert') return modernBertShapes(config);
  const linear = (name: string, out: number, input: number): void => {
    shapes.set(`${name}.weight`, [out, input]);
    shapes.set(`${name}.bias`, [out]);
  };
  const norm = (name: string, dim: number): void => {
    shapes.set(`${name}.weight`, [dim]);
    shapes.set(`${name}.bias`, [dim]);
  };
  if (config.modelType === 'gpt_neo') {
    shapes.set('wte.weight', [V, H]);
    shapes.set('wpe.weight', [P, H]);
    for (let l = 0; l < config.numLayers; l++) {
      const p = `h.${l}`;
      norm(`${p}.ln_1`, H);
      for (const q of ['q_proj', 'k_proj', 'v_proj']) shapes.set(`${p}.attn.attention.${q}.weight`, [H, H]);
      linear(`${p}.attn.attention.out_proj`, H, H);
      norm(`${p}.ln_2`, H);
      linear(`${p}.mlp.c_fc`, I, H);
      linear(`${p}.mlp.c_proj`, H, I);
    }
    norm('ln_f', H);
    return shapes;
  }
  shapes.set('embeddings.word_embeddings.weight', [V, E]);
  // DistilBERT's sinusoidal table is also stored (a frozen embedding), so it is expected either way.
  shapes.set('embeddings.position_embeddings.weight', [P, E]);
  if (T > 0) shapes.set('embeddings.token_type_embeddings.weight', [T, E]);
  norm('embeddings.LayerNorm', E);
  if (config.modelType === 'distilbert') {
    for (let l = 0; l < config.numLayers; l++) {
      const p = `transformer.layer.${l}`;
      for (const q of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) linear(`${p}.attention.${q}`, H, H);
      norm(`${p}.sa_layer_norm`, H);
      linear(`${p}.ffn.lin1`, I, H);
      linear(`${p}.ffn.lin2`, H, I);
      norm(`${p}.output_layer_norm`, H);
    }
  } else if (config.modelType === 'albert') {
    linear('encoder.embedding_hidden_mapping_in', H, E);
    for (let g = 0; g < config.numHiddenGroups; g++) {
      for (let j = 0; j < config.innerGroupNum; j++) {
        const p = `encoder.albert_layer_groups.${g}.albert_layers.${j}`;
        for (const q of ['query', 'key', 'value', 'dense']) linear(`${p}.attention.${q}`, H, H);
        norm(`${p}.attention.LayerNorm`, H);
        linear(`${p}.ffn`, I, H);
        linear(`${p}.ffn_output`, H, I);
        norm(`${p}.full_layer_layer_norm`, H);
      }
    }
  } else {
    for (let l = 0; l < config.numLayers; l++) {
      const p = `encoder.layer.${l}`;
      for (const q of ['query', 'key', 'value']) linear(`${p}.attention.self.${q}`, H, H);
      linear(`${p}.attention.output.dense`, H, H);
      norm(`${p}.attention.output.LayerNorm`, H);
      linear(`${p}.intermediate.dense`, I, H);
      linear(`${p}.output.dense`, H, I);
      norm(`${p}.output.LayerNorm`, H);
    }
  }
  return shapes;
}

/**
 * ModernBERT's tensors as HF names them: ModernBertModel's (embeddings.tok_embeddings,
 * embeddings.norm, layers.N.{attn_norm (not in layer 0), attn.Wqkv, attn.Wo, mlp_norm, mlp.Wi,
 * mlp.Wo}, final_norm) and the prediction head (head.dense, head.norm) that HF's masked-LM and
 * token-classification models put on top; biases only where the config asks for them.
 */
function modernBertShapes(config: ModernBertEncoderConfig): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V } = config;
  const m = config;
  const shapes = new Map<string, number[]>();
  const linear = (name: string, out: number, input: number, bias: boolean): void => {
    shapes.set(`${name}.weight`, [out, input]);
    if (bias) shapes.set(`${name}.bias`, [out]);
  };
  const norm = (name: string): void => {
    shapes.set(`${name}.weight`, [H]);
    if (m.normBias) shapes.set(`${name}.bias`, [H]);
  };
  shapes.set('embeddings.tok_embeddings.weight', [V, H]);
  norm('embeddings.norm');
  for (let l = 0; l < config.numLayers; l++) {
    const p = `layers.${l}`;
    if (l > 0) norm(`${p}.attn_norm`);
    linear(`${p}.attn.Wqkv`, 3 * H, H, m.attentionBias);
    linear(`${p}.attn.Wo`, H, H, m.attentionBias);
    norm(`${p}.mlp_norm`);
    linear(`${p}.mlp.Wi`, 2 * I, H, m.mlpBias);
    linear(`${p}.mlp.Wo`, H, I, m.mlpBias);
  }
  norm('final_norm');
  linear('head.dense', H, H, m.classifierBias);
  norm('head.norm');
  return shapes;
}

export interface ShapeCheck {
  missing: string[];
  mismatched: { name: string; expected: readonly number[]; actual: readonly number[] }[];
  /** Checkpoint tensors the model does not have (after ignored heads were removed). */
  unexpected: string[];
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Compare expected names and shapes with a checkpoint's (names already mapped).
 * With `file`, throws one error listing every problem; each line names the tensor
 * and, for a mismatch, both shapes.
 */
export function checkTensorShapes(expected: Map<string, readonly number[]>, actual: Map<string, readonly number[]>, file?: string): ShapeCheck {
  const result: ShapeCheck = { missing: [], mismatched: [], unexpected: [] };
  for (const [name, shape] of expected) {
    const found = actual.get(name);
    if (!found) result.missing.push(name);
    else if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) result.mismatched.push({ name, expected: shape, actual: found });
  }
  for (const name of actual.keys()) if (!expected.has(name)) result.unexpected.push(name);
  if (file !== undefined && (result.missing.length > 0 || result.mismatched.length > 0)) {
    const lines = [
      ...result.mismatched.map((m) => `  ${m.name}: the checkpoint has ${fmtShape(m.actual)}, the model expects ${fmtShape(m.expected)}`),
      ...result.missing.map((n) => `  ${n}: missing from the checkpoint (the model expects ${fmtShape(expected.get(n)!)})`),
    ];
    throw new Error(`${file}: ${result.mismatched.length} tensor(s) with the wrong shape and ${result.missing.length} missing (does config.json match the weights?):\n${lines.join('\n')}`);
  }
  return result;
}
