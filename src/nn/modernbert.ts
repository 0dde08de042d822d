// ModernBERT as Hugging Face's modeling_modernbert lays it out (its eager/sdpa path on padded
// batches): token embeddings -> LayerNorm; per layer a pre-norm block of multi-head attention with
// rotary position embeddings -- global attention every global_attn_every_n_layers layers, a
// sliding window of +-local_attention/2 tokens in the others, each kind with its own rope theta --
// and a GeGLU MLP; a final LayerNorm. No biases in the linears and LayerNorms unless the config
// asks. Parameter names are HF's (embeddings.tok_embeddings.weight, layers.0.attn.Wqkv.weight,
// layers.1.attn_norm.weight, layers.0.mlp.Wi.weight, final_norm.weight, ...; layer 0 has no
// attn_norm), so answerdotai/ModernBERT-base and its biomedical fine-tunes load as they are, plus
// the prediction head (head.dense, head.norm) that HF's masked-LM and token-classification models
// put on the last hidden state: a tagger reads tokenFeatures(), as ModernBertForTokenClassification.
// B = batch, S = subword positions, H = hidden, N = heads, D = head size (H / N), I = intermediate

import { Tensor, ones, tensor, zeros } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fmt } from '../tensor/shape.js';
import { add, geglu, matmul, mul, permute, reshape, rotary, slice, slidingWindowBias, softmax } from '../ops/index.js';
import { layerNorm } from '../ops/fused.js';
import type { ModernBertEncoderConfig, ModernBertFields } from './encoder-config.js';
import { PretrainedEncoder } from './pretrained-encoder.js';
import { Module } from './module.js';
import { Dropout, Embedding, Linear } from './linear.js';
import { attentionBias, MASKED_SCORE } from './attention.js';
import { ModuleList } from './bert.js';
import { activation, checkActivation, type Activation } from './activations.js';
import { checkEncoderInputs, type EncoderInputs } from './encoder-inputs.js';
import { onesInit } from './init.js';

/** nn.LayerNorm(H, eps, bias=norm_bias): ModernBERT's norms have no bias by default (HF: weight only). */
export class ModernBertNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** The zero shift the kernel takes when there is no bias (a constant, not a parameter). */
  private readonly zeroShift: Tensor | null;

  constructor(readonly dim: number, readonly eps: number, bias: boolean) {
    super();
    this.weight = this.param('weight', onesInit([dim]));
    this.bias = bias ? this.param('bias', zeros([dim])) : null;
    this.zeroShift = bias ? null : keep(zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.dim) throw new Error(`ModernBertNorm(${this.dim}): input ${fmt(x.shape)} must end in ${this.dim}`);
    const shift = this.bias ?? this.zeroShift!;
    // A model moved to another backend moves its parameters; the constant follows lazily.
    return layerNorm(x, this.weight, shift.backend === x.backend ? shift : zeros([this.dim], { backend: x.backend }), this.eps);
  }

  override dispose(): void {
    this.zeroShift?.dispose();
    super.dispose();
  }
}

/**
 * cos and sin [S, D/2] of the rotary angles s * theta^(-2i/D), rounded as HF computes them in float32
 * (inv_freq = 1 / theta ** (arange(0, D, 2) / D), then positions @ inv_freq, then cos and sin).
 */
export function rotaryTables(length: number, headSize: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headSize / 2;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let i = 0; i < half; i++) {
    const inverseFrequency = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / headSize))));
    for (let s = 0; s < length; s++) {
      const angle = Math.fround(s * inverseFrequency);
      cos[s * half + i] = Math.cos(angle);
      sin[s * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** HF ModernBertEmbeddings: drop(norm(tok_embeddings(ids))); no position or token-type tables (positions are rotary). */
export class ModernBertEmbeddings extends Module {
  readonly tok_embeddings: Embedding;
  readonly norm: ModernBertNorm;
  readonly drop: Dropout;

  constructor(config: ModernBertEncoderConfig, fields: ModernBertFields, initStd: number) {
    super();
    this.tok_embeddings = this.child('tok_embeddings', new Embedding(config.vocabSize, config.hiddenSize, { initStd, paddingIdx: config.padTokenId }));
    this.norm = this.child('norm', new ModernBertNorm(config.hiddenSize, config.layerNormEps, fields.normBias));
    this.drop = this.child('drop', new Dropout(fields.embeddingDropout));
  }

  forward(inputIds: Tensor): Tensor {
    return this.drop.forward(this.norm.forward(this.tok_embeddings.forward(inputIds, 'ModernBertEmbeddings.tok_embeddings')));
  }
}

/** Rotary tables of one forward pass, per attention kind. */
export interface RotaryTables {
  cos: Tensor;
  sin: Tensor;
}

/** HF ModernBertAttention: Wqkv -> q, k, v; rotary on q and k; scaled dot-product attention under the layer's mask; Wo. */
export class ModernBertAttention extends Module {
  readonly Wqkv: Linear;
  readonly Wo: Linear;
  readonly attentionDrop: Dropout;
  readonly out_drop: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(config: ModernBertEncoderConfig, fields: ModernBertFields, stds: { in: number; out: number }) {
    super();
    const H = config.hiddenSize;
    this.numHeads = config.numHeads;
    this.headSize = H / config.numHeads;
    this.Wqkv = this.child('Wqkv', new Linear(H, 3 * H, { bias: fields.attentionBias, initStd: stds.in }));
    this.Wo = this.child('Wo', new Linear(H, H, { bias: fields.attentionBias, initStd: stds.out }));
    // HF uses attention_dropout twice: on the probabilities and (when > 0) on Wo's output.
    this.attentionDrop = this.child('attention_drop', new Dropout(config.attentionDropout));
    this.out_drop = this.child('out_drop', new Dropout(config.attentionDropout));
  }

  /** x [B, S, H]; bias [B, 1, 1, S] or [B, 1, S, S] (or null: every key attended) -> [B, S, H]. */
  forward(x: Tensor, bias: Tensor | null, rope: RotaryTables): Tensor {
    const [batch, length, hidden] = x.shape as [number, number, number];
    // HF: qkv.view(B, S, 3, N, D).transpose(3, 1).unbind(2): q, k, v each [B, N, S, D].
    const qkv = permute(reshape(this.Wqkv.forward(x), [batch, length, 3, this.numHeads, this.headSize]), [2, 0, 3, 1, 4]); // [3, B, N, S, D]
    const part = (i: number) => reshape(slice(qkv, 0, i, i + 1), [batch, this.numHeads, length, this.headSize]);
    const q = rotary(part(0), rope.cos, rope.sin, 2);
    const k = rotary(part(1), rope.cos, rope.sin, 2);
    const v = part(2);
    // HF multiplies by head_dim ** -0.5 after the product.
    let scores = mul(matmul(q, k, { transB: true }), this.headSize ** -0.5); // [B, N, S, S]
    if (bias) scores = add(scores, bias);
    const probs = this.attentionDrop.forward(softmax(scores, -1));
    const context = reshape(permute(matmul(probs, v), [0, 2, 1, 3]), [batch, length, hidden]);
    return this.out_drop.forward(this.Wo.forward(context));
  }
}

/** HF ModernBertMLP: Wo(drop(act(input) * gate)), [input | gate] = Wi(x) (GeGLU). */
export class ModernBertMlp extends Module {
  readonly Wi: Linear;
  readonly Wo: Linear;
  readonly drop: Dropout;

  constructor(config: ModernBertEncoderConfig, fields: ModernBertFields, stds: { in: number; out: number }) {
    super();
    checkActivation('ModernBertModel (hidden_activation, fused in the GeGLU kernel)', config.hiddenAct, ['gelu']);
    this.Wi = this.child('Wi', new Linear(config.hiddenSize, 2 * config.intermediateSize, { bias: fields.mlpBias, initStd: stds.in }));
    this.Wo = this.child('Wo', new Linear(config.intermediateSize, config.hiddenSize, { bias: fields.mlpBias, initStd: stds.out }));
    this.drop = this.child('drop', new Dropout(fields.mlpDropout));
  }

  forward(x: Tensor): Tensor {
    return this.Wo.forward(this.drop.forward(geglu(this.Wi.forward(x))));
  }
}

/** HF ModernBertEncoderLayer: h + attn(attn_norm(h)), then + mlp(mlp_norm(.)); layer 0's attn_norm is the identity. */
export class ModernBertEncoderLayer extends Module {
  readonly attn_norm: ModernBertNorm | null;
  readonly attn: ModernBertAttention;
  readonly mlp_norm: ModernBertNorm;
  readonly mlp: ModernBertMlp;

  constructor(config: ModernBertEncoderConfig, fields: ModernBertFields, readonly layerId: number, stds: { in: number; out: number }) {
    super();
    const { hiddenSize: H, layerNormEps: eps } = config;
    this.attn_norm = layerId === 0 ? null : this.child('attn_norm', new ModernBertNorm(H, eps, fields.normBias));
    this.attn = this.child('attn', new ModernBertAttention(config, fields, stds));
    this.mlp_norm = this.child('mlp_norm', new ModernBertNorm(H, eps, fields.normBias));
    this.mlp = this.child('mlp', new ModernBertMlp(config, fields, stds));
  }

  forward(hidden: Tensor, bias: Tensor | null, rope: RotaryTables): Tensor {
    const normed = this.attn_norm ? this.attn_norm.forward(hidden) : hidden;
    const attended = add(hidden, this.attn.forward(normed, bias, rope));
    return add(attended, this.mlp.forward(this.mlp_norm.forward(attended)));
  }
}

/** HF ModernBertPredictionHead: norm(act(dense(h))), what ModernBertForTokenClassification's classifier reads. */
export class ModernBertPredictionHead extends Module {
  readonly dense: Linear;
  readonly norm: ModernBertNorm;
  private readonly act: Activation;

  constructor(config: ModernBertEncoderConfig, fields: ModernBertFields, std: number) {
    super();
    this.act = checkActivation('ModernBertPredictionHead (classifier_activation)', fields.classifierActivation);
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, { bias: fields.classifierBias, initStd: std }));
    this.norm = this.child('norm', new ModernBertNorm(config.hiddenSize, config.layerNormEps, fields.normBias));
  }

  forward(hidden: Tensor): Tensor {
    return this.norm.forward(activation(this.act, this.dense.forward(hidden)));
  }
}

/** HF ModernBertModel (+ its prediction head): embeddings -> layers -> final_norm. */
export class ModernBertModel extends PretrainedEncoder<'modernbert'> {
  readonly embeddings: ModernBertEmbeddings;
  readonly layers: ModernBertEncoderLayer[];
  readonly final_norm: ModernBertNorm;
  readonly head: ModernBertPredictionHead;
  readonly fields: ModernBertFields;

  constructor(config: ModernBertEncoderConfig) {
    super(config, ['modernbert']);
    this.fields = config;
    // HF's init stds ('in', 'out' scaled by depth, 'embedding'); HF truncates its normals at +-cutoff * std, these are plain normals.
    const stds = { in: this.initializerRange, out: this.initializerRange / Math.sqrt(2 * config.numLayers) };
    this.embeddings = this.child('embeddings', new ModernBertEmbeddings(config, this.fields, this.initializerRange));
    const list = this.child('layers', new ModuleList());
    this.layers = Array.from({ length: config.numLayers }, (_, i) => list.add(String(i), new ModernBertEncoderLayer(config, this.fields, i, stds)));
    this.final_norm = this.child('final_norm', new ModernBertNorm(config.hiddenSize, config.layerNormEps, this.fields.normBias));
    this.head = this.child('head', new ModernBertPredictionHead(config, this.fields, stds.out));
  }

  /** inputIds i32 [B, S]; attentionMask f32 [B, S] (1 = real subword). No token types (only 0s allowed). */
  forward(inputIds: Tensor, options: EncoderInputs = {}): { lastHiddenState: Tensor } {
    const mask = checkEncoderInputs('ModernBertModel', inputIds, options, 1);
    const [batch, length] = inputIds.shape as [number, number];
    if (length > this.config.maxPositions) {
      throw new Error(`ModernBertModel: sequence of ${length} subwords is longer than max_position_embeddings = ${this.config.maxPositions}; split it into windows (src/text/windows.ts)`);
    }
    const { layerTypes, localAttention, globalRopeTheta, localRopeTheta } = this.fields;
    const headSize = this.hiddenSize / this.config.numHeads;
    const backend = inputIds.backend;
    const tables = (theta: number): RotaryTables => {
      const { cos, sin } = rotaryTables(length, headSize, theta);
      return { cos: tensor(cos, [length, headSize / 2], { backend }), sin: tensor(sin, [length, headSize / 2], { backend }) };
    };
    const hasLocal = layerTypes.includes('local');
    const rope = { global: tables(globalRopeTheta), local: hasLocal ? tables(localRopeTheta) : null };
    // Global layers mask padded keys; local layers also keys farther than local_attention / 2.
    const globalBias = mask ? attentionBias(mask) : null;
    const localBias = hasLocal ? slidingWindowBias(mask ?? ones([batch, length], { backend }), localAttention / 2, MASKED_SCORE) : null;
    let hidden = this.embeddings.forward(inputIds);
    for (const layer of this.layers) {
      const local = layerTypes[layer.layerId] === 'local';
      hidden = layer.forward(hidden, local ? localBias : globalBias, local ? rope.local! : rope.global);
    }
    return { lastHiddenState: this.final_norm.forward(hidden) };
  }

  /** What a token classifier reads: the prediction head on the last hidden state (HF ModernBertForTokenClassification). */
  tokenFeatures(lastHiddenState: Tensor): Tensor {
    return this.head.forward(lastHiddenState);
  }
}
