// Hugging Face checkpoint directories: config.json -> a typed encoder config for
// bert (BioBERT, BiomedBERT, Bioformer, bert-base-*), distilbert, roberta, albert and gpt_neo;
// the checkpoint's tensor names mapped onto the encoder's (prefixes stripped,
// unused heads listed); and a shape check whose errors name the tensor and both shapes.

import { platform } from '../platform/index.js';

const { existsSync, readFileSync } = platform.fsSync;
const { join } = platform.path;

export type EncoderType = 'bert' | 'distilbert' | 'roberta' | 'albert' | 'modernbert' | 'gpt_neo';

/** GPT-Neo's attention kinds: causal over every earlier token, or over the last window_size tokens only. */
export type GptNeoAttention = 'global' | 'local';

/** One shape for every architecture; the HF field each came from is noted. */
export interface EncoderConfig {
  modelType: EncoderType;
  vocabSize: number;
  /** hidden_size (distilbert: dim). */
  hiddenSize: number;
  /** num_hidden_layers (distilbert: n_layers). */
  numLayers: number;
  /** num_attention_heads (distilbert: n_heads). */
  numHeads: number;
  /** intermediate_size (distilbert: hidden_dim). */
  intermediateSize: number;
  maxPositions: number;
  /** type_vocab_size; 0 where the model has no token-type embeddings (distilbert). */
  typeVocabSize: number;
  layerNormEps: number;
  /** hidden_act (distilbert: activation): gelu, gelu_new, relu, ... */
  hiddenAct: string;
  hiddenDropout: number;
  attentionDropout: number;
  padTokenId: number;
  /**
   * First position id: RoBERTa numbers positions from padding_idx + 1 (so 2 with
   * pad 1), which is why its table has max_position_embeddings = 514 for 512 tokens.
   */
  positionOffset: number;
  /** ALBERT's factorised embedding size (embedding_size); equals hiddenSize elsewhere. */
  embeddingSize: number;
  /** ALBERT: layers share weights within num_hidden_groups groups of inner_group_num layers. */
  numHiddenGroups: number;
  innerGroupNum: number;
  /** DistilBERT's sinusoidal_pos_embds (fixed, not learned, position table). */
  sinusoidalPositions: boolean;
  /** ModernBERT's own fields (model_type 'modernbert' only). */
  modernBert?: ModernBertFields;
  /** GPT-Neo's own fields (model_type 'gpt_neo' only). */
  gptNeo?: GptNeoFields;
  /** The parsed JSON, for fields this type does not carry. */
  raw: Record<string, unknown>;
}

/** What ModernBERT's config.json adds (transformers' ModernBertConfig; defaults are ModernBERT-base's). */
export interface ModernBertFields {
  /** Per layer: 'global' (full attention, global_rope_theta) or 'local' (sliding window, local_rope_theta): layer i is global when i % global_attn_every_n_layers == 0 (layer_types, where given, must agree). */
  layerTypes: ('global' | 'local')[];
  /** local_attention: the window; a local layer's token sees keys within +-localAttention/2. */
  localAttention: number;
  /** rope_parameters.full_attention.rope_theta, else global_rope_theta (160000). */
  globalRopeTheta: number;
  /** rope_parameters.sliding_attention.rope_theta, else local_rope_theta (10000). */
  localRopeTheta: number;
  /** norm_bias, attention_bias, mlp_bias: biases in the LayerNorms and linears (all false in ModernBERT-base). */
  normBias: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  /** embedding_dropout, mlp_dropout (attention_dropout is attentionDropout). */
  embeddingDropout: number;
  mlpDropout: number;
  /** The prediction head HF's ModernBertFor{MaskedLM,TokenClassification} put on the last hidden state: head.dense (classifier_bias), classifier_activation, head.norm. */
  classifierActivation: string;
  classifierBias: boolean;
}

/** What GPT-Neo's config.json adds (transformers' GPTNeoConfig; defaults are gpt-neo-1.3B's). */
export interface GptNeoFields {
  /** Per layer, from attention_types ([[["global", "local"], 12]] = 24 layers alternating). */
  attentionLayers: GptNeoAttention[];
  /** window_size of the local layers: a token sees itself and the window_size - 1 tokens before it. */
  windowSize: number;
  /** embed_dropout, after word + position embeddings (resid_dropout is hiddenDropout). */
  embedDropout: number;
  /** classifier_dropout: what GPTNeoForTokenClassification drops before its classifier. */
  classifierDropout: number;
}

const MODEL_TYPES: readonly EncoderType[] = ['bert', 'distilbert', 'roberta', 'albert', 'modernbert', 'gpt_neo'];

/** Parse config.json text; errors name the file and the key. */
export function parseHfConfig(text: string, file = 'config.json'): EncoderConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !MODEL_TYPES.includes(modelType as EncoderType)) {
    throw new Error(`${file}: model_type ${JSON.stringify(modelType)} is not supported (supported: ${MODEL_TYPES.join(', ')}; BioBERT, BiomedBERT and Bioformer are 'bert')`);
  }
  const type = modelType as EncoderType;
  const integer = (key: string, fallback?: number, min = 1): number => {
    const value = raw[key] ?? fallback;
    if (value === undefined) throw new Error(`${file}: ${key} is missing (needed for model_type '${type}')`);
    if (!Number.isSafeInteger(value) || (value as number) < min) throw new Error(`${file}: ${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return value as number;
  };
  const number = (key: string, fallback: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${file}: ${key} must be a non-negative number, got ${JSON.stringify(value)}`);
    return value;
  };
  const string = (key: string, fallback: string): string => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'string') throw new Error(`${file}: ${key} must be a string, got ${JSON.stringify(value)}`);
    return value;
  };

  let config: EncoderConfig;
  if (type === 'modernbert') {
    config = parseModernBert(raw, file, integer, number, string);
  } else if (type === 'gpt_neo') {
    // Defaults as transformers' GPTNeoConfig (gpt-neo-1.3B). It has no pad token: a token-classification
    // batch pads with eos (GPT-2's tokenizer has no pad), and the attention mask hides it.
    const hiddenSize = integer('hidden_size', 2048);
    const numLayers = integer('num_layers', 24);
    config = {
      modelType: type, vocabSize: integer('vocab_size', 50257), hiddenSize, numLayers, numHeads: integer('num_heads', 16),
      intermediateSize: integer('intermediate_size', 4 * hiddenSize), maxPositions: integer('max_position_embeddings', 2048), typeVocabSize: 0,
      layerNormEps: number('layer_norm_epsilon', 1e-5), hiddenAct: string('activation_function', 'gelu_new'),
      hiddenDropout: number('resid_dropout', 0), attentionDropout: number('attention_dropout', 0),
      padTokenId: integer('pad_token_id', integer('eos_token_id', 50256, 0), 0), positionOffset: 0, embeddingSize: hiddenSize,
      numHiddenGroups: 1, innerGroupNum: 1, sinusoidalPositions: false,
      gptNeo: {
        attentionLayers: gptNeoAttentionLayers(raw.attention_types, numLayers, file), windowSize: integer('window_size', 256),
        embedDropout: number('embed_dropout', 0), classifierDropout: number('classifier_dropout', 0.1),
      },
      raw,
    };
  } else if (type === 'distilbert') {
    // Defaults as transformers' DistilBertConfig.
    const hiddenSize = integer('dim', 768);
    config = {
      modelType: type, vocabSize: integer('vocab_size', 30522), hiddenSize, numLayers: integer('n_layers', 6), numHeads: integer('n_heads', 12),
      intermediateSize: integer('hidden_dim', 3072), maxPositions: integer('max_position_embeddings', 512), typeVocabSize: 0,
      layerNormEps: 1e-12, hiddenAct: string('activation', 'gelu'), hiddenDropout: number('dropout', 0.1), attentionDropout: number('attention_dropout', 0.1),
      padTokenId: integer('pad_token_id', 0, 0), positionOffset: 0, embeddingSize: hiddenSize, numHiddenGroups: 1, innerGroupNum: 1,
      sinusoidalPositions: raw.sinusoidal_pos_embds === true, raw,
    };
  } else {
    // Defaults as transformers' BertConfig / RobertaConfig / AlbertConfig.
    const hiddenSize = integer('hidden_size', type === 'albert' ? 4096 : 768);
    const padTokenId = integer('pad_token_id', type === 'roberta' ? 1 : 0, 0);
    const numLayers = integer('num_hidden_layers', 12);
    config = {
      modelType: type, vocabSize: integer('vocab_size', type === 'albert' ? 30000 : type === 'roberta' ? 50265 : 30522), hiddenSize, numLayers,
      numHeads: integer('num_attention_heads', type === 'albert' ? 64 : 12), intermediateSize: integer('intermediate_size', type === 'albert' ? 16384 : 3072),
      maxPositions: integer('max_position_embeddings', 512), typeVocabSize: integer('type_vocab_size', 2),
      layerNormEps: number('layer_norm_eps', 1e-12), hiddenAct: string('hidden_act', type === 'albert' ? 'gelu_new' : 'gelu'),
      hiddenDropout: number('hidden_dropout_prob', type === 'albert' ? 0 : 0.1), attentionDropout: number('attention_probs_dropout_prob', type === 'albert' ? 0 : 0.1),
      padTokenId, positionOffset: type === 'roberta' ? padTokenId + 1 : 0,
      embeddingSize: type === 'albert' ? integer('embedding_size', 128) : hiddenSize,
      numHiddenGroups: type === 'albert' ? integer('num_hidden_groups', 1) : 1, innerGroupNum: type === 'albert' ? integer('inner_group_num', 1) : 1,
      sinusoidalPositions: false, raw,
    };
    const positionType = raw.position_embedding_type ?? 'absolute';
    if (positionType !== 'absolute') throw new Error(`${file}: position_embedding_type ${JSON.stringify(positionType)} is not supported (only "absolute")`);
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    const [hidden, heads] = type === 'distilbert' ? ['dim', 'n_heads'] : type === 'gpt_neo' ? ['hidden_size', 'num_heads'] : ['hidden_size', 'num_attention_heads'];
    throw new Error(`${file}: ${hidden} ${config.hiddenSize} is not divisible by ${heads} ${config.numHeads}`);
  }
  if (config.numLayers % config.numHiddenGroups !== 0) throw new Error(`${file}: num_hidden_layers ${config.numLayers} is not divisible by num_hidden_groups ${config.numHiddenGroups}`);
  if (config.padTokenId >= config.vocabSize) throw new Error(`${file}: pad_token_id ${config.padTokenId} is outside vocab_size ${config.vocabSize}`);
  return config;
}

/** ModernBERT's config.json, with transformers' ModernBertConfig defaults (ModernBERT-base's). */
function parseModernBert(
  raw: Record<string, unknown>, file: string,
  integer: (key: string, fallback?: number, min?: number) => number, number: (key: string, fallback: number) => number, string: (key: string, fallback: string) => string,
): EncoderConfig {
  const flag = (key: string, fallback: boolean): boolean => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'boolean') throw new Error(`${file}: ${key} must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  const numLayers = integer('num_hidden_layers', 22);
  const every = integer('global_attn_every_n_layers', 3);
  const layerTypes = Array.from({ length: numLayers }, (_, i) => (i % every === 0 ? 'global' : 'local') as 'global' | 'local');
  if (raw.layer_types !== undefined && raw.layer_types !== null) {
    const types = raw.layer_types;
    if (!Array.isArray(types) || types.length !== numLayers || types.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
      throw new Error(`${file}: layer_types must list 'full_attention' or 'sliding_attention' for each of the ${numLayers} layers, got ${JSON.stringify(types)}`);
    }
    const listed = types.map((t) => (t === 'full_attention' ? 'global' : 'local'));
    // transformers windows a layer by layer_id % global_attn_every_n_layers but picks its rope theta by
    // layer_types: where they disagree the model mixes the two, so ask for a config that says one thing.
    const differs = listed.findIndex((t, i) => t !== layerTypes[i]);
    if (differs >= 0) {
      throw new Error(`${file}: layer_types[${differs}] is '${types[differs]}' but global_attn_every_n_layers ${every} makes layer ${differs} ${layerTypes[differs] === 'global' ? 'global' : 'local'}; transformers windows by global_attn_every_n_layers and picks the rope theta by layer_types, so make them agree`);
    }
  }
  // rope_parameters (transformers >= 4.57) or the older global_rope_theta / local_rope_theta.
  const rope = (raw.rope_parameters ?? {}) as Record<string, { rope_theta?: unknown; rope_type?: unknown } | undefined>;
  const theta = (kind: 'full_attention' | 'sliding_attention', legacy: string, fallback: number): number => {
    const entry = rope[kind];
    if (entry?.rope_type !== undefined && entry.rope_type !== 'default') throw new Error(`${file}: rope_parameters.${kind}.rope_type ${JSON.stringify(entry.rope_type)} is not supported (only "default")`);
    const value = entry?.rope_theta ?? raw[legacy] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) throw new Error(`${file}: ${legacy} must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  };
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) throw new Error(`${file}: rope_scaling is not supported`);
  const hiddenSize = integer('hidden_size', 768);
  const localAttention = integer('local_attention', 128);
  if (localAttention % 2 !== 0) throw new Error(`${file}: local_attention must be even (a window of +-local_attention/2), got ${localAttention}`);
  return {
    modelType: 'modernbert', vocabSize: integer('vocab_size', 50368), hiddenSize, numLayers, numHeads: integer('num_attention_heads', 12),
    intermediateSize: integer('intermediate_size', 1152), maxPositions: integer('max_position_embeddings', 8192), typeVocabSize: 0,
    layerNormEps: number('norm_eps', 1e-5), hiddenAct: string('hidden_activation', 'gelu'),
    // The taggers' classifier dropout is HF's classifier_dropout; attention_dropout serves the attention probabilities and output.
    hiddenDropout: number('classifier_dropout', 0), attentionDropout: number('attention_dropout', 0),
    padTokenId: integer('pad_token_id', 50283, 0), positionOffset: 0, embeddingSize: hiddenSize, numHiddenGroups: 1, innerGroupNum: 1, sinusoidalPositions: false,
    modernBert: {
      layerTypes, localAttention,
      globalRopeTheta: theta('full_attention', 'global_rope_theta', 160000), localRopeTheta: theta('sliding_attention', 'local_rope_theta', 10000),
      normBias: flag('norm_bias', false), attentionBias: flag('attention_bias', false), mlpBias: flag('mlp_bias', false),
      embeddingDropout: number('embedding_dropout', 0), mlpDropout: number('mlp_dropout', 0),
      classifierActivation: string('classifier_activation', 'gelu'), classifierBias: flag('classifier_bias', false),
    },
    raw,
  };
}

/**
 * GPT-Neo's attention_types, [[kinds, repeat], ...], expanded as GPTNeoConfig does (each kinds list
 * repeated `repeat` times) into one kind per layer; there must be exactly num_layers.
 */
function gptNeoAttentionLayers(value: unknown, numLayers: number, file: string): GptNeoAttention[] {
  const types = value ?? [[['global', 'local'], 12]];
  const bad = (why: string) => new Error(`${file}: attention_types ${why} (expected [[["global", "local"], n], ...])`);
  if (!Array.isArray(types)) throw bad(`is ${JSON.stringify(types)}`);
  const layers: GptNeoAttention[] = [];
  for (const item of types as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[0]) || !Number.isSafeInteger(item[1]) || (item[1] as number) < 0) throw bad(`has the entry ${JSON.stringify(item)}`);
    for (const kind of item[0] as unknown[]) if (kind !== 'global' && kind !== 'local') throw bad(`names the attention ${JSON.stringify(kind)}; only "global" and "local" exist`);
    for (let i = 0; i < (item[1] as number); i++) layers.push(...(item[0] as GptNeoAttention[]));
  }
  if (layers.length !== numLayers) throw bad(`gives ${layers.length} layers but num_layers is ${numLayers}`);
  return layers;
}

export function readHfConfig(dir: string): EncoderConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${dir}: no config.json (a Hugging Face model directory has config.json, vocab.txt or tokenizer.json, and model.safetensors)`);
  return parseHfConfig(readFileSync(file, 'utf8'), file);
}

/** config.json for an encoder we save, in Hugging Face's field names, so transformers can load it. */
export function toHfConfigJson(config: EncoderConfig): Record<string, unknown> {
  const common = { ...config.raw, model_type: config.modelType, vocab_size: config.vocabSize, max_position_embeddings: config.maxPositions, pad_token_id: config.padTokenId };
  if (config.modelType === 'distilbert') {
    return {
      ...common, architectures: ['DistilBertModel'], dim: config.hiddenSize, n_layers: config.numLayers, n_heads: config.numHeads, hidden_dim: config.intermediateSize,
      activation: config.hiddenAct, dropout: config.hiddenDropout, attention_dropout: config.attentionDropout, sinusoidal_pos_embds: config.sinusoidalPositions,
    };
  }
  if (config.modelType === 'modernbert') {
    const m = config.modernBert!;
    return {
      ...common, architectures: ['ModernBertModel'], hidden_size: config.hiddenSize, num_hidden_layers: config.numLayers, num_attention_heads: config.numHeads,
      intermediate_size: config.intermediateSize, norm_eps: config.layerNormEps, hidden_activation: config.hiddenAct, classifier_dropout: config.hiddenDropout,
      attention_dropout: config.attentionDropout, local_attention: m.localAttention, global_rope_theta: m.globalRopeTheta, local_rope_theta: m.localRopeTheta,
      layer_types: m.layerTypes.map((t) => (t === 'global' ? 'full_attention' : 'sliding_attention')), global_attn_every_n_layers: config.raw.global_attn_every_n_layers ?? 3,
      norm_bias: m.normBias, attention_bias: m.attentionBias, mlp_bias: m.mlpBias, embedding_dropout: m.embeddingDropout, mlp_dropout: m.mlpDropout,
      classifier_activation: m.classifierActivation, classifier_bias: m.classifierBias,
    };
  }
  if (config.modelType === 'gpt_neo') {
    const g = config.gptNeo!;
    return {
      ...common, architectures: ['GPTNeoModel'], hidden_size: config.hiddenSize, num_layers: config.numLayers, num_heads: config.numHeads,
      intermediate_size: config.intermediateSize, attention_types: compressAttentionLayers(g.attentionLayers), attention_layers: g.attentionLayers,
      window_size: g.windowSize, layer_norm_epsilon: config.layerNormEps, activation_function: config.hiddenAct,
      resid_dropout: config.hiddenDropout, attention_dropout: config.attentionDropout, embed_dropout: g.embedDropout, classifier_dropout: g.classifierDropout,
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
  const { hiddenSize: H, intermediateSize: I, vocabSize: V, maxPositions: P, typeVocabSize: T, embeddingSize: E } = config;
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
function modernBertShapes(config: EncoderConfig): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V } = config;
  const m = config.modernBert!;
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
