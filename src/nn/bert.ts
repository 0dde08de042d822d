// BERT as Hugging Face's modeling_bert lays it out: BertEmbeddings -> BertEncoder (N post-LN
// BertLayers) -> optional BertPooler. Parameter names are HF's (embeddings.word_embeddings.weight,
// encoder.layer.0.attention.self.query.weight, ...), so a checkpoint's state dict loads as it is.
// RoBERTa is this model with model_type 'roberta' (modeling_roberta differs only in its embeddings:
// position ids start at pad_token_id + 1 and padding keeps pad_token_id; one token type).
// B = batch, S = subword positions, H = hidden, I = intermediate (feed-forward) size

import { Tensor, tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { add, gelu, mul, pow, relu, slice, tanh, reshape } from '../ops/index.js';
import { Module } from './module.js';
import { Dropout, Embedding, LayerNorm, Linear } from './linear.js';
import { MultiHeadAttention, attentionBias, type AttentionOptions } from './attention.js';
import { readHost } from './host.js';

/** The fields of a Hugging Face BERT config.json that this implementation reads. */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu' | 'relu' | 'gelu_new' | 'gelu_pytorch_tanh';
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  initializer_range?: number;
  /** Padding id; RoBERTa also numbers positions from it (default 0, RoBERTa 1). */
  pad_token_id?: number;
  /** 'bert' (default) or 'roberta'; other architectures have their own modules (src/nn/encoders.ts). */
  model_type?: string;
  /** HF's name for the kind of position embeddings; only 'absolute' is supported. */
  position_embedding_type?: string;
}

/** bert-base-uncased's values; a partial config overrides them. */
export const BERT_BASE: BertConfig = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  initializer_range: 0.02,
  pad_token_id: 0,
};

/** A full config from a partial one (e.g. a parsed config.json); checks what would fail later. */
export function bertConfig(partial: Partial<BertConfig>): BertConfig {
  const config = { ...BERT_BASE, ...partial };
  if (partial.model_type !== undefined && partial.model_type !== 'bert' && partial.model_type !== 'roberta') {
    throw new Error(`BertConfig: model_type '${partial.model_type}' is not BERT or RoBERTa; build it with createEncoder (src/nn/encoders.ts)`);
  }
  // transformers' RobertaConfig defaults pad_token_id to 1 (<pad>), BertConfig to 0.
  config.pad_token_id = partial.pad_token_id ?? (partial.model_type === 'roberta' ? 1 : 0);
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`BertConfig: ${key} must be a positive integer, got ${String(config[key])}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`BertConfig: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }
  if (!['gelu', 'relu', 'gelu_new', 'gelu_pytorch_tanh'].includes(config.hidden_act)) {
    throw new Error(`BertConfig: hidden_act '${config.hidden_act}' is not supported (gelu, relu, gelu_new, gelu_pytorch_tanh)`);
  }
  if (config.position_embedding_type !== undefined && config.position_embedding_type !== 'absolute') {
    throw new Error(`BertConfig: position_embedding_type '${config.position_embedding_type}' is not supported (absolute only)`);
  }
  if (config.pad_token_id! < 0 || config.pad_token_id! >= config.vocab_size) throw new Error(`BertConfig: pad_token_id ${config.pad_token_id} is outside vocab_size ${config.vocab_size}`);
  if (positionOffset(config) >= config.max_position_embeddings) {
    throw new Error(`BertConfig: RoBERTa numbers positions from pad_token_id + 1 = ${positionOffset(config)}, which leaves no room in max_position_embeddings ${config.max_position_embeddings}`);
  }
  return config;
}

/** First position id: 0 for BERT; pad_token_id + 1 for RoBERTa (create_position_ids_from_input_ids). */
export function positionOffset(config: BertConfig): number {
  return config.model_type === 'roberta' ? config.pad_token_id! + 1 : 0;
}

/** Longest input in subwords the position table holds (RoBERTa: max_position_embeddings - pad_token_id - 1, so 512 of 514). */
export function maxInputLength(config: BertConfig): number {
  return config.max_position_embeddings - positionOffset(config);
}

function attentionOptions(config: BertConfig): AttentionOptions {
  return {
    hiddenSize: config.hidden_size,
    numHeads: config.num_attention_heads,
    attentionDropout: config.attention_probs_dropout_prob,
    hiddenDropout: config.hidden_dropout_prob,
    layerNormEps: config.layer_norm_eps,
    initStd: config.initializer_range ?? 0.02,
  };
}

/** tanh approximation of GELU (HF 'gelu_new'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanh(x: Tensor): Tensor {
  const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}

export function activation(name: BertConfig['hidden_act'], x: Tensor): Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'relu':
      return relu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
  }
}

/**
 * Word + position + token-type embeddings, then LayerNorm (eps 1e-12) and dropout. With model_type
 * 'roberta' it is HF's RobertaEmbeddings; ALBERT uses it at its embedding_size (AlbertEmbeddings is
 * a copy of BertEmbeddings there).
 */
export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: BertConfig) {
    super();
    const initStd = config.initializer_range ?? 0.02;
    this.word_embeddings = this.child('word_embeddings', new Embedding(config.vocab_size, config.hidden_size, { initStd, paddingIdx: config.pad_token_id }));
    const roberta = config.model_type === 'roberta';
    this.position_embeddings = this.child('position_embeddings', new Embedding(config.max_position_embeddings, config.hidden_size, { initStd, paddingIdx: roberta ? config.pad_token_id : undefined }));
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(config.type_vocab_size, config.hidden_size, { initStd }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(config.hidden_dropout_prob));
  }

  /** inputIds i32 [B, S]; tokenTypeIds i32 [B, S] (zeros when absent) -> [B, S, H]. */
  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null): Tensor {
    if (inputIds.rank !== 2 || inputIds.dtype !== 'i32') throw new Error(`BertEmbeddings: inputIds must be i32 [B, S], got ${inputIds.dtype} ${fmt(inputIds.shape)}`);
    const [batch, length] = inputIds.shape as [number, number];
    const maxLength = maxInputLength(this.config);
    if (length > maxLength) {
      const offset = positionOffset(this.config);
      const table = `max_position_embeddings = ${this.config.max_position_embeddings}${offset ? `, RoBERTa positions from ${offset}: at most ${maxLength} subwords` : ''}`;
      throw new Error(`BertEmbeddings: sequence of ${length} subwords is longer than the position table (${table}); split it into windows (src/text/windows.ts)`);
    }
    const words = this.word_embeddings.forward(inputIds, 'BertEmbeddings.word_embeddings');
    const positionIds = this.positionIds(inputIds);
    const positions = this.position_embeddings.forward(positionIds, 'BertEmbeddings.position_embeddings'); // [S, H] broadcast over B, or [B, S, H]
    let types: Tensor;
    if (tokenTypeIds) {
      if (tokenTypeIds.shape[0] !== batch || tokenTypeIds.shape[1] !== length || tokenTypeIds.rank !== 2) {
        throw new Error(`BertEmbeddings: tokenTypeIds ${fmt(tokenTypeIds.shape)} must match inputIds ${fmt(inputIds.shape)}`);
      }
      types = this.token_type_embeddings.forward(tokenTypeIds, 'BertEmbeddings.token_type_embeddings');
    } else {
      // All segment 0: one row of the table, broadcast.
      types = reshape(slice(this.token_type_embeddings.weight, 0, 0, 1), [1, 1, this.config.hidden_size]);
    }
    // HF's order: (words + types) + positions; float addition is not associative, so it matters at 1e-7.
    return this.dropout.forward(this.LayerNorm.forward(add(add(words, types), positions)));
  }

  /**
   * BERT: 0..S-1 for every row, [S]. RoBERTa (create_position_ids_from_input_ids): per row, the
   * running count of non-pad ids plus pad_token_id on real tokens and pad_token_id on padding,
   * [B, S]. That needs the ids on the host; on a backend that reads asynchronously the rows are
   * numbered pad_token_id + 1 + i throughout, which is the same on every real (left-aligned,
   * pad-free) token, and padding is masked out of attention and pooling anyway.
   */
  private positionIds(inputIds: Tensor): Tensor {
    const [batch, length] = inputIds.shape as [number, number];
    const backend = inputIds.backend;
    const offset = positionOffset(this.config);
    const ids = offset > 0 ? readHost(inputIds) : null;
    if (!ids) return tensor(Int32Array.from({ length }, (_, i) => i + offset), [length], { dtype: 'i32', backend });
    const pad = this.config.pad_token_id!;
    const positions = new Int32Array(batch * length);
    for (let b = 0; b < batch; b++) {
      let count = 0;
      for (let s = 0; s < length; s++) {
        const real = ids[b * length + s] !== pad;
        if (real) count++;
        positions[b * length + s] = real ? count + pad : pad;
      }
    }
    return tensor(positions, [batch, length], { dtype: 'i32', backend });
  }
}

/** HF BertIntermediate: act(dense(x)), H -> I. */
export class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(readonly config: BertConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.intermediate_size, { initStd: config.initializer_range ?? 0.02 }));
  }
  forward(x: Tensor): Tensor {
    return activation(this.config.hidden_act, this.dense.forward(x));
  }
}

/** HF BertOutput: LayerNorm(residual + dropout(dense(x))), I -> H. */
export class BertOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(config: BertConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.intermediate_size, config.hidden_size, { initStd: config.initializer_range ?? 0.02 }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(config.hidden_dropout_prob));
  }
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(x)), residual));
  }
}

/** One post-LN transformer layer: attention block, then feed-forward block, each with its residual + LayerNorm. */
export class BertLayer extends Module {
  readonly attention: MultiHeadAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertOutput;
  constructor(config: BertConfig) {
    super();
    this.attention = this.child('attention', new MultiHeadAttention(attentionOptions(config)));
    this.intermediate = this.child('intermediate', new BertIntermediate(config));
    this.output = this.child('output', new BertOutput(config));
  }
  /** x [B, S, H]; bias [B, 1, 1, S] from attentionBias, or null. */
  forward(x: Tensor, bias: Tensor | null): Tensor {
    const attended = this.attention.forward(x, bias);
    return this.output.forward(this.intermediate.forward(attended), attended);
  }
}

/** A stack of BertLayers named encoder.layer.0, encoder.layer.1, ... */
export class BertEncoder extends Module {
  readonly layer: BertLayer[];
  constructor(config: BertConfig) {
    super();
    const list = this.child('layer', new ModuleList());
    this.layer = Array.from({ length: config.num_hidden_layers }, (_, i) => list.add(String(i), new BertLayer(config)));
  }
  /** x [B, S, H]; attentionMask f32 [B, S] or null -> [B, S, H]. */
  forward(x: Tensor, attentionMask?: Tensor | null): Tensor {
    const bias = attentionMask ? attentionBias(attentionMask) : null;
    let hidden = x;
    for (const layer of this.layer) hidden = layer.forward(hidden, bias);
    return hidden;
  }
}

/** A container whose children are named by their index, as torch.nn.ModuleList. */
export class ModuleList extends Module {
  add<M extends Module>(name: string, module: M): M {
    return this.child(name, module);
  }
}

/** HF BertPooler: tanh(dense(hidden state of [CLS])). */
export class BertPooler extends Module {
  readonly dense: Linear;
  constructor(config: BertConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.hidden_size, { initStd: config.initializer_range ?? 0.02 }));
  }
  forward(hidden: Tensor): Tensor {
    const [batch, , size] = hidden.shape as [number, number, number];
    return tanh(this.dense.forward(reshape(slice(hidden, 1, 0, 1), [batch, size])));
  }
}

export interface BertModelOptions {
  /** Build the pooler (pooler.dense.*); token tagging does not use it. Default false. */
  addPooler?: boolean;
}

export interface BertOutputs {
  lastHiddenState: Tensor; // [B, S, H]
  pooledOutput: Tensor | null; // [B, H]
}

/** HF BertModel (and RobertaModel with model_type 'roberta'): embeddings -> encoder (-> pooler). */
export class BertModel extends Module {
  readonly config: BertConfig;
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;

  constructor(config: Partial<BertConfig> & Pick<BertConfig, 'vocab_size'>, options: BertModelOptions = {}) {
    super();
    this.config = bertConfig(config);
    this.embeddings = this.child('embeddings', new BertEmbeddings(this.config));
    this.encoder = this.child('encoder', new BertEncoder(this.config));
    this.pooler = options.addPooler ? this.child('pooler', new BertPooler(this.config)) : null;
  }

  // The TokenEncoder view (src/nn/encoders.ts) that taggers use for every architecture.
  get modelType(): 'bert' | 'roberta' {
    return this.config.model_type === 'roberta' ? 'roberta' : 'bert';
  }
  get hiddenSize(): number {
    return this.config.hidden_size;
  }
  get maxInputLength(): number {
    return maxInputLength(this.config);
  }
  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }
  get hiddenDropout(): number {
    return this.config.hidden_dropout_prob;
  }
  get initializerRange(): number {
    return this.config.initializer_range ?? 0.02;
  }

  /** inputIds i32 [B, S]; attentionMask f32 [B, S] (1 = real subword); tokenTypeIds i32 [B, S]. */
  forward(inputIds: Tensor, options: { attentionMask?: Tensor | null; tokenTypeIds?: Tensor | null } = {}): BertOutputs {
    const mask = options.attentionMask ?? null;
    if (mask) {
      if (mask.rank !== 2 || mask.shape[0] !== inputIds.shape[0] || mask.shape[1] !== inputIds.shape[1] || mask.dtype !== 'f32') {
        throw new Error(`BertModel: attentionMask must be f32 ${fmt(inputIds.shape)} like inputIds, got ${mask.dtype} ${fmt(mask.shape)}`);
      }
      const values = readHost(mask);
      if (values) {
        const length = mask.shape[1]!;
        for (let b = 0; b < mask.shape[0]!; b++) {
          if (values[b * length] !== 1) throw new Error(`BertModel: attentionMask row ${b} starts with ${values[b * length]}; position 0 ([CLS]) must be attended`);
        }
      }
    }
    const hidden = this.encoder.forward(this.embeddings.forward(inputIds, options.tokenTypeIds), mask);
    return { lastHiddenState: hidden, pooledOutput: this.pooler ? this.pooler.forward(hidden) : null };
  }
}
