// Multi-head self-attention with a padding mask, laid out as Hugging Face's BertAttention
// (attention.self.{query,key,value}, attention.output.{dense,LayerNorm}) so BERT checkpoints
// load by name. Post-LN: LayerNorm(x + dropout(dense(context))), as the original BERT.
// B = batch, S = subword positions, H = hidden, N = heads, D = head size (H / N)

import { Tensor, tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { add, div, matmul, mul, neg, permute, reshape, softmax } from '../ops/index.js';
import { Module } from './module.js';
import { Dropout, LayerNorm, Linear } from './linear.js';

/**
 * Added to the scores of padded keys: torch.finfo(float32).min, as Hugging Face does since
 * v4.21, so exp() of a masked score is exactly 0 and a padded key gets no weight.
 */
export const MASKED_SCORE = -3.4028234663852886e38;

export interface AttentionOptions {
  hiddenSize: number;
  numHeads: number;
  attentionDropout?: number;
  hiddenDropout?: number;
  layerNormEps?: number;
  /** HF init std for the Linear weights; torch's default init when absent. */
  initStd?: number;
}

/** Additive mask bias [B, 1, 1, S] from a 0/1 attention mask [B, S]: 0 where attended, MASKED_SCORE where padded. */
export function attentionBias(attentionMask: Tensor): Tensor {
  if (attentionMask.rank !== 2 || attentionMask.dtype !== 'f32') {
    throw new Error(`attention: attentionMask must be f32 [B, S] of 0/1, got ${attentionMask.dtype} ${fmt(attentionMask.shape)}`);
  }
  const [batch, length] = attentionMask.shape as [number, number];
  // (1 - mask) * min; the mask carries no gradient.
  return reshape(mul(add(neg(attentionMask), 1), MASKED_SCORE), [batch, 1, 1, length]);
}

/**
 * Where 1/sqrt(D) is applied: to the scores after the product (BERT, ALBERT) or to the queries
 * before it (DistilBERT). Each architecture's reference does one, and the two round differently.
 */
export type AttentionScaling = 'scores' | 'query';

/**
 * The attention every BERT-style encoder shares: projected q, k, v [B, S, H] split into N heads,
 * softmax(q k^T / sqrt(D) + bias) through `dropout`, times v, heads merged back: context [B, S, H].
 * bias [B, 1, 1, S] from attentionBias (or null: every key attended).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, numHeads: number, bias: Tensor | null, dropout: Dropout, scaling: AttentionScaling = 'scores'): Tensor {
  const [batch, length, hidden] = q.shape as [number, number, number];
  const headSize = hidden / numHeads;
  const heads = (t: Tensor) => permute(reshape(t, [batch, length, numHeads, headSize]), [0, 2, 1, 3]); // [B, N, S, D]
  const scale = Math.sqrt(headSize);
  const product = matmul(scaling === 'query' ? div(heads(q), scale) : heads(q), heads(k), { transB: true }); // [B, N, S, S]
  let scores = scaling === 'query' ? product : div(product, scale);
  // HF masks padded keys with finfo.min (added or masked_fill'ed: the same softmax, exp -> 0 exactly).
  if (bias) scores = add(scores, bias);
  const probs = dropout.forward(softmax(scores, -1));
  return reshape(permute(matmul(probs, heads(v)), [0, 2, 1, 3]), [batch, length, hidden]); // [B, S, N, D] -> [B, S, H]
}

/** HF BertSelfAttention: scaled dot-product attention of N heads; returns the context [B, S, H]. */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(options: AttentionOptions) {
    super();
    const { hiddenSize, numHeads } = options;
    if (hiddenSize % numHeads !== 0) throw new Error(`BertSelfAttention: hidden size ${hiddenSize} is not a multiple of the number of heads ${numHeads}`);
    this.numHeads = numHeads;
    this.headSize = hiddenSize / numHeads;
    const linear = { initStd: options.initStd };
    this.query = this.child('query', new Linear(hiddenSize, hiddenSize, linear));
    this.key = this.child('key', new Linear(hiddenSize, hiddenSize, linear));
    this.value = this.child('value', new Linear(hiddenSize, hiddenSize, linear));
    this.dropout = this.child('dropout', new Dropout(options.attentionDropout ?? 0));
  }

  /** x [B, S, H]; bias [B, 1, 1, S] from attentionBias (or null: every key attended). */
  forward(x: Tensor, bias: Tensor | null): Tensor {
    return scaledDotProductAttention(this.query.forward(x), this.key.forward(x), this.value.forward(x), this.numHeads, bias, this.dropout);
  }
}

/** HF BertSelfOutput: LayerNorm(residual + dropout(dense(context))). */
export class BertSelfOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(options: AttentionOptions) {
    super();
    this.dense = this.child('dense', new Linear(options.hiddenSize, options.hiddenSize, { initStd: options.initStd }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(options.hiddenSize, options.layerNormEps ?? 1e-12));
    this.dropout = this.child('dropout', new Dropout(options.hiddenDropout ?? 0));
  }

  forward(context: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(context)), residual));
  }
}

/**
 * Multi-head self-attention block with a padding mask, named as HF's BertAttention:
 * parameters `self.query.weight`, ..., `output.dense.weight`, `output.LayerNorm.weight`.
 */
export class MultiHeadAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertSelfOutput;

  constructor(readonly options: AttentionOptions) {
    super();
    this.self = this.child('self', new BertSelfAttention(options));
    this.output = this.child('output', new BertSelfOutput(options));
  }

  /**
   * x [B, S, H]; attentionMask f32 [B, S] (1 = real, 0 = padding) or a precomputed bias
   * [B, 1, 1, S] (BertEncoder computes it once for all layers). Returns [B, S, H].
   */
  forward(x: Tensor, attentionMask?: Tensor | null): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.options.hiddenSize) {
      throw new Error(`MultiHeadAttention: input must be [B, S, ${this.options.hiddenSize}], got ${fmt(x.shape)}`);
    }
    let bias: Tensor | null = null;
    if (attentionMask) {
      const [batch, length] = x.shape as [number, number];
      if (attentionMask.rank === 4) bias = attentionMask;
      else {
        if (attentionMask.rank !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== length) {
          throw new Error(`MultiHeadAttention: attentionMask ${fmt(attentionMask.shape)} must be [${batch}, ${length}] for input ${fmt(x.shape)}`);
        }
        bias = attentionBias(attentionMask);
      }
    }
    return this.output.forward(this.self.forward(x, bias), x);
  }
}

/** BertAttention is the Hugging Face name of the same block. */
export { MultiHeadAttention as BertAttention };
