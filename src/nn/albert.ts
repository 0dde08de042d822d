// ALBERT as Hugging Face's modeling_albert lays it out: embeddings of width embedding_size (E),
// projected to hidden_size by encoder.embedding_hidden_mapping_in, then num_hidden_layers
// applications of shared layers: num_hidden_groups groups (encoder.albert_layer_groups.g) of
// inner_group_num layers (albert_layers.j), so ALBERT's parameter names load as they are.
// B = batch, S = subword positions, E = embedding size, H = hidden, N = heads, D = H / N, I = intermediate

import type { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/index.js';
import type { AlbertEncoderConfig } from './encoder-config.js';
import { PretrainedEncoder } from './pretrained-encoder.js';
import { Module } from './module.js';
import { Dropout, LayerNorm, Linear } from './linear.js';
import { attentionBias, scaledDotProductAttention } from './attention.js';
import { BertEmbeddings, ModuleList } from './bert.js';
import { activation, checkActivation, type Activation } from './activations.js';
import { checkEncoderInputs, type EncoderInputs } from './encoder-inputs.js';

/**
 * HF AlbertAttention: BERT's attention (scaledDotProductAttention) with query/key/value/dense and
 * LayerNorm in one module, where BERT splits them into self/output; the names are HF's.
 */
export class AlbertAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly attention_dropout: Dropout;
  readonly output_dropout: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(config: AlbertEncoderConfig, initStd: number) {
    super();
    const H = config.hiddenSize;
    this.numHeads = config.numHeads;
    this.headSize = H / config.numHeads;
    this.query = this.child('query', new Linear(H, H, { initStd }));
    this.key = this.child('key', new Linear(H, H, { initStd }));
    this.value = this.child('value', new Linear(H, H, { initStd }));
    this.attention_dropout = this.child('attention_dropout', new Dropout(config.attentionDropout));
    this.output_dropout = this.child('output_dropout', new Dropout(config.hiddenDropout));
    this.dense = this.child('dense', new Linear(H, H, { initStd }));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(H, config.layerNormEps));
  }

  /** x [B, S, H]; bias [B, 1, 1, S] or null -> LayerNorm(x + dropout(dense(context))) [B, S, H]. */
  forward(x: Tensor, bias: Tensor | null): Tensor {
    const context = scaledDotProductAttention(this.query.forward(x), this.key.forward(x), this.value.forward(x), this.numHeads, bias, this.attention_dropout);
    return this.LayerNorm.forward(add(x, this.output_dropout.forward(this.dense.forward(context))));
  }
}

/**
 * HF AlbertLayer: full_layer_layer_norm(ffn_output(act(ffn(a))) + a) with a = attention(x).
 * HF defines a dropout here but never applies it; neither do we.
 */
export class AlbertLayer extends Module {
  readonly full_layer_layer_norm: LayerNorm;
  readonly attention: AlbertAttention;
  readonly ffn: Linear;
  readonly ffn_output: Linear;
  private readonly act: Activation;

  constructor(config: AlbertEncoderConfig, initStd: number) {
    super();
    this.act = checkActivation('AlbertModel', config.hiddenAct);
    this.full_layer_layer_norm = this.child('full_layer_layer_norm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.attention = this.child('attention', new AlbertAttention(config, initStd));
    this.ffn = this.child('ffn', new Linear(config.hiddenSize, config.intermediateSize, { initStd }));
    this.ffn_output = this.child('ffn_output', new Linear(config.intermediateSize, config.hiddenSize, { initStd }));
  }

  forward(x: Tensor, bias: Tensor | null): Tensor {
    const attended = this.attention.forward(x, bias);
    const ffn = this.ffn_output.forward(activation(this.act, this.ffn.forward(attended)));
    return this.full_layer_layer_norm.forward(add(ffn, attended));
  }
}

/** HF AlbertLayerGroup: inner_group_num layers applied in turn. */
export class AlbertLayerGroup extends Module {
  readonly albert_layers: AlbertLayer[];

  constructor(config: AlbertEncoderConfig, initStd: number) {
    super();
    const list = this.child('albert_layers', new ModuleList());
    this.albert_layers = Array.from({ length: config.innerGroupNum }, (_, j) => list.add(String(j), new AlbertLayer(config, initStd)));
  }

  forward(x: Tensor, bias: Tensor | null): Tensor {
    let hidden = x;
    for (const layer of this.albert_layers) hidden = layer.forward(hidden, bias);
    return hidden;
  }
}

/** HF AlbertTransformer: E -> H, then layer i runs group floor(i / (num_hidden_layers / num_hidden_groups)). */
export class AlbertTransformer extends Module {
  readonly embedding_hidden_mapping_in: Linear;
  readonly albert_layer_groups: AlbertLayerGroup[];

  constructor(readonly config: AlbertEncoderConfig, initStd: number) {
    super();
    this.embedding_hidden_mapping_in = this.child('embedding_hidden_mapping_in', new Linear(config.embeddingSize, config.hiddenSize, { initStd }));
    const list = this.child('albert_layer_groups', new ModuleList());
    this.albert_layer_groups = Array.from({ length: config.numHiddenGroups }, (_, g) => list.add(String(g), new AlbertLayerGroup(config, initStd)));
  }

  /** Which group the i-th of num_hidden_layers applications runs (HF's int(i / (L / G))). */
  groupOf(layer: number): number {
    return Math.floor(layer / (this.config.numLayers / this.config.numHiddenGroups));
  }

  /** x [B, S, E]; bias [B, 1, 1, S] or null -> [B, S, H]. */
  forward(x: Tensor, bias: Tensor | null): Tensor {
    let hidden = this.embedding_hidden_mapping_in.forward(x);
    for (let i = 0; i < this.config.numLayers; i++) hidden = this.albert_layer_groups[this.groupOf(i)]!.forward(hidden, bias);
    return hidden;
  }
}

/** HF AlbertModel without its pooler: embeddings -> encoder. */
export class AlbertModel extends PretrainedEncoder<'albert'> {
  readonly embeddings: BertEmbeddings;
  readonly encoder: AlbertTransformer;

  constructor(config: AlbertEncoderConfig) {
    super(config, ['albert']);
    // HF's AlbertEmbeddings is BertEmbeddings at width embedding_size.
    this.embeddings = this.child('embeddings', new BertEmbeddings(config, config.embeddingSize));
    this.encoder = this.child('encoder', new AlbertTransformer(config, this.initializerRange));
  }

  /** inputIds i32 [B, S]; attentionMask f32 [B, S]; tokenTypeIds i32 [B, S] -> lastHiddenState [B, S, H]. */
  forward(inputIds: Tensor, options: EncoderInputs = {}): { lastHiddenState: Tensor } {
    const mask = checkEncoderInputs('AlbertModel', inputIds, options, this.config.typeVocabSize);
    const bias = mask ? attentionBias(mask) : null;
    return { lastHiddenState: this.encoder.forward(this.embeddings.forward(inputIds, options.tokenTypeIds), bias) };
  }
}
