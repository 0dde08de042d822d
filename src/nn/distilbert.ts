// DistilBERT as Hugging Face's modeling_distilbert lays it out: Embeddings (word + position, no
// token types) -> Transformer of post-LN TransformerBlocks. Parameter names are HF's
// (embeddings.word_embeddings.weight, transformer.layer.0.attention.q_lin.weight,
// transformer.layer.0.sa_layer_norm.weight, transformer.layer.0.ffn.lin1.weight, ...), so
// distilbert-base-* and its biomedical distillations load as they are.
// B = batch, S = subword positions, H = dim, N = heads, D = head size (H / N), I = hidden_dim

import { Tensor, tensor } from '../tensor/tensor.js';
import { add } from '../ops/index.js';
import type { DistilBertEncoderConfig } from './encoder-config.js';
import { PretrainedEncoder } from './pretrained-encoder.js';
import { Module } from './module.js';
import { Dropout, Embedding, LayerNorm, Linear } from './linear.js';
import { attentionBias, scaledDotProductAttention } from './attention.js';
import { ModuleList } from './bert.js';
import { checkActivation } from './activations.js';
import { FeedForward } from './feed-forward.js';
import { checkEncoderInputs, type EncoderInputs } from './encoder-inputs.js';

/** DistilBERT hard-codes LayerNorm's eps (its config has no layer_norm_eps). */
const DISTILBERT_LAYER_NORM_EPS = 1e-12;

/**
 * HF's create_sinusoidal_embeddings: row pos, column j holds sin (j even) or cos (j odd) of
 * pos / 10000^(2 floor(j/2) / dim). Computed in float64 and rounded once, as numpy does there.
 */
export function sinusoidalTable(positions: number, dim: number): Float32Array {
  const table = new Float32Array(positions * dim);
  for (let pos = 0; pos < positions; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      table[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return table;
}

/** HF Embeddings: LayerNorm(word + position) then dropout; no token-type table. */
export class DistilBertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: DistilBertEncoderConfig, initStd: number) {
    super();
    const { vocabSize, hiddenSize, maxPositions } = config;
    this.word_embeddings = this.child('word_embeddings', new Embedding(vocabSize, hiddenSize, { initStd, paddingIdx: config.padTokenId }));
    this.position_embeddings = this.child('position_embeddings', new Embedding(maxPositions, hiddenSize, { initStd }));
    if (config.sinusoidalPositions) {
      // sinusoidal_pos_embds: a fixed table HF stores with requires_grad = False; it stays a
      // parameter (it is in the state dict) but gets no gradient, so no optimizer moves it.
      const weight = this.position_embeddings.weight;
      const fixed = tensor(sinusoidalTable(maxPositions, hiddenSize), [maxPositions, hiddenSize], { backend: weight.backend });
      weight.assign(fixed);
      fixed.dispose();
      weight.setRequiresGrad(false);
    }
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(hiddenSize, DISTILBERT_LAYER_NORM_EPS));
    this.dropout = this.child('dropout', new Dropout(config.hiddenDropout));
  }

  /** inputIds i32 [B, S] -> [B, S, H]. */
  forward(inputIds: Tensor): Tensor {
    const length = inputIds.shape[1]!;
    if (length > this.config.maxPositions) {
      throw new Error(`DistilBertEmbeddings: sequence of ${length} subwords is longer than the position table (max_position_embeddings = ${this.config.maxPositions}); split it into windows (src/text/windows.ts)`);
    }
    const words = this.word_embeddings.forward(inputIds, 'DistilBertEmbeddings.word_embeddings');
    const positionIds = tensor(Int32Array.from({ length }, (_, i) => i), [length], { dtype: 'i32', backend: inputIds.backend });
    const positions = this.position_embeddings.forward(positionIds, 'DistilBertEmbeddings.position_embeddings'); // [S, H], broadcast over B
    return this.dropout.forward(this.LayerNorm.forward(add(words, positions)));
  }
}

/** HF MultiHeadSelfAttention: q_lin, k_lin, v_lin, out_lin; no residual or LayerNorm inside. */
export class DistilBertSelfAttention extends Module {
  readonly q_lin: Linear;
  readonly k_lin: Linear;
  readonly v_lin: Linear;
  readonly out_lin: Linear;
  readonly dropout: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(config: DistilBertEncoderConfig, initStd: number) {
    super();
    const H = config.hiddenSize;
    this.numHeads = config.numHeads;
    this.headSize = H / config.numHeads;
    this.q_lin = this.child('q_lin', new Linear(H, H, { initStd }));
    this.k_lin = this.child('k_lin', new Linear(H, H, { initStd }));
    this.v_lin = this.child('v_lin', new Linear(H, H, { initStd }));
    this.out_lin = this.child('out_lin', new Linear(H, H, { initStd }));
    this.dropout = this.child('dropout', new Dropout(config.attentionDropout));
  }

  /** x [B, S, H]; bias [B, 1, 1, S] from attentionBias or null -> [B, S, H]. */
  forward(x: Tensor, bias: Tensor | null): Tensor {
    // HF scales q before the product (BERT scales the scores after it).
    const context = scaledDotProductAttention(this.q_lin.forward(x), this.k_lin.forward(x), this.v_lin.forward(x), this.numHeads, bias, this.dropout, 'query');
    return this.out_lin.forward(context);
  }
}

/** HF FFN: dropout(lin2(activation(lin1(x)))), H -> I -> H. */
export class DistilBertFfn extends FeedForward {
  constructor(config: DistilBertEncoderConfig, initStd: number) {
    super(['lin1', 'lin2'], config, checkActivation('DistilBertModel', config.hiddenAct, ['gelu', 'relu']), initStd);
  }
}

/** HF TransformerBlock: sa_layer_norm(attention(x) + x), then output_layer_norm(ffn(.) + .). */
export class TransformerBlock extends Module {
  readonly attention: DistilBertSelfAttention;
  readonly sa_layer_norm: LayerNorm;
  readonly ffn: DistilBertFfn;
  readonly output_layer_norm: LayerNorm;

  constructor(config: DistilBertEncoderConfig, initStd: number) {
    super();
    this.attention = this.child('attention', new DistilBertSelfAttention(config, initStd));
    this.sa_layer_norm = this.child('sa_layer_norm', new LayerNorm(config.hiddenSize, DISTILBERT_LAYER_NORM_EPS));
    this.ffn = this.child('ffn', new DistilBertFfn(config, initStd));
    this.output_layer_norm = this.child('output_layer_norm', new LayerNorm(config.hiddenSize, DISTILBERT_LAYER_NORM_EPS));
  }

  forward(x: Tensor, bias: Tensor | null): Tensor {
    const attended = this.sa_layer_norm.forward(add(this.attention.forward(x, bias), x));
    return this.output_layer_norm.forward(add(this.ffn.forward(attended), attended));
  }
}

/** HF Transformer: transformer.layer.0 ... transformer.layer.{n_layers - 1}. */
export class DistilBertTransformer extends Module {
  readonly layer: TransformerBlock[];

  constructor(config: DistilBertEncoderConfig, initStd: number) {
    super();
    const list = this.child('layer', new ModuleList());
    this.layer = Array.from({ length: config.numLayers }, (_, i) => list.add(String(i), new TransformerBlock(config, initStd)));
  }

  forward(x: Tensor, bias: Tensor | null): Tensor {
    let hidden = x;
    for (const block of this.layer) hidden = block.forward(hidden, bias);
    return hidden;
  }
}

/** HF DistilBertModel: embeddings -> transformer; the last block's output is the last hidden state. */
export class DistilBertModel extends PretrainedEncoder<'distilbert'> {
  readonly embeddings: DistilBertEmbeddings;
  readonly transformer: DistilBertTransformer;

  constructor(config: DistilBertEncoderConfig) {
    super(config, ['distilbert']);
    this.embeddings = this.child('embeddings', new DistilBertEmbeddings(config, this.initializerRange));
    this.transformer = this.child('transformer', new DistilBertTransformer(config, this.initializerRange));
  }

  /** inputIds i32 [B, S]; attentionMask f32 [B, S] (1 = real subword). DistilBERT has no token types: tokenTypeIds must be absent or all 0. */
  forward(inputIds: Tensor, options: EncoderInputs = {}): { lastHiddenState: Tensor } {
    const mask = checkEncoderInputs('DistilBertModel', inputIds, options, 1);
    const bias = mask ? attentionBias(mask) : null;
    return { lastHiddenState: this.transformer.forward(this.embeddings.forward(inputIds), bias) };
  }
}
