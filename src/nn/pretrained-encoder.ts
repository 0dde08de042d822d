// What every pretrained encoder (BertModel, DistilBertModel, AlbertModel, ModernBertModel,
// GptNeoModel) shares: its config checked once, and the TokenEncoder view taggers read, derived
// from that config so the five classes do not each write it out.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { checkEncoderConfig, maxInputLength, type EncoderConfigs, type EncoderType } from './encoder-config.js';
import type { EncoderInputs } from './encoder-inputs.js';

/** What a tagger needs of an encoder, whatever its architecture. */
export interface TokenEncoder extends Module {
  readonly modelType: EncoderType;
  /** Width of lastHiddenState. */
  readonly hiddenSize: number;
  /** Longest input, in subwords, the position table allows. */
  readonly maxInputLength: number;
  /** max_position_embeddings: rows of the position table (RoBERTa's first maxPositions - maxInputLength are not used by real tokens). */
  readonly maxPositions: number;
  /** hidden_dropout_prob (DistilBERT: dropout; ModernBERT, GPT-Neo: classifier_dropout); the taggers' default classifier dropout, as HF's. */
  readonly hiddenDropout: number;
  /** initializer_range, for the head layers a tagger adds. */
  readonly initializerRange: number;
  /** inputIds i32 [B, S] -> lastHiddenState [B, S, H]. */
  forward(inputIds: Tensor, options?: EncoderInputs): { lastHiddenState: Tensor };
  /** What a token classifier reads of lastHiddenState [B, S, H], where the HF task model puts a head between them (ModernBERT); absent = lastHiddenState itself. */
  tokenFeatures?(lastHiddenState: Tensor): Tensor;
}

/** The base of the encoder classes: `types` are the model_types the class runs; the rest of TokenEncoder comes from the config. */
export abstract class PretrainedEncoder<T extends EncoderType> extends Module {
  constructor(readonly config: EncoderConfigs[T], types: readonly T[]) {
    super();
    const who = this.constructor.name;
    if (!(types as readonly string[]).includes(config.modelType)) throw new Error(`${who}: config is for '${String(config.modelType)}', not ${types.map((t) => `'${t}'`).join(' or ')}; build it with createEncoder (src/nn/encoders.ts)`);
    checkEncoderConfig(config, who);
  }

  get modelType(): T {
    return this.config.modelType as T;
  }
  get hiddenSize(): number {
    return this.config.hiddenSize;
  }
  /** The position table less RoBERTa's offset; ModernBERT's rotary positions have no table, its maxPositions is the length it was trained to. */
  get maxInputLength(): number {
    return maxInputLength(this.config);
  }
  get maxPositions(): number {
    return this.config.maxPositions;
  }
  get hiddenDropout(): number {
    return this.config.hiddenDropout;
  }
  get initializerRange(): number {
    return this.config.initializerRange;
  }
}
