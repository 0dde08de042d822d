// BERT as Hugging Face's modeling_bert lays it out: BertEmbeddings -> BertEncoder (N post-LN
// BertLayers) -> optional BertPooler. Parameter names are HF's (embeddings.word_embeddings.weight,
// encoder.layer.0.attention.self.query.weight, ...), so a checkpoint's state dict loads as it is.
// RoBERTa is this model with model_type 'roberta' (modeling_roberta differs only in its embeddings:
// position ids start at pad_token_id + 1 and padding keeps pad_token_id; one token type).
// B = batch, S = subword positions, H = hidden, I = intermediate (feed-forward) size

import { Tensor, tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { add, slice, tanh, reshape } from '../ops/index.js';
import { Module } from './module.js';
import { Dropout, Embedding, LayerNorm, Linear } from './linear.js';
import { MultiHeadAttention, attentionBias, type AttentionOptions } from './attention.js';
import { activation, checkActivation, type Activation } from './activations.js';
import { maxInputLength, type BertEncoderConfig, type EncoderConfig } from './encoder-config.js';
import { PretrainedEncoder } from './pretrained-encoder.js';
import { readHost } from './host.js';

/** The attention block's settings from an encoder config. */
export function attentionOptions(config: EncoderConfig): AttentionOptions {
  return {
    hiddenSize: config.hiddenSize,
    numHeads: config.numHeads,
    attentionDropout: config.attentionDropout,
    hiddenDropout: config.hiddenDropout,
    layerNormEps: config.layerNormEps,
    initStd: config.initializerRange,
  };
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

  /** `width`: the embedding width, hiddenSize (ALBERT: its embeddingSize). */
  constructor(readonly config: EncoderConfig, readonly width = config.hiddenSize) {
    super();
    const initStd = config.initializerRange;
    this.word_embeddings = this.child('word_embeddings', new Embedding(config.vocabSize, width, { initStd, paddingIdx: config.padTokenId }));
    const roberta = config.modelType === 'roberta';
    this.position_embeddings = this.child('position_embeddings', new Embedding(config.maxPositions, width, { initStd, paddingIdx: roberta ? config.padTokenId : undefined }));
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(config.typeVocabSize, width, { initStd }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(width, config.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(config.hiddenDropout));
  }

  /** inputIds i32 [B, S]; tokenTypeIds i32 [B, S] (zeros when absent) -> [B, S, H]. */
  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null): Tensor {
    if (inputIds.rank !== 2 || inputIds.dtype !== 'i32') throw new Error(`BertEmbeddings: inputIds must be i32 [B, S], got ${inputIds.dtype} ${fmt(inputIds.shape)}`);
    const [batch, length] = inputIds.shape as [number, number];
    const maxLength = maxInputLength(this.config);
    if (length > maxLength) {
      const offset = this.config.positionOffset;
      const table = `max_position_embeddings = ${this.config.maxPositions}${offset ? `, RoBERTa positions from ${offset}: at most ${maxLength} subwords` : ''}`;
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
      types = reshape(slice(this.token_type_embeddings.weight, 0, 0, 1), [1, 1, this.width]);
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
    const offset = this.config.positionOffset;
    const ids = offset > 0 ? readHost(inputIds) : null;
    if (!ids) return tensor(Int32Array.from({ length }, (_, i) => i + offset), [length], { dtype: 'i32', backend });
    const pad = this.config.padTokenId;
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
  private readonly act: Activation;
  constructor(config: EncoderConfig) {
    super();
    this.act = checkActivation('BertIntermediate', config.hiddenAct);
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.intermediateSize, { initStd: config.initializerRange }));
  }
  forward(x: Tensor): Tensor {
    return activation(this.act, this.dense.forward(x));
  }
}

/** HF BertOutput: LayerNorm(residual + dropout(dense(x))), I -> H. */
export class BertOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(config: EncoderConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.intermediateSize, config.hiddenSize, { initStd: config.initializerRange }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(config.hiddenDropout));
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
  constructor(config: EncoderConfig) {
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
  constructor(config: EncoderConfig) {
    super();
    const list = this.child('layer', new ModuleList());
    this.layer = Array.from({ length: config.numLayers }, (_, i) => list.add(String(i), new BertLayer(config)));
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
  constructor(config: EncoderConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, { initStd: config.initializerRange }));
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
export class BertModel extends PretrainedEncoder<'bert' | 'roberta'> {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;

  /** `config`: encoderConfig({ ... }) (src/nn/encoder-config.ts), or a Hugging Face config.json read by parseHfConfig. */
  constructor(config: BertEncoderConfig, options: BertModelOptions = {}) {
    super(config, ['bert', 'roberta']);
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
