// One entry point for every pretrained encoder architecture medner loads: BERT (BioBERT,
// BiomedBERT, Bioformer, bert-base-*), RoBERTa, DistilBERT, ALBERT, ModernBERT and GPT-Neo. Each keeps Hugging Face's
// parameter names; the taggers see them all through TokenEncoder.
// B = batch, S = subword positions, H = hidden

import type { Tensor } from '../tensor/tensor.js';
import type { EncoderConfig, EncoderType } from './encoder-config.js';
import type { Module } from './module.js';
import { BertModel } from './bert.js';
import { DistilBertModel } from './distilbert.js';
import { AlbertModel } from './albert.js';
import { ModernBertModel } from './modernbert.js';
import { GptNeoModel } from './gpt-neo.js';
import type { EncoderInputs } from './encoder-inputs.js';

export type { EncoderInputs } from './encoder-inputs.js';

/** What a tagger needs of an encoder, whatever its architecture. */
export interface TokenEncoder extends Module {
  readonly modelType: EncoderType;
  /** Width of lastHiddenState. */
  readonly hiddenSize: number;
  /** Longest input, in subwords, the position table allows. */
  readonly maxInputLength: number;
  /** max_position_embeddings: rows of the position table (RoBERTa's first maxPositions - maxInputLength are not used by real tokens). */
  readonly maxPositions: number;
  /** hidden_dropout_prob (DistilBERT: dropout; GPT-Neo: classifier_dropout); the taggers' default classifier dropout, as HF's. */
  readonly hiddenDropout: number;
  /** initializer_range, for the head layers a tagger adds. */
  readonly initializerRange: number;
  /** inputIds i32 [B, S] -> lastHiddenState [B, S, H]. */
  forward(inputIds: Tensor, options?: EncoderInputs): { lastHiddenState: Tensor };
  /** What a token classifier reads of lastHiddenState [B, S, H], where the HF task model puts a head between them (ModernBERT); absent = lastHiddenState itself. */
  tokenFeatures?(lastHiddenState: Tensor): Tensor;
}

/** A freshly initialised encoder of the architecture `config` names (weights: HF's init, then load a checkpoint). */
export function createEncoder(config: EncoderConfig): TokenEncoder {
  switch (config.modelType) {
    case 'bert':
    case 'roberta':
      return new BertModel(config);
    case 'distilbert':
      return new DistilBertModel(config);
    case 'albert':
      return new AlbertModel(config);
    case 'modernbert':
      return new ModernBertModel(config);
    case 'gpt_neo':
      return new GptNeoModel(config);
  }
}
