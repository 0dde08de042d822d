// GPT-Neo as Hugging Face's modeling_gpt_neo lays it out: word (wte) + learned position (wpe)
// embeddings, then pre-LN blocks h.N (ln_1 -> causal self-attention -> residual, ln_2 -> MLP ->
// residual), then ln_f. Layers alternate, as config attention_types says, between global causal
// attention (every earlier token) and local causal attention (the last window_size tokens).
// Parameter names are HF's (wte.weight, h.0.attn.attention.q_proj.weight, h.0.mlp.c_fc.weight,
// ln_f.weight, ...), so EleutherAI's gpt-neo checkpoints load as they are.
//
// A causal decoder used as a tagger's encoder sees only the left context of each token; a BiLSTM
// on top (bert-bilstm-crf) gives each word its right context back.
// B = batch, S = subword positions, H = hidden, N = heads, D = head size (H / N), I = intermediate

import { Tensor, tensor } from '../tensor/tensor.js';
import { add, matmul, mul, neg, permute, reshape, softmax, where } from '../ops/index.js';
import type { GptNeoAttention, GptNeoEncoderConfig } from './encoder-config.js';
import { PretrainedEncoder } from './pretrained-encoder.js';
import { Module } from './module.js';
import { Dropout, Embedding, LayerNorm, Linear } from './linear.js';
import { MASKED_SCORE } from './attention.js';
import { ModuleList } from './bert.js';
import { checkActivation } from './activations.js';
import { FeedForward } from './feed-forward.js';
import { checkEncoderInputs, type EncoderInputs } from './encoder-inputs.js';
import { lengthsFromMask, readHost } from './host.js';

/**
 * allowed[i, j] = 1 where query i may attend to key j: j <= i (causal), and for a local layer also
 * i - j < windowSize -- HF's tril(ones) ^ tril(ones, -window_size). Row-major [S, S].
 */
export function causalPattern(length: number, windowSize: number | null): Float32Array {
  const allowed = new Float32Array(length * length);
  for (let i = 0; i < length; i++) {
    const first = windowSize === null ? 0 : Math.max(0, i - windowSize + 1);
    allowed.fill(1, i * length + first, i * length + i + 1);
  }
  return allowed;
}

/**
 * How GPT-Neo hides a score. HF replaces a causally hidden score by finfo.min (torch.where, so no
 * gradient reaches it) and then adds (1 - mask) * finfo.min for padded keys (an addition, so the
 * gradient does reach a padded key's score), which makes a key hidden both ways -inf. The softmax
 * depends only on which of three classes a key is in -- visible, hidden once, hidden twice -- as
 * long as the classes keep their order and sit far below any real score: a row whose keys are all
 * hidden (a padded position more than window_size past the last real token) spreads its weight
 * evenly over the keys hidden once, as HF's does. We use min/2 for each way of hiding, so twice is
 * min: the same classes, the same gradients, and no infinities on either backend.
 */
export const HIDDEN_SCORE = MASKED_SCORE / 2;

/** Where a score is hidden for one attention kind, and how padding is hidden: what every layer of that kind needs. */
export interface GptNeoMasks {
  /** [1, 1, S, S] 0/1 from causalPattern: 1 where the query may see the key. */
  allowed: Tensor;
  /** [B, 1, 1, S]: HIDDEN_SCORE on padded keys, 0 elsewhere; null without an attention mask. */
  padding: Tensor | null;
}

/** HF GPTNeoSelfAttention: q_proj, k_proj, v_proj without bias, out_proj with; scores not scaled by 1/sqrt(D). */
export class GptNeoSelfAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  readonly attn_dropout: Dropout;
  readonly resid_dropout: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(config: GptNeoEncoderConfig, readonly attentionType: GptNeoAttention, initStd: number) {
    super();
    const H = config.hiddenSize;
    this.numHeads = config.numHeads;
    this.headSize = H / config.numHeads;
    this.attn_dropout = this.child('attn_dropout', new Dropout(config.attentionDropout));
    this.resid_dropout = this.child('resid_dropout', new Dropout(config.hiddenDropout));
    this.k_proj = this.child('k_proj', new Linear(H, H, { initStd, bias: false }));
    this.v_proj = this.child('v_proj', new Linear(H, H, { initStd, bias: false }));
    this.q_proj = this.child('q_proj', new Linear(H, H, { initStd, bias: false }));
    this.out_proj = this.child('out_proj', new Linear(H, H, { initStd }));
  }

  /** x [B, S, H]; masks of this layer's kind -> [B, S, H]. */
  forward(x: Tensor, masks: GptNeoMasks): Tensor {
    const [batch, length, hidden] = x.shape as [number, number, number];
    const heads = (t: Tensor) => permute(reshape(t, [batch, length, this.numHeads, this.headSize]), [0, 2, 1, 3]); // [B, N, S, D]
    const q = heads(this.q_proj.forward(x));
    const k = heads(this.k_proj.forward(x));
    const v = heads(this.v_proj.forward(x));
    // GPT-Neo does not scale q.k by 1/sqrt(D): mesh-tensorflow's GPT-Neo folded it into the init.
    let scores = where(masks.allowed, matmul(q, k, { transB: true }), HIDDEN_SCORE); // [B, N, S, S]
    if (masks.padding) scores = add(scores, masks.padding);
    const probs = this.attn_dropout.forward(softmax(scores, -1));
    const context = reshape(permute(matmul(probs, v), [0, 2, 1, 3]), [batch, length, hidden]);
    return this.resid_dropout.forward(this.out_proj.forward(context));
  }
}

/** HF GPTNeoAttention: a wrapper that only picks the kind, kept for the parameter names (attn.attention.*). */
export class GptNeoAttentionBlock extends Module {
  readonly attention: GptNeoSelfAttention;

  constructor(config: GptNeoEncoderConfig, readonly attentionType: GptNeoAttention, initStd: number) {
    super();
    this.attention = this.child('attention', new GptNeoSelfAttention(config, attentionType, initStd));
  }

  forward(x: Tensor, masks: GptNeoMasks): Tensor {
    return this.attention.forward(x, masks);
  }
}

/** HF GPTNeoMLP: dropout(c_proj(act(c_fc(x)))), H -> I -> H. */
export class GptNeoMlp extends FeedForward {
  constructor(config: GptNeoEncoderConfig, initStd: number) {
    super(['c_fc', 'c_proj'], config, checkActivation('GptNeoModel', config.hiddenAct), initStd);
  }
}

/** HF GPTNeoBlock (pre-LN): h = x + attn(ln_1(x)); h + mlp(ln_2(h)). */
export class GptNeoBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GptNeoAttentionBlock;
  readonly ln_2: LayerNorm;
  readonly mlp: GptNeoMlp;

  constructor(config: GptNeoEncoderConfig, readonly attentionType: GptNeoAttention, initStd: number) {
    super();
    this.ln_1 = this.child('ln_1', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.attn = this.child('attn', new GptNeoAttentionBlock(config, attentionType, initStd));
    this.ln_2 = this.child('ln_2', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.mlp = this.child('mlp', new GptNeoMlp(config, initStd));
  }

  forward(x: Tensor, masks: GptNeoMasks): Tensor {
    const h = add(this.attn.forward(this.ln_1.forward(x), masks), x);
    return add(this.mlp.forward(this.ln_2.forward(h)), h);
  }
}

/**
 * HF GPTNeoModel as a token encoder: ids -> last hidden state (after ln_f). Positions are 0..S-1
 * for every row, as HF numbers them when no position_ids are given, so batches must be right-padded
 * (the attention mask a prefix of ones), which is how HF pads GPT-Neo for token classification.
 */
export class GptNeoModel extends PretrainedEncoder<'gpt_neo'> {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: GptNeoBlock[];
  readonly ln_f: LayerNorm;
  readonly attentionLayers: readonly GptNeoAttention[];
  readonly windowSize: number;

  constructor(config: GptNeoEncoderConfig) {
    super(config, ['gpt_neo']);
    this.attentionLayers = config.attentionLayers;
    this.windowSize = config.windowSize;
    const initStd = this.initializerRange;
    this.wte = this.child('wte', new Embedding(config.vocabSize, config.hiddenSize, { initStd }));
    this.wpe = this.child('wpe', new Embedding(config.maxPositions, config.hiddenSize, { initStd }));
    this.drop = this.child('drop', new Dropout(config.embedDropout));
    const list = this.child('h', new ModuleList());
    this.h = this.attentionLayers.map((kind, i) => list.add(String(i), new GptNeoBlock(config, kind, initStd)));
    this.ln_f = this.child('ln_f', new LayerNorm(config.hiddenSize, config.layerNormEps));
  }

  /** classifier_dropout: HF's GPTNeoForTokenClassification drops out the hidden states at this rate before its classifier. */
  override get hiddenDropout(): number {
    return this.config.classifierDropout;
  }

  /**
   * inputIds i32 [B, S]; attentionMask f32 [B, S], a prefix of ones per row (right padding). GPT-Neo
   * has no token types: tokenTypeIds must be absent or all 0 (HF would add wte(token type) to every
   * position; GPT-2's tokenizer never passes them).
   */
  forward(inputIds: Tensor, options: EncoderInputs = {}): { lastHiddenState: Tensor } {
    const mask = checkEncoderInputs('GptNeoModel', inputIds, options, 1);
    const [batch, length] = inputIds.shape as [number, number];
    if (length > this.config.maxPositions) {
      throw new Error(`GptNeoModel: sequence of ${length} subwords is longer than the position table (max_position_embeddings = ${this.config.maxPositions}); split it into windows (src/text/windows.ts)`);
    }
    const hostMask = mask ? readHost(mask) : null;
    // Positions count from 0 in every row, so padding must come last; a left-padded row would shift them.
    if (hostMask) lengthsFromMask(hostMask, batch, length, 'GptNeoModel: attentionMask (GPT-Neo batches are right-padded)');

    const backend = inputIds.backend;
    const positionIds = tensor(Int32Array.from({ length }, (_, i) => i), [length], { dtype: 'i32', backend });
    const words = this.wte.forward(inputIds, 'GptNeoModel.wte');
    let hidden = this.drop.forward(add(words, this.wpe.forward(positionIds, 'GptNeoModel.wpe'))); // [B, S, H]

    // The padding bias once, and one causal pattern per attention kind, shared by the layers of that kind.
    const padding = mask ? mul(reshape(add(neg(mask), 1), [batch, 1, 1, length]), HIDDEN_SCORE) : null;
    const masks = new Map<GptNeoAttention, GptNeoMasks>();
    const masksFor = (kind: GptNeoAttention): GptNeoMasks => {
      let found = masks.get(kind);
      if (!found) {
        const allowed = tensor(causalPattern(length, kind === 'local' ? this.windowSize : null), [1, 1, length, length], { backend });
        found = { allowed, padding };
        masks.set(kind, found);
      }
      return found;
    };
    for (const block of this.h) hidden = block.forward(hidden, masksFor(block.attentionType));
    return { lastHiddenState: this.ln_f.forward(hidden) };
  }
}
