// The one config vocabulary of the pretrained encoders (BERT, RoBERTa, DistilBERT, ALBERT, ModernBERT, GPT-Neo):
// camelCase fields every encoder shares, plus each architecture's own fields. Hugging Face's
// snake_case config.json exists only at the file boundary: src/io/hf-config.ts reads it
// (fromHfConfigJson) and writes it (toHfConfigJson) for checkpoints and exports.
//
// Adding an architecture (ModernBERT and GPT-Neo were added so): a row in EncoderConfigs (its own
// fields beside EncoderCommon), a row in ENCODER_DEFAULTS (transformers' defaults; deriveDefaults for
// those that depend on other fields), its checks in checkEncoderConfig, a row in hf-config.ts's
// HF_NAMES with a branch in its reader and writer, and a case in createEncoder (src/nn/encoders.ts).

/** Fields every encoder has. HF's name for each is noted where it differs in more than case. */
export interface EncoderCommon {
  vocabSize: number;
  /** hidden_size (distilbert: dim). */
  hiddenSize: number;
  /** num_hidden_layers (distilbert: n_layers). */
  numLayers: number;
  /** num_attention_heads (distilbert: n_heads). */
  numHeads: number;
  /** intermediate_size (distilbert: hidden_dim): the feed-forward width. */
  intermediateSize: number;
  /** max_position_embeddings: rows of the position table. */
  maxPositions: number;
  /** type_vocab_size; 0 where the model has no token-type embeddings (distilbert). */
  typeVocabSize: number;
  layerNormEps: number;
  /** hidden_act (distilbert: activation), in HF's ACT2FN names: gelu, gelu_new, relu, ... */
  hiddenAct: string;
  /** hidden_dropout_prob (distilbert: dropout). */
  hiddenDropout: number;
  /** attention_probs_dropout_prob (distilbert: attention_dropout). */
  attentionDropout: number;
  padTokenId: number;
  /** Std of the normal init of weights (HF's _init_weights); the taggers' heads use it too. */
  initializerRange: number;
  /**
   * First position id: RoBERTa numbers positions from padding_idx + 1 (so 2 with pad 1), which is
   * why its table has max_position_embeddings = 514 for 512 tokens. 0 elsewhere. Derived, never read.
   */
  positionOffset: number;
  /** The config.json this came from, for HF fields no encoder reads (written back on export). */
  raw?: Record<string, unknown>;
}

/** BERT and RoBERTa: one module (RoBERTa differs only in its position ids and padding). */
export interface BertEncoderConfig extends EncoderCommon {
  modelType: 'bert' | 'roberta';
}

export interface DistilBertEncoderConfig extends EncoderCommon {
  modelType: 'distilbert';
  /** sinusoidal_pos_embds: a fixed, not learned, position table. */
  sinusoidalPositions: boolean;
}

export interface AlbertEncoderConfig extends EncoderCommon {
  modelType: 'albert';
  /** embedding_size: the factorised embedding width, projected to hiddenSize. */
  embeddingSize: number;
  /** num_hidden_groups groups of inner_group_num layers share their weights. */
  numHiddenGroups: number;
  innerGroupNum: number;
}

/** What ModernBERT adds (transformers' ModernBertConfig; defaults are ModernBERT-base's). */
export interface ModernBertFields {
  /**
   * Per layer: 'global' (full attention, globalRopeTheta) or 'local' (sliding window, localRopeTheta).
   * HF's layer_types, else global_attn_every_n_layers (layer i is global when i % n == 0; default 3).
   */
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

/**
 * ModernBERT. Its config.json names differ: norm_eps (layerNormEps), hidden_activation (hiddenAct),
 * classifier_dropout (hiddenDropout: the taggers' classifier dropout); no token types.
 */
export interface ModernBertEncoderConfig extends EncoderCommon, ModernBertFields {
  modelType: 'modernbert';
}

/** GPT-Neo's attention kinds: causal over every earlier token, or over the last windowSize tokens only. */
export type GptNeoAttention = 'global' | 'local';

/** What GPT-Neo adds (transformers' GPTNeoConfig; defaults are gpt-neo-1.3B's). */
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

/**
 * GPT-Neo. Its config.json names differ: num_layers, num_heads, layer_norm_epsilon,
 * activation_function, resid_dropout (hiddenDropout); no token types. It has no pad token: padTokenId
 * is eos_token_id unless pad_token_id is given (a batch pads with it and the attention mask hides it).
 */
export interface GptNeoEncoderConfig extends EncoderCommon, GptNeoFields {
  modelType: 'gpt_neo';
}

/** model_type -> its config: the one table an architecture is added to. */
export interface EncoderConfigs {
  bert: BertEncoderConfig;
  roberta: BertEncoderConfig;
  distilbert: DistilBertEncoderConfig;
  albert: AlbertEncoderConfig;
  modernbert: ModernBertEncoderConfig;
  gpt_neo: GptNeoEncoderConfig;
}

export type EncoderType = keyof EncoderConfigs;
export type EncoderConfig = EncoderConfigs[EncoderType];
export type EncoderConfigOf<T extends EncoderType> = EncoderConfigs[T] & { modelType: T };

/** What encoderConfig takes: any fields, the rest from the architecture's defaults. */
export type EncoderConfigInit<T extends EncoderType> = Partial<Omit<EncoderConfigs[T], 'modelType' | 'positionOffset'>> & { modelType?: T };

/** Fields whose default depends on others: DERIVED fills them when they are not given. */
type DerivedField = 'positionOffset' | 'layerTypes' | 'attentionLayers';
type Defaults<T extends EncoderType> = Omit<EncoderConfigs[T], 'modelType' | 'raw' | DerivedField>;

/** ModernBERT's default layer pattern: global every third layer (global_attn_every_n_layers = 3), from layer 0. */
export function everyNthGlobal(numLayers: number, every = 3): ('global' | 'local')[] {
  return Array.from({ length: numLayers }, (_, i) => (i % every === 0 ? 'global' : 'local'));
}

const BERT_BASE: Defaults<'bert'> = {
  vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, typeVocabSize: 2,
  layerNormEps: 1e-12, hiddenAct: 'gelu', hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0, initializerRange: 0.02,
};

/** transformers' defaults per architecture (its BertConfig, RobertaConfig, DistilBertConfig, AlbertConfig, ModernBertConfig, GPTNeoConfig). */
export const ENCODER_DEFAULTS: { readonly [T in EncoderType]: Defaults<T> } = {
  bert: BERT_BASE,
  roberta: { ...BERT_BASE, vocabSize: 50265, padTokenId: 1 },
  distilbert: { ...BERT_BASE, numLayers: 6, typeVocabSize: 0, sinusoidalPositions: false },
  albert: {
    ...BERT_BASE, vocabSize: 30000, hiddenSize: 4096, numHeads: 64, intermediateSize: 16384, hiddenAct: 'gelu_new', hiddenDropout: 0, attentionDropout: 0,
    embeddingSize: 128, numHiddenGroups: 1, innerGroupNum: 1,
  },
  modernbert: {
    ...BERT_BASE, vocabSize: 50368, numLayers: 22, intermediateSize: 1152, maxPositions: 8192, typeVocabSize: 0, layerNormEps: 1e-5, hiddenDropout: 0, attentionDropout: 0,
    padTokenId: 50283, localAttention: 128, globalRopeTheta: 160000, localRopeTheta: 10000, normBias: false, attentionBias: false, mlpBias: false,
    embeddingDropout: 0, mlpDropout: 0, classifierActivation: 'gelu', classifierBias: false,
  },
  gpt_neo: {
    ...BERT_BASE, vocabSize: 50257, hiddenSize: 2048, numLayers: 24, numHeads: 16, intermediateSize: 4 * 2048, maxPositions: 2048, typeVocabSize: 0, layerNormEps: 1e-5,
    hiddenAct: 'gelu_new', hiddenDropout: 0, attentionDropout: 0, padTokenId: 50256, windowSize: 256, embedDropout: 0, classifierDropout: 0.1,
  },
};

/**
 * Defaults that depend on other fields, filled after the rest from what was given (`init`): RoBERTa's
 * position offset; ModernBERT's layer pattern; GPT-Neo's alternating layers and 4 x hidden MLP.
 */
function deriveDefaults(config: EncoderConfig, init: Record<string, unknown>): void {
  config.positionOffset = positionOffsetOf(config.modelType, config.padTokenId);
  if (config.modelType === 'modernbert' && init.layerTypes === undefined) config.layerTypes = everyNthGlobal(config.numLayers);
  if (config.modelType === 'gpt_neo') {
    if (init.intermediateSize === undefined) config.intermediateSize = 4 * config.hiddenSize;
    if (init.attentionLayers === undefined) config.attentionLayers = Array.from({ length: config.numLayers }, (_, i) => (i % 2 === 0 ? 'global' : 'local'));
  }
}

/** RoBERTa's first position id (create_position_ids_from_input_ids); 0 for every other architecture. */
export function positionOffsetOf(modelType: EncoderType, padTokenId: number): number {
  return modelType === 'roberta' ? padTokenId + 1 : 0;
}

/** Field -> the name an error calls it (hf-config.ts passes config.json's keys). */
export type FieldNames = Partial<Record<string, string>>;

/**
 * A complete, checked config from some fields; the others take the architecture's defaults
 * (model_type bert when absent). `encoderConfig({ vocabSize: 100, hiddenSize: 32, numHeads: 2 })`.
 */
export function encoderConfig<T extends EncoderType = 'bert'>(init: EncoderConfigInit<T>, who = 'encoder config', names: FieldNames = {}): EncoderConfigOf<T> {
  const modelType = (init.modelType ?? 'bert') as T;
  const defaults = ENCODER_DEFAULTS[modelType];
  if (!defaults) throw new Error(`${who}: modelType '${String(modelType)}' is not supported (${Object.keys(ENCODER_DEFAULTS).join(', ')})`);
  const fields = Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined));
  const config = { ...defaults, ...fields, modelType } as unknown as EncoderConfigOf<T>;
  deriveDefaults(config, fields);
  checkEncoderConfig(config, who, names);
  return config;
}

const POSITIVE = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions'] as const;

/** Throws on what would fail later, deep in a kernel: sizes, head split, padding id, RoBERTa's position room. */
export function checkEncoderConfig(config: EncoderConfig, who = 'encoder config', names: FieldNames = {}): void {
  const n = (field: string) => names[field] ?? field;
  for (const key of POSITIVE) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 1) throw new Error(`${who}: ${n(key)} must be a positive integer, got ${String(config[key])}`);
  }
  if (!Number.isSafeInteger(config.typeVocabSize) || config.typeVocabSize < 0) throw new Error(`${who}: ${n('typeVocabSize')} must be an integer >= 0, got ${String(config.typeVocabSize)}`);
  if (config.hiddenSize % config.numHeads !== 0) throw new Error(`${who}: ${n('hiddenSize')} ${config.hiddenSize} is not divisible by ${n('numHeads')} ${config.numHeads}`);
  if (!Number.isSafeInteger(config.padTokenId) || config.padTokenId < 0 || config.padTokenId >= config.vocabSize) {
    throw new Error(`${who}: ${n('padTokenId')} ${config.padTokenId} is outside ${n('vocabSize')} ${config.vocabSize}`);
  }
  if (config.positionOffset >= config.maxPositions) {
    throw new Error(`${who}: RoBERTa numbers positions from ${n('padTokenId')} + 1 = ${config.positionOffset}, which leaves no room in ${n('maxPositions')} ${config.maxPositions}`);
  }
  if (config.modelType === 'albert' && config.numLayers % config.numHiddenGroups !== 0) {
    throw new Error(`${who}: ${n('numLayers')} ${config.numLayers} is not divisible by ${n('numHiddenGroups')} ${config.numHiddenGroups}`);
  }
  if (config.modelType === 'modernbert') {
    if (config.layerTypes.length !== config.numLayers || config.layerTypes.some((t) => t !== 'global' && t !== 'local')) {
      throw new Error(`${who}: ${n('layerTypes')} must give 'global' or 'local' for each of the ${config.numLayers} layers, got ${JSON.stringify(config.layerTypes)}`);
    }
    if (!Number.isSafeInteger(config.localAttention) || config.localAttention < 2 || config.localAttention % 2 !== 0) {
      throw new Error(`${who}: ${n('localAttention')} must be even (a window of +-${n('localAttention')}/2), got ${config.localAttention}`);
    }
  }
  if (config.modelType === 'gpt_neo') {
    if (config.attentionLayers.length !== config.numLayers || config.attentionLayers.some((t) => t !== 'global' && t !== 'local')) {
      throw new Error(`${who}: ${n('attentionLayers')} must give 'global' or 'local' for each of the ${config.numLayers} layers, got ${JSON.stringify(config.attentionLayers)}`);
    }
    if (!Number.isSafeInteger(config.windowSize) || config.windowSize < 1) throw new Error(`${who}: ${n('windowSize')} must be a positive integer, got ${String(config.windowSize)}`);
  }
}

/** Longest input in subwords the position table holds (RoBERTa: maxPositions - padTokenId - 1, so 512 of 514). */
export function maxInputLength(config: EncoderConfig): number {
  return config.maxPositions - config.positionOffset;
}
