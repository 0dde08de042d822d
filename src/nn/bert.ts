// BERT as Hugging Face's modeling_bert lays it out: BertEmbeddings -> BertEncoder (N post-LN
// BertLayers) -> optional BertPooler. Parameter names are HF's (embeddings.word_embeddings.weight,
// encoder.layer.0.attention.self.query.weight, ...), so a checkpoint's state dict loads as it is.
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
  pad_token_id?: number;
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
  return config;
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

/** Word + position + token-type embeddings, then LayerNorm (eps 1e-12) and dropout. */
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
    this.position_embeddings = this.child('position_embeddings', new Embedding(config.max_position_embeddings, config.hidden_size, { initStd }));
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(config.type_vocab_size, config.hidden_size, { initStd }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(config.hidden_dropout_prob));
  }

  /** inputIds i32 [B, S]; tokenTypeIds i32 [B, S] (zeros when absent) -> [B, S, H]. */
  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null): Tensor {
    if (inputIds.rank !== 2 || inputIds.dtype !== 'i32') throw new Error(`BertEmbeddings: inputIds must be i32 [B, S], got ${inputIds.dtype} ${fmt(inputIds.shape)}`);
    const [batch, length] = inputIds.shape as [number, number];
    const maxPositions = this.config.max_position_embeddings;
    if (length > maxPositions) {
      throw new Error(`BertEmbeddings: sequence of ${length} subwords is longer than the position table (max_position_embeddings = ${maxPositions}); split it into windows (src/text/windows.ts)`);
    }
    const words = this.word_embeddings.forward(inputIds, 'BertEmbeddings.word_embeddings');
    const positionIds = tensor(Int32Array.from({ length }, (_, i) => i), [length], { dtype: 'i32', backend: inputIds.backend });
    const positions = this.position_embeddings.forward(positionIds, 'BertEmbeddings.position_embeddings'); // [S, H], broadcast over B
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
    return this.dropout.forward(this.LayerNorm.forward(add(add(words, positions), types)));
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

/** HF BertModel: embeddings -> encoder (-> pooler). */
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
